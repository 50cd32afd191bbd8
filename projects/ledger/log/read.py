"""What the log's routes and pages read: the checkpoint with its cosignatures, tiles, entry
bundles and an entry's tlog-proof, all from the stored tiles (nothing recomputed but the few
hashes inside a tile a proof needs)."""

from __future__ import annotations

from dataclasses import dataclass

from piccolo.querystring import QueryString

from linju.platform.db import get_engine
from linju.platform.settings import SettingsError
from linju.projects.ledger import read as ledger_read
from linju.projects.ledger.log import merkle, tiles
from linju.projects.ledger.log.merkle import EMPTY_ROOT
from linju.projects.ledger.log.note import Checkpoint, b64, b64decode
from linju.projects.ledger.log.proof import TlogProof
from linju.projects.ledger.log.services import (
    SignedHead,
    latest_checkpoint,
    log_signer,
    quorum,
    read_tiles,
    witnesses,
)
from linju.projects.ledger.log.tables import LogCosignature, LogLeaf


async def _cosignatures(checkpoint_id: int) -> list[tuple[str, str]]:
    """(witness vkey, line) of the configured witnesses' cosignatures on a checkpoint."""
    configured = {w.verifier.vkey() for w in witnesses()}
    if not configured:
        return []
    rows = (
        await LogCosignature.select(LogCosignature.witness, LogCosignature.line)
        .where(LogCosignature.checkpoint == checkpoint_id)
        .order_by(LogCosignature.id)
    )
    return [(r["witness"], r["line"]) for r in rows if r["witness"] in configured]


def _render(head: SignedHead, cosignatures: list[tuple[str, str]]) -> str:
    return head.body + "\n" + head.signature + "".join(line for _, line in cosignatures)


async def checkpoint_text() -> str:
    """The latest checkpoint, signed, with every cosignature gathered so far (the empty tree's,
    signed now, before anything was integrated)."""
    head = await latest_checkpoint()
    if head is None:
        signer = log_signer()
        body = Checkpoint(signer.name, 0, EMPTY_ROOT).text()
        return body + "\n" + signer.sign(body)
    return _render(head, await _cosignatures(head.id))


@dataclass(frozen=True, slots=True)
class WitnessedHead:
    head: SignedHead
    witnesses: tuple[str, ...]  # names of the witnesses whose cosignatures it carries
    text: str


async def head_for(index: int | None = None) -> WitnessedHead | None:
    """The latest checkpoint (covering leaf `index`) carrying the witness quorum, or the latest
    one when no witness is configured; None when there is none yet."""
    need = quorum()
    configured = [w.verifier.vkey() for w in witnesses()]
    if not configured or need == 0:
        head = await latest_checkpoint()
        if head is None or (index is not None and head.size <= index):
            return None
    else:
        marks = ", ".join("{}" for _ in configured)
        rows = await get_engine().run_querystring(
            QueryString(
                "SELECT c.id, c.size, c.root, c.body, c.signature FROM log_checkpoint c "
                "WHERE c.size > {} AND (SELECT count(*) FROM log_cosignature s WHERE "
                f"s.checkpoint = c.id AND s.witness IN ({marks})) >= {{}} "
                "ORDER BY c.size DESC LIMIT 1",
                -1 if index is None else index,
                *configured,
                need,
            )
        )
        if not rows:
            return None
        row = rows[0]
        head = SignedHead(
            row["size"], b64decode(row["root"]), row["body"], row["signature"], row["id"]
        )
    cosignatures = await _cosignatures(head.id)
    names = {w.verifier.vkey(): w.verifier.name for w in witnesses()}
    return WitnessedHead(
        head, tuple(names[v] for v, _ in cosignatures), _render(head, cosignatures)
    )


async def tile(level: int, index: int, width: int) -> bytes | None:
    """A hash tile (level ≥ 0) or an entry bundle (level -1) of `width`, if the latest
    checkpoint covers it (a partial one is cut from the stored tile, which only grows)."""
    head = await latest_checkpoint()
    if head is None or tiles.width_at(level, index, head.size) < width:
        return None
    data = (await read_tiles([(level, index)])).get((level, index))
    if data is None:
        return None
    if level >= 0:
        return data[: width * merkle.HASH_SIZE]
    at = 0
    for _ in range(width):
        at += 2 + int.from_bytes(data[at : at + 2], "big")
    return data[:at]


class NotIntegrated(LookupError):
    """The entry exists but is not yet in a checkpoint the proof can use."""


async def proof_of(slug: str, seq: int) -> tuple[TlogProof, WitnessedHead]:
    """The tlog-proof of entry `seq` of `slug` (NotFound for an unknown project or entry,
    NotIntegrated when it is not yet in a checkpoint with the quorum). A few queries: the
    leaf, the checkpoint (and its cosignatures), and every tile and the bundle at once."""
    row = (
        await LogLeaf.select(LogLeaf.idx)
        .where((LogLeaf.project.slug == slug) & (LogLeaf.seq == seq))
        .first()
    )
    if row is None:
        ledger = await ledger_read.find_ledger(slug)  # NotFound: no project, or a draft
        await ledger_read.entry_at(ledger, seq)  # NotFound: no such entry
        raise NotIntegrated(slug, seq)
    index = int(row["idx"])
    witnessed = await head_for(index)
    if witnessed is None:
        raise NotIntegrated(slug, seq)
    size = witnessed.head.size

    def path(read: merkle.HashReader) -> list[bytes]:
        return merkle.inclusion_proof(index, size, read)

    bundle_key = (-1, index // tiles.WIDTH)
    needed = tiles.tiles_needed(merkle.needed_hashes(path))
    stored = await read_tiles({*needed, bundle_key})
    hashes = path(tiles.reader_over_tiles(stored))
    leaf = list(tiles.unbundle(stored[bundle_key]))[index % tiles.WIDTH]
    return TlogProof(leaf, index, tuple(hashes), witnessed.text), witnessed


@dataclass(frozen=True, slots=True)
class LogSummary:
    """What a page shows of the log beside a project's head: the latest witnessed checkpoint
    (or the latest one without witnesses), who cosigned it, the key, and how far this
    project's entries are in it."""

    size: int
    root: str  # base64, as in the checkpoint
    witnesses: tuple[str, ...]
    witnesses_configured: int
    log_key: str
    integrated_seq: int  # this project's entries 1..integrated_seq have proofs


async def summary(project_id: int | None = None) -> LogSummary | None:
    """None when the log cannot speak (its key is not the origin's: the operator's to fix)."""
    try:
        key = log_signer().verifier.vkey()
    except SettingsError:
        return None
    witnessed = await head_for()
    latest = await latest_checkpoint()
    head = witnessed.head if witnessed else latest
    integrated = 0
    if project_id is not None and head is not None:
        row = (
            await LogLeaf.select(LogLeaf.seq)
            .where((LogLeaf.project == project_id) & (LogLeaf.idx < head.size))
            .order_by(LogLeaf.seq, ascending=False)
            .first()
        )
        integrated = int(row["seq"]) if row else 0
    return LogSummary(
        size=head.size if head else 0,
        root=b64(head.root if head else EMPTY_ROOT),
        witnesses=witnessed.witnesses if witnessed else (),
        witnesses_configured=len(witnesses()),
        log_key=key,
        integrated_seq=integrated,
    )


@dataclass(frozen=True, slots=True)
class EntryPlace:
    """Where an entry stands in the log, for its receipt."""

    index: int
    size: int  # of the checkpoint its proof is made against; 0 when there is none yet
    root: str
    witnesses: tuple[str, ...]
    witnessed: bool  # the checkpoint carries the quorum of configured witnesses
    proof_url: str


async def entry_place(slug: str, seq: int) -> EntryPlace | None:
    """None while the entry is not integrated; else its index and the checkpoint a proof is
    made against (size 0 while no checkpoint carries the witnesses' quorum yet)."""
    row = (
        await LogLeaf.select(LogLeaf.idx)
        .where((LogLeaf.project.slug == slug) & (LogLeaf.seq == seq))
        .first()
    )
    if row is None:
        return None
    index = int(row["idx"])
    witnessed = await head_for(index)
    url = f"/api/v1/projects/{slug}/ledger/{seq}/proof"
    if witnessed is None:
        return EntryPlace(index, 0, "", (), False, url)
    return EntryPlace(
        index,
        witnessed.head.size,
        b64(witnessed.head.root),
        witnessed.witnesses,
        bool(witnesses()) and quorum() > 0,
        url,
    )
