"""The transparency log's use cases: the integrator, the log's key, and the witnesses' answers.

`integrate` is the only writer of the tree (docs/adr/0026-transparency-log.md). In one write
transaction, under a PostgreSQL advisory lock (on SQLite the IMMEDIATE transaction, which
serialises writers, and an in-process lock), it reads the committed ledger entries that follow
each project's cursor, refuses one whose `prev` does not continue its project's last leaf (and
records why), appends the rest as leaves, writes the tiles and entry bundles, checks that the
new tree is consistent with the last signed checkpoint, and only then signs the new one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from piccolo.querystring import QueryString

from linju.platform.db import get_engine, is_postgres, write_transaction
from linju.platform.settings import Settings, SettingsError, get_settings
from linju.projects.ledger.log import merkle, tiles
from linju.projects.ledger.log.merkle import EMPTY_ROOT, ProofError, leaf_hash
from linju.projects.ledger.log.note import (
    ED25519,
    Checkpoint,
    NoteError,
    Signer,
    Verifier,
    b64,
    b64decode,
    new_signer,
    parse_skey,
    parse_vkey,
)
from linju.projects.ledger.log.rules import LeafTooLong, continues, leaf_data
from linju.projects.ledger.log.tables import (
    LogCheckpoint,
    LogCursor,
    LogRefusal,
)

logger = logging.getLogger("linju.log")

INTEGRATE_JOB = "ledger.integrate"
WITNESS_JOB = "ledger.witness"
ADVISORY_LOCK = 0x6C696E6A75_1 & 0x7FFFFFFFFFFFFFFF  # "linju" + 1
BATCH = 2000
CHUNK = 8000  # ids per IN (...), and 4 columns × 2,000 leaves per INSERT


class InconsistentTree(RuntimeError):
    """The stored tree does not extend the last signed checkpoint: nothing is signed."""


# The log's key and the witnesses (settings read once per process)


def _key_from_file(path: Path, origin: str) -> str:
    """The signer key kept in var/log_key, generated once (like the secret key)."""
    try:
        if path.is_file():
            return path.read_text(encoding="utf-8").strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        text = new_signer(origin, ED25519, os.urandom(32)).skey()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
        return text
    except FileExistsError:  # another process made it first
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise SettingsError(f"LINJU_LOG_KEY: cannot read or create {path}: {exc.strerror}") from exc


def signer_for(settings: Settings) -> Signer:
    text = settings.log_key or _key_from_file(settings.var_dir / "log_key", settings.log_origin)
    try:
        signer = parse_skey(text)
    except NoteError as error:
        raise SettingsError(f"LINJU_LOG_KEY: {error}") from None
    if signer.kind != ED25519:
        raise SettingsError("LINJU_LOG_KEY: the log signs with an Ed25519 key of type 0x01")
    if signer.name != settings.log_origin:
        raise SettingsError(
            f"LINJU_LOG_KEY: the key's name {signer.name!r} is not the log's origin "
            f"{settings.log_origin!r} (LINJU_LOG_ORIGIN)"
        )
    return signer


@lru_cache(maxsize=4)
def _signer(settings: Settings) -> Signer:
    return signer_for(settings)


def log_signer() -> Signer:
    return _signer(get_settings())


@dataclass(frozen=True, slots=True)
class Witness:
    prefix: str
    verifier: Verifier


def witnesses(settings: Settings | None = None) -> list[Witness]:
    settings = settings or get_settings()
    out = []
    for prefix, vkey in settings.witnesses:
        try:
            verifier = parse_vkey(vkey)
        except NoteError as error:
            raise SettingsError(f"LINJU_WITNESSES: {error}") from None
        out.append(Witness(prefix, verifier))
    return out


def quorum(settings: Settings | None = None) -> int:
    settings = settings or get_settings()
    return len(settings.witnesses) if settings.witness_quorum is None else settings.witness_quorum


# Reading the stored tree


@dataclass(frozen=True, slots=True)
class SignedHead:
    size: int
    root: bytes
    body: str
    signature: str
    id: int = 0


async def latest_checkpoint() -> SignedHead | None:
    row = await LogCheckpoint.select().order_by(LogCheckpoint.size, ascending=False).first()
    if row is None:
        return None
    return SignedHead(row["size"], b64decode(row["root"]), row["body"], row["signature"], row["id"])


async def read_tiles(keys: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    """Stored tiles by (level, index), in one query; level -1 are entry bundles."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    where = " OR ".join("(level = {} AND idx = {})" for _ in wanted)
    rows = await get_engine().run_querystring(
        QueryString(
            f"SELECT level, idx, data FROM log_tile WHERE {where}",
            *[value for key in wanted for value in key],
        )
    )
    return {(row["level"], row["idx"]): bytes(row["data"]) for row in rows}


async def hashes_reader(compute: Any) -> merkle.HashReader:
    """A reader holding every tile `compute` (a function of a reader) needs, read at once."""
    needed = merkle.needed_hashes(compute)
    return tiles.reader_over_tiles(await read_tiles(tiles.tiles_needed(needed)))


# The integrator


@dataclass(slots=True)
class Integrated:
    added: int = 0
    size: int = 0
    refused: list[str] = field(default_factory=list)
    signed: bool = False


_locks: dict[int, asyncio.Lock] = {}


def _process_lock() -> asyncio.Lock:
    loop = id(asyncio.get_running_loop())
    return _locks.setdefault(loop, asyncio.Lock())


async def integrate(batch: int = BATCH, max_leaves: int | None = None) -> Integrated:
    """Integrate what is new, batch after batch, one signed checkpoint per batch."""
    total = Integrated()
    while True:
        limit = batch if max_leaves is None else min(batch, max_leaves - total.added)
        if limit <= 0:
            return total
        done = await integrate_batch(limit)
        total.added += done.added
        total.size = done.size
        total.refused.extend(done.refused)
        total.signed = total.signed or done.signed
        if done.added < limit:
            return total


async def _entries_to_integrate(limit: int) -> list[dict[str, Any]]:
    """Up to `limit` committed entries after the cursors, oldest (by id) first: each project
    with something new is read on the (project, seq) index from its cursor on."""
    engine = get_engine()
    pending = await engine.run_querystring(
        QueryString(
            "SELECT h.project, p.slug, COALESCE(c.seq, 0) AS after FROM ledger_head h "
            "JOIN project p ON p.id = h.project LEFT JOIN log_cursor c ON c.project = h.project "
            "WHERE h.seq > COALESCE(c.seq, 0) AND NOT EXISTS (SELECT 1 FROM log_refusal r "
            "WHERE r.project = h.project AND r.seq = COALESCE(c.seq, 0) + 1)"
        )
    )
    rows: list[dict[str, Any]] = []
    for project in pending:
        found = await engine.run_querystring(
            QueryString(
                "SELECT id, project, seq, at, kind, memo, public_ref, prev, hash "
                "FROM ledger_entry WHERE project = {} AND seq > {} ORDER BY seq LIMIT {}",
                project["project"],
                project["after"],
                limit,
            )
        )
        rows.extend({**row, "slug": project["slug"]} for row in found)
    rows.sort(key=lambda row: row["id"])
    del rows[limit:]
    if not rows:
        return []
    # The postings: one range scan of their entry index when the entries are close together
    # (postings of entries not taken are dropped), else by id lists.
    ids = {row["id"] for row in rows}
    low, high = min(ids), max(ids)
    if high - low < 4 * len(ids):
        postings = await engine.run_querystring(
            QueryString(
                "SELECT entry, account, amount, currency FROM ledger_posting "
                "WHERE entry >= {} AND entry <= {} ORDER BY entry, position",
                low,
                high,
            )
        )
    else:
        ordered = sorted(ids)
        postings = []
        for start in range(0, len(ordered), CHUNK):
            part = ordered[start : start + CHUNK]
            marks = ", ".join("{}" for _ in part)
            postings += await engine.run_querystring(
                QueryString(
                    "SELECT entry, account, amount, currency FROM ledger_posting "
                    f"WHERE entry IN ({marks}) ORDER BY entry, position",
                    *part,
                )
            )
    by_entry: dict[int, list[dict[str, Any]]] = {}
    for posting in postings:
        if posting["entry"] not in ids:
            continue
        by_entry.setdefault(posting["entry"], []).append(
            {
                "account": posting["account"],
                "amount": posting["amount"],
                "currency": posting["currency"],
            }
        )
    return [
        {
            "_id": row["id"],
            "_project": row["project"],
            "entry": {
                "project": row["slug"],
                "seq": row["seq"],
                "at": row["at"],
                "kind": row["kind"],
                "memo": row["memo"],
                "ref": row["public_ref"],
                "postings": by_entry.get(row["id"], []),
                "prev": row["prev"],
                "hash": row["hash"],
            },
        }
        for row in rows
    ]


async def _insert_leaves(transaction: Any, leaves: list[tuple[int, int, int, int]]) -> None:
    """(idx, entry, project, seq) rows: COPY on PostgreSQL, multi-row INSERTs on SQLite."""
    if is_postgres():
        await transaction.connection.copy_records_to_table(
            "log_leaf", records=leaves, columns=("idx", "entry", "project", "seq")
        )
        return
    engine = get_engine()
    step = CHUNK // 4
    for start in range(0, len(leaves), step):
        part = leaves[start : start + step]
        marks = ", ".join("({}, {}, {}, {})" for _ in part)
        values = [value for row in part for value in row]
        await engine.run_querystring(
            QueryString(f"INSERT INTO log_leaf (idx, entry, project, seq) VALUES {marks}", *values)
        )


async def _upsert_tiles(changed: Mapping[tuple[int, int], bytes]) -> None:
    engine = get_engine()
    for (level, index), data in sorted(changed.items()):
        await engine.run_querystring(
            QueryString(
                "INSERT INTO log_tile (level, idx, data) VALUES ({}, {}, {}) "
                "ON CONFLICT (level, idx) DO UPDATE SET data = excluded.data",
                level,
                index,
                data,
            )
        )


async def _move_cursors(cursors: Mapping[int, tuple[int, str]]) -> None:
    engine = get_engine()
    for project, (seq, digest) in cursors.items():
        await engine.run_querystring(
            QueryString(
                "INSERT INTO log_cursor (project, seq, hash) VALUES ({}, {}, {}) "
                "ON CONFLICT (project) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
                project,
                seq,
                digest,
            )
        )


async def _refuse(project: int, seq: int, reason: str) -> None:
    await LogRefusal.insert(LogRefusal(project=project, seq=seq, reason=reason)).on_conflict(
        action="DO NOTHING"
    )


async def integrate_batch(limit: int = BATCH) -> Integrated:
    """One batch in one transaction: see the module's docstring."""
    signer = log_signer()
    # PostgreSQL: the advisory lock, across every process; SQLite: its single writer, and
    # this process's own lock so that two tasks do not wait on each other's IMMEDIATE.
    local = contextlib.nullcontext() if is_postgres() else _process_lock()
    async with local, write_transaction() as transaction:
        if is_postgres():
            await transaction.connection.execute("SELECT pg_advisory_xact_lock($1)", ADVISORY_LOCK)
        head = await latest_checkpoint()
        size = head.size if head else 0
        old_root = head.root if head else EMPTY_ROOT
        found = await _entries_to_integrate(limit)
        result = Integrated(size=size)
        if not found:
            return result
        cursor_rows = await LogCursor.select(LogCursor.project, LogCursor.seq, LogCursor.hash)
        cursors: dict[int, tuple[int, str]] = {
            r["project"]: (r["seq"], r["hash"]) for r in cursor_rows
        }
        edge = tiles.tiles_for_size(size)
        partial = [(t.level, t.index) for t in edge if not t.full]
        bundle_index, bundle_width = divmod(size, tiles.WIDTH)
        if bundle_width:
            partial.append((-1, bundle_index))
        stored = await read_tiles(partial)
        tree = tiles.TileTree(size, {lv: data for (lv, _), data in stored.items() if lv >= 0})
        bundle = bytearray(stored.get((-1, bundle_index), b""))
        bundles: dict[tuple[int, int], bytes] = {}
        leaves: list[tuple[int, int, int, int]] = []
        moved: dict[int, tuple[int, str]] = {}
        blocked: set[int] = set()
        for item in found:
            entry, project = item["entry"], item["_project"]
            if project in blocked:
                continue
            last_seq, last_hash = moved.get(project) or cursors.get(project, (0, "0" * 64))
            if entry["seq"] != last_seq + 1:
                blocked.add(project)  # an earlier entry of this project is not visible yet
                continue
            why = continues(entry, last_seq, last_hash)
            try:
                data = leaf_data(entry)
            except LeafTooLong as error:
                why = str(error)
            if why is not None:
                message = f"{entry['project']} #{entry['seq']}: {why}"
                logger.error("the log refuses %s", message)
                await _refuse(project, entry["seq"], why)
                result.refused.append(message)
                blocked.add(project)
                continue
            tree.append(leaf_hash(data))
            bundle += len(data).to_bytes(2, "big") + data
            index = tree.size - 1
            if tree.size % tiles.WIDTH == 0:
                bundles[(-1, index // tiles.WIDTH)] = bytes(bundle)
                bundle = bytearray()
            leaves.append((index, item["_id"], project, entry["seq"]))
            moved[project] = (entry["seq"], entry["hash"])
        if not leaves:
            return result
        new_size = tree.size
        if bundle:
            bundles[(-1, new_size // tiles.WIDTH)] = bytes(bundle)
        await _insert_leaves(transaction, leaves)
        await _upsert_tiles({**tree.take_changed(), **bundles})
        await _move_cursors(moved)
        # Consistency with the last signed checkpoint, from the tiles as now stored.
        new_root = merkle.tree_hash(new_size, tiles.reader_over_tiles(tree.right_edge()))

        def proof_of(read: merkle.HashReader) -> list[bytes]:
            return merkle.consistency_proof(size, new_size, read)

        def root_of(read: merkle.HashReader) -> bytes:
            return merkle.tree_hash(new_size, read)

        reader = await hashes_reader(lambda r: (proof_of(r), root_of(r)))
        try:
            if root_of(reader) != new_root:
                raise ProofError("the stored tiles do not add up to the new root")
            merkle.verify_consistency(size, new_size, old_root, new_root, proof_of(reader))
        except ProofError as error:
            raise InconsistentTree(f"not signing size {new_size}: {error}") from None
        body = Checkpoint(signer.name, new_size, new_root).text()
        await LogCheckpoint.insert(
            LogCheckpoint(size=new_size, root=b64(new_root), body=body, signature=signer.sign(body))
        )
        if witnesses():
            from linju.platform.jobs import queue

            await queue.enqueue(WITNESS_JOB, {}, dedupe_key=WITNESS_JOB)
        result.added, result.size, result.signed = len(leaves), new_size, True
        return result


async def outstanding_refusals() -> list[str]:
    """Refused entries their project is still stuck at: `<slug> #<seq>: <why>`."""
    rows = await get_engine().run_querystring(
        QueryString(
            "SELECT p.slug, r.seq, r.reason FROM log_refusal r JOIN project p ON p.id = r.project "
            "LEFT JOIN log_cursor c ON c.project = r.project "
            "WHERE r.seq = COALESCE(c.seq, 0) + 1 ORDER BY p.slug"
        )
    )
    return [f"{row['slug']} #{row['seq']}: {row['reason']}" for row in rows]
