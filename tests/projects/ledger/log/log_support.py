"""Helpers for the transparency log's tests: reading the stored tree back, and the attacker
who has the database (triggers dropped, history rewritten and re-chained)."""

from __future__ import annotations

import base64
import itertools
import os
import sqlite3
from contextlib import closing
from typing import Any

import asyncpg
from piccolo.querystring import QueryString

from linju.projects.ledger import read as ledger_read
from linju.projects.ledger.format import entry_hash
from linju.projects.ledger.log import merkle, tiles
from linju.projects.ledger.log.note import open_note, parse_checkpoint
from linju.projects.ledger.log.rules import leaf_data
from linju.projects.ledger.log.services import latest_checkpoint, log_signer, read_tiles
from linju.projects.ledger.log.tables import LogCheckpoint, LogLeaf


async def export(slug: str) -> list[dict[str, Any]]:
    ledger = await ledger_read.find_ledger(slug)
    return [entry async for entry in ledger_read.iter_entries(ledger)]


async def stored_leaves(size: int) -> list[bytes]:
    """Every leaf's data, read back from the entry bundles alone."""
    count = (size + tiles.WIDTH - 1) // tiles.WIDTH
    bundles = await read_tiles((-1, n) for n in range(count))
    out: list[bytes] = []
    for n in range(count):
        out.extend(tiles.unbundle(bundles[(-1, n)]))
    return out[:size]


async def check_the_stored_tree() -> int:
    """The latest checkpoint is signed by the log key and its root is the tree of the stored
    leaves; every tile holds what the leaves say; each checkpoint extends the one before."""
    head = await latest_checkpoint()
    assert head is not None
    note = open_note(head.body + "\n" + head.signature, [log_signer().verifier])
    checkpoint = parse_checkpoint(note.text)
    leaves = await stored_leaves(checkpoint.size)
    assert len(leaves) == checkpoint.size
    hashes = [merkle.leaf_hash(leaf) for leaf in leaves]
    truth = merkle.reader_over_leaves(hashes)
    assert merkle.tree_hash(checkpoint.size, truth) == checkpoint.root
    stored = await read_tiles(
        (t.level, i) for t in tiles.tiles_for_size(checkpoint.size) for i in range(t.index + 1)
    )
    read = tiles.reader_over_tiles(stored)
    assert merkle.tree_hash(checkpoint.size, read) == checkpoint.root
    rows = await LogCheckpoint.select().order_by(LogCheckpoint.size)
    for before, after in itertools.pairwise(rows):
        proof = merkle.consistency_proof(before["size"], after["size"], read)
        merkle.verify_consistency(
            before["size"],
            after["size"],
            merkle.tree_hash(before["size"], truth),
            merkle.tree_hash(after["size"], truth),
            proof,
        )
        assert merkle.tree_hash(after["size"], truth) == base64.b64decode(after["root"])
    return checkpoint.size


async def leaves_by_project() -> dict[str, list[dict[str, Any]]]:
    """The stored leaves parsed, per project, in log order."""
    import json

    head = await latest_checkpoint()
    size = head.size if head else 0
    out: dict[str, list[dict[str, Any]]] = {}
    for leaf in await stored_leaves(size):
        entry = json.loads(leaf)
        out.setdefault(entry["project"], []).append(entry)
    return out


async def leaf_count() -> int:
    return int(await LogLeaf.count())


async def rewrite_history(slug: str, seq: int, memo: str) -> None:
    """The attacker with the database only: triggers off, one entry's memo rewritten, every
    later entry of the project re-chained and the head moved, so the export verifies alone."""
    entries = await export(slug)
    changed = []
    prev = None
    for entry in entries:
        if entry["seq"] < seq:
            prev = entry["hash"]
            continue
        entry = dict(entry)
        if entry["seq"] == seq:
            entry["memo"] = memo
        if prev is not None:
            entry["prev"] = prev
        entry["hash"] = entry_hash({k: v for k, v in entry.items() if k != "hash"})
        prev = entry["hash"]
        changed.append(entry)
    statements: list[tuple[str, tuple[Any, ...]]] = [
        (
            "UPDATE ledger_entry SET memo = $1, prev = $2, hash = $3 WHERE seq = $4 AND "
            "project = (SELECT id FROM project WHERE slug = $5)",
            (e["memo"], e["prev"], e["hash"], e["seq"], slug),
        )
        for e in changed
    ]
    statements.append(
        (
            "UPDATE ledger_head SET hash = $1 WHERE project = (SELECT id FROM project WHERE "
            "slug = $2)",
            (changed[-1]["hash"], slug),
        )
    )
    url = os.environ["DATABASE_URL"]
    if url.startswith("postgresql"):
        connection = await asyncpg.connect(url)
        try:
            await connection.execute("SET session_replication_role = replica")
            for sql, args in statements:
                await connection.execute(sql, *args)
        finally:
            await connection.close()
        return
    with closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as connection, connection:
        triggers = connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN "
            "('ledger_entry', 'ledger_head')"
        ).fetchall()
        for (name,) in triggers:
            connection.execute(f'DROP TRIGGER "{name}"')
        for sql, args in statements:
            for n in range(5, 0, -1):
                sql = sql.replace(f"${n}", "?")
            connection.execute(sql, args)


def leaf_of(entry: dict[str, Any]) -> bytes:
    return leaf_data(entry)


async def tamper_memo(slug: str, seq: int, memo: str) -> None:
    """One entry's memo changed past the triggers, nothing else (its hash no longer fits)."""
    url = os.environ["DATABASE_URL"]
    sql = (
        "UPDATE ledger_entry SET memo = $1 WHERE seq = $2 AND project = "
        "(SELECT id FROM project WHERE slug = $3)"
    )
    if url.startswith("postgresql"):
        connection = await asyncpg.connect(url)
        try:
            await connection.execute("SET session_replication_role = replica")
            await connection.execute(sql, memo, seq, slug)
        finally:
            await connection.close()
        return
    with closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as connection, connection:
        connection.execute("DROP TRIGGER IF EXISTS ledger_entry_no_update")
        connection.execute(sql.replace("$1", "?").replace("$2", "?").replace("$3", "?"),
                           (memo, seq, slug))  # fmt: skip


LOG_TABLES = ("log_cosignature", "log_checkpoint", "log_leaf", "log_tile", "log_cursor")


async def log_state() -> dict[str, Any]:
    """Everything the integrator wrote, as stored: tiles and entry bundles byte for byte, the
    leaf rows, the cursors and the latest checkpoint's note."""
    engine = LogCheckpoint._meta.db
    tile_rows = await engine.run_querystring(
        QueryString("SELECT level, idx, data FROM log_tile ORDER BY level, idx")
    )
    leaf_rows = await engine.run_querystring(
        QueryString("SELECT idx, entry, project, seq FROM log_leaf ORDER BY idx")
    )
    cursor_rows = await engine.run_querystring(
        QueryString("SELECT project, seq, hash FROM log_cursor ORDER BY project")
    )
    head = await latest_checkpoint()
    return {
        "tiles": {(r["level"], r["idx"]): bytes(r["data"]) for r in tile_rows},
        "leaves": [tuple(r.values()) for r in leaf_rows],
        "cursors": [tuple(r.values()) for r in cursor_rows],
        "head": (head.size, head.root, head.body) if head else None,
    }


async def forget_the_log() -> None:
    """The log's tables emptied past their triggers (the ledger untouched), so that the same
    ledger can be integrated again another way."""
    url = os.environ["DATABASE_URL"]
    if url.startswith("postgresql"):
        connection = await asyncpg.connect(url)
        try:
            await connection.execute("SET session_replication_role = replica")
            for table in LOG_TABLES:
                await connection.execute(f"DELETE FROM {table}")
        finally:
            await connection.close()
        return
    with closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as connection, connection:
        triggers = connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name LIKE 'log_%'"
        ).fetchall()
        for (name,) in triggers:
            connection.execute(f'DROP TRIGGER "{name}"')
        for table in LOG_TABLES:
            connection.execute(f"DELETE FROM {table}")
