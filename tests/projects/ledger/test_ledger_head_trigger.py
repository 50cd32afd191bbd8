"""The database keeps a project's head on its newest entry (docs/adr/0016-database-roles.md).

Direct SQL, on the test run's own connection (the superuser on PostgreSQL): whoever connects,
the head cannot be moved to an older entry, to a hash no entry has, or past the last entry; on
PostgreSQL not even with the check deferred to the commit. Appends keep moving it.
"""

from __future__ import annotations

import os
from typing import Any

import asyncpg
import pytest
from piccolo.querystring import QueryString

from linju.platform.db import get_engine
from linju.projects.ledger.format import GENESIS_HASH
from linju.projects.ledger.services import append, append_all
from linju.projects.ledger.tables import LedgerEntry, LedgerHead
from tests.projects.ledger.ledger_support import donation, fee, new_project

pytestmark = pytest.mark.usefixtures("db")

REFUSED = r"newest entry"


async def _entries(slug: str) -> list[dict[str, Any]]:
    return await (
        LedgerEntry.select(LedgerEntry.seq, LedgerEntry.hash)
        .where(LedgerEntry.project.slug == slug)
        .order_by(LedgerEntry.seq)
    )


async def _head(slug: str) -> dict[str, Any]:
    row = await (
        LedgerHead.select(LedgerHead.seq, LedgerHead.hash)
        .where(LedgerHead.project.slug == slug)
        .first()
    )
    assert row is not None
    return row


async def _move_head(slug: str, seq: int, hash_: str) -> None:
    await get_engine().run_querystring(
        QueryString(
            "UPDATE ledger_head SET seq = {}, hash = {} "
            "WHERE project = (SELECT id FROM project WHERE slug = {})",
            seq,
            hash_,
            slug,
        )
    )


async def test_appends_move_the_head_and_nothing_else_can(db: str) -> None:
    slug = await new_project("head-trigger")
    await append(slug, donation(slug, 5_000, "a"))
    await append_all(slug, (donation(slug, 3_000, "b"), fee(slug, 18, "b")))
    entries = await _entries(slug)
    assert [e["seq"] for e in entries] == [1, 2, 3]
    assert await _head(slug) == {"seq": 3, "hash": entries[-1]["hash"]}

    older = entries[0]
    for seq, hash_ in [
        (older["seq"], older["hash"]),  # back to an older entry
        (3, "f" * 64),  # the newest seq with a hash no entry has
        (4, entries[-1]["hash"]),  # past the last entry
        (0, GENESIS_HASH),  # back to the start
    ]:
        with pytest.raises(Exception, match=REFUSED):
            await _move_head(slug, int(seq), str(hash_))
    assert await _head(slug) == {"seq": 3, "hash": entries[-1]["hash"]}

    # Moving it onto where it already stands is no move; the figures may be rewritten (and
    # `linju ledger verify` then finds them disagreeing with the entries).
    await _move_head(slug, 3, str(entries[-1]["hash"]))
    await append(slug, donation(slug, 1_000, "c"))
    assert (await _head(slug))["seq"] == 4


async def test_a_new_head_starts_at_genesis_and_a_forged_one_is_refused(db: str) -> None:
    slug = await new_project("head-trigger-genesis")
    assert await _head(slug) == {"seq": 0, "hash": GENESIS_HASH}
    with pytest.raises(Exception, match=REFUSED):
        await _move_head(slug, 1, "a" * 64)  # an entry that was never appended


@pytest.mark.postgres_only
async def test_deferring_the_check_only_moves_it_to_the_commit(db: str) -> None:
    slug = await new_project("head-trigger-deferred")
    await append(slug, donation(slug, 5_000, "a"))
    first = (await _entries(slug))[0]
    await append(slug, donation(slug, 2_000, "b"))
    connection = await asyncpg.connect(os.environ["DATABASE_URL"])
    try:
        transaction = connection.transaction()
        await transaction.start()
        await connection.execute("SET CONSTRAINTS ALL DEFERRED")
        await connection.execute(
            "UPDATE ledger_head SET seq = $1, hash = $2 "
            "WHERE project = (SELECT id FROM project WHERE slug = $3)",
            first["seq"],
            first["hash"],
            slug,
        )  # no refusal yet: the check waits for the commit, which it then refuses
        with pytest.raises(asyncpg.IntegrityConstraintViolationError, match=REFUSED):
            await transaction.commit()
    finally:
        await connection.close()
    assert (await _head(slug))["seq"] == 2
