"""Two integrators at once on PostgreSQL, while entries are appended: one tree. Every entry is
a leaf exactly once, each project's leaves are in seq order, and every checkpoint extends the
one before (the advisory lock, not timing, holds this)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from linju.platform.db import close_pool, start_pool
from linju.projects.ledger.log.services import integrate
from linju.projects.ledger.log.tables import LogCheckpoint, LogLeaf
from linju.projects.ledger.tables import LedgerEntry
from tests.projects.ledger.ledger_support import donate, new_project
from tests.projects.ledger.log.log_support import check_the_stored_tree, export, leaves_by_project

pytestmark = [pytest.mark.postgres_only, pytest.mark.usefixtures("db")]


@pytest.fixture
async def pool(db: str) -> AsyncIterator[None]:
    assert await start_pool(max_size=20), "a pool was already open on another loop"
    try:
        yield
    finally:
        await close_pool()


@pytest.mark.usefixtures("pool")
async def test_two_integrators_racing_appends_build_one_tree() -> None:
    slugs = [await new_project(f"log-race-{n}") for n in range(3)]
    appending = True

    async def appender(slug: str) -> None:
        for n in range(60):
            await donate(slug, 100 + n, f"{slug}-{n}")
            await asyncio.sleep(0)

    async def integrator() -> int:
        runs = 0
        while appending:
            await integrate(batch=17)
            runs += 1
            await asyncio.sleep(0.005)
        return runs

    racers = [asyncio.create_task(integrator()) for _ in range(2)]
    await asyncio.gather(*(appender(slug) for slug in slugs))
    appending = False
    runs = await asyncio.gather(*racers)
    assert all(r > 1 for r in runs)
    await integrate()
    total = await LedgerEntry.count()
    assert total == 180
    assert await LogLeaf.count() == total
    assert await check_the_stored_tree() == total  # each checkpoint extends the one before
    sizes = [
        r["size"] for r in await LogCheckpoint.select(LogCheckpoint.size).order_by(LogCheckpoint.id)
    ]
    assert sizes == sorted(set(sizes))
    by_project = await leaves_by_project()
    for slug in slugs:
        assert by_project[slug] == await export(slug)
