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
import itertools
import logging
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from hashlib import sha256
from pathlib import Path
from typing import Any

from piccolo.querystring import QueryString

from linju.platform.db import get_engine, is_postgres, write_transaction
from linju.platform.settings import Settings, SettingsError, get_settings
from linju.projects.ledger.format import GENESIS_HASH
from linju.projects.ledger.log import merkle, tiles
from linju.projects.ledger.log.merkle import EMPTY_ROOT, ProofError
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
from linju.projects.ledger.log.rules import checked_leaf
from linju.projects.ledger.log.tables import LogCheckpoint, LogRefusal

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


# What is new: rows of (entry id, project id, slug, seq, at, kind, memo, ref, prev, hash),
# each entry's postings as exported (by entry id), and the cursors of their projects.
New = tuple[list[Any], dict[int, list[dict[str, Any]]], dict[int, tuple[int, str]]]

_PENDING = (
    "SELECT h.project, p.slug, COALESCE(c.seq, 0) AS after, COALESCE(c.hash, '') AS hash "
    "FROM ledger_head h JOIN project p ON p.id = h.project "
    "LEFT JOIN log_cursor c ON c.project = h.project "
    "WHERE h.seq > COALESCE(c.seq, 0) AND NOT EXISTS (SELECT 1 FROM log_refusal r "
    "WHERE r.project = h.project AND r.seq = COALESCE(c.seq, 0) + 1)"
)
# Every project with something new, read on the (project, seq) index from its cursor on, in
# one statement; the oldest `limit` (by id) of them. A project's seqs follow one another, so
# its next `limit` entries are the seqs up to its cursor + `limit`: a range the planner sees.
_NEW_ENTRIES = (
    "SELECT e.id, e.project, n.slug, e.seq, e.at, e.kind, e.memo, e.public_ref, e.prev, e.hash "
    f"FROM ({_PENDING}) n CROSS JOIN LATERAL (SELECT id, project, seq, at, kind, memo, "
    "public_ref, prev, hash FROM ledger_entry WHERE project = n.project AND seq > n.after "
    "AND seq <= n.after + $1 ORDER BY seq) e ORDER BY e.id LIMIT $1"
)


def _postings_by_entry(postings: Iterable[Any]) -> dict[int, list[dict[str, Any]]]:
    """(entry, account, amount, currency) rows in (entry, position) order → each entry's
    postings as exported (a range scan may bring some of entries not taken: never asked for)."""
    by_entry: dict[int, list[dict[str, Any]]] = {}
    last = None
    current: list[dict[str, Any]] = []
    for entry, account, amount, currency in postings:
        if entry != last:
            current = by_entry.setdefault(entry, [])
            last = entry
        current.append({"account": account, "amount": amount, "currency": currency})
    return by_entry


def _dense(ids: set[int]) -> bool:
    """Whether one range scan of the postings' entry index beats a list of ids."""
    return max(ids) - min(ids) < 4 * len(ids)


async def _new_entries_pg(connection: Any, limit: int) -> New:
    """PostgreSQL: the entries and their postings in two statements on the transaction's own
    connection, as asyncpg's records (no row dicts), and the cursors of their projects."""
    rows = await connection.fetch(_NEW_ENTRIES, limit)
    if not rows:
        return [], {}, {}
    ids = {row[0] for row in rows}
    if _dense(ids):
        postings = await connection.fetch(
            "SELECT entry, account, amount, currency FROM ledger_posting "
            "WHERE entry >= $1 AND entry <= $2 ORDER BY entry, position",
            min(ids),
            max(ids),
        )
    else:
        postings = await connection.fetch(
            "SELECT entry, account, amount, currency FROM ledger_posting "
            "WHERE entry = ANY($1::integer[]) ORDER BY entry, position",
            sorted(ids),
        )
    cursors = {
        row[0]: (row[1], row[2])
        for row in await connection.fetch(
            "SELECT project, seq, hash FROM log_cursor WHERE project = ANY($1::integer[])",
            sorted({row[1] for row in rows}),
        )
    }
    return rows, _postings_by_entry(postings), cursors


async def _new_entries_sqlite(limit: int) -> New:
    """SQLite: the same, through the engine, one project at a time."""
    engine = get_engine()
    pending = await engine.run_querystring(QueryString(_PENDING))
    rows: list[tuple[Any, ...]] = []
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
        rows.extend(
            (
                r["id"],
                r["project"],
                project["slug"],
                r["seq"],
                r["at"],
                r["kind"],
                r["memo"],
                r["public_ref"],
                r["prev"],
                r["hash"],
            )
            for r in found
        )
    rows.sort(key=lambda row: row[0])
    del rows[limit:]
    if not rows:
        return [], {}, {}
    ids = {row[0] for row in rows}
    postings: list[dict[str, Any]] = []
    if _dense(ids):
        postings = await engine.run_querystring(
            QueryString(
                "SELECT entry, account, amount, currency FROM ledger_posting "
                "WHERE entry >= {} AND entry <= {} ORDER BY entry, position",
                min(ids),
                max(ids),
            )
        )
    else:
        ordered = sorted(ids)
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
    by_entry = _postings_by_entry(
        (p["entry"], p["account"], p["amount"], p["currency"]) for p in postings
    )
    cursors = {int(p["project"]): (int(p["after"]), str(p["hash"])) for p in pending if p["after"]}
    return rows, by_entry, cursors


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


_UPSERT_TILE = (
    "INSERT INTO log_tile (level, idx, data) VALUES ({}, {}, {}) "
    "ON CONFLICT (level, idx) DO UPDATE SET data = excluded.data"
)
_UPSERT_CURSOR = (
    "INSERT INTO log_cursor (project, seq, hash) VALUES ({}, {}, {}) "
    "ON CONFLICT (project) DO UPDATE SET seq = excluded.seq, hash = excluded.hash"
)


async def _upsert(transaction: Any, sql: str, rows: list[tuple[Any, ...]]) -> None:
    """One statement for many rows: asyncpg's executemany on PostgreSQL (pipelined in one
    round trip), row after row on SQLite."""
    if is_postgres():
        numbers = itertools.count(1)
        numbered = re.sub(r"\{\}", lambda _: f"${next(numbers)}", sql)
        await transaction.connection.executemany(numbered, rows)
        return
    engine = get_engine()
    for row in rows:
        await engine.run_querystring(QueryString(sql, *row))


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
            # A batch's entries are sorted in memory, and JIT-compiling the read would cost
            # more than the read.
            await transaction.connection.execute("SET LOCAL jit = off; SET LOCAL work_mem = '64MB'")
            found, postings_of, cursors = await _new_entries_pg(transaction.connection, limit)
        else:
            found, postings_of, cursors = await _new_entries_sqlite(limit)
        head = await latest_checkpoint()
        size = head.size if head else 0
        old_root = head.root if head else EMPTY_ROOT
        result = Integrated(size=size)
        if not found:
            return result
        edge = tiles.tiles_for_size(size)
        partial = [(t.level, t.index) for t in edge if not t.full]
        bundle_index, bundle_width = divmod(size, tiles.WIDTH)
        if bundle_width:
            partial.append((-1, bundle_index))
        stored = await read_tiles(partial)
        tree = tiles.TileTree(size, {lv: data for (lv, _), data in stored.items() if lv >= 0})
        bundle = stored.get((-1, bundle_index), b"")
        hashes: list[bytes] = []  # the new leaves' hashes
        datas: list[bytes] = []  # and their entry bundle records (length, then bytes)
        leaves: list[tuple[int, int, int, int]] = []
        moved: dict[int, tuple[int, str]] = {}
        blocked: set[int] = set()
        index = size
        for entry_id, project, slug, seq, at, kind, memo, ref, prev, digest in found:
            if project in blocked:
                continue
            last_seq, last_hash = moved.get(project) or cursors.get(project, (0, GENESIS_HASH))
            if seq != last_seq + 1:
                blocked.add(project)  # an earlier entry of this project is not visible yet
                continue
            entry = {
                "project": slug,
                "seq": seq,
                "at": at,
                "kind": kind,
                "memo": memo,
                "ref": ref,
                "postings": postings_of.get(entry_id, []),
                "prev": prev,
            }
            data, why = checked_leaf(entry, digest, last_seq, last_hash)
            if data is None:
                message = f"{slug} #{seq}: {why}"
                logger.error("the log refuses %s", message)
                await _refuse(project, seq, str(why))
                result.refused.append(message)
                blocked.add(project)
                continue
            hashes.append(sha256(b"\x00" + data).digest())  # merkle.leaf_hash
            datas.append(len(data).to_bytes(2, "big") + data)
            leaves.append((index, entry_id, project, seq))
            moved[project] = (seq, digest)
            index += 1
        if not leaves:
            return result
        tree.extend(hashes)
        new_size = tree.size
        # The entry bundles: the stored partial one continued, each full one, the new edge.
        bundles: dict[tuple[int, int], bytes] = {}
        for start in range(size - bundle_width, new_size, tiles.WIDTH):
            end = min(start + tiles.WIDTH, new_size)
            part = b"".join(datas[max(start - size, 0) : end - size])
            bundles[(-1, start // tiles.WIDTH)] = (bundle + part) if start < size else part
        await _insert_leaves(transaction, leaves)
        changed = {**tree.take_changed(), **bundles}
        await _upsert(
            transaction, _UPSERT_TILE, [(lv, i, changed[(lv, i)]) for lv, i in sorted(changed)]
        )
        await _upsert(transaction, _UPSERT_CURSOR, [(p, s, h) for p, (s, h) in moved.items()])
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
