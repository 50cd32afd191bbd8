"""ledger.md's guarantees under real concurrency on PostgreSQL: many connections at once.

Each test opens a connection pool on its own event loop, so the appends below really run on
different connections at the same time; only the database's locks keep them in order.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from linju.platform.db import close_pool, start_pool
from linju.projects.ledger import read as ledger_read
from linju.projects.ledger.check import verify_project
from linju.projects.ledger.services import AppendResult, Overdraft, append
from linju.projects.ledger.tables import LedgerEntry
from tests.projects.ledger.ledger_support import donate, donation, expenditure, new_project

pytestmark = [pytest.mark.postgres_only, pytest.mark.usefixtures("db")]


@pytest.fixture
async def pool(db: str) -> AsyncIterator[None]:
    assert await start_pool(max_size=20), "a pool was already open on another loop"
    try:
        yield
    finally:
        await close_pool()


@pytest.mark.usefixtures("pool")
async def test_200_appends_to_4_projects_from_16_tasks_leave_no_gap() -> None:
    slugs = [await new_project(f"race-{index}") for index in range(4)]
    work: asyncio.Queue[tuple[str, int]] = asyncio.Queue()
    for number in range(200):
        work.put_nowait((slugs[number % 4], number))
    start = asyncio.Event()

    async def worker() -> int:
        await start.wait()
        done = 0
        while not work.empty():
            slug, number = work.get_nowait()
            await append(slug, donation(slug, 100 + number, f"r{number}"))
            done += 1
        return done

    tasks = [asyncio.create_task(worker()) for _ in range(16)]
    start.set()
    assert sum(await asyncio.gather(*tasks)) == 200

    for slug in slugs:
        ledger = await ledger_read.find_ledger(slug)
        seqs = [entry["seq"] async for entry in ledger_read.iter_entries(ledger)]
        assert seqs == list(range(1, 51)), slug
        result = await verify_project(slug)
        assert result.ok, result.fault
        assert result.state.balance == sum(
            100 + number for number in range(200) if slugs[number % 4] == slug
        )


@pytest.mark.usefixtures("pool")
async def test_20_concurrent_withdrawals_of_over_half_the_balance_let_one_through() -> None:
    slug = await new_project("race-withdraw")
    await donate(slug, 10_000, "fund")
    start = asyncio.Event()

    async def withdraw(number: int) -> AppendResult | Overdraft:
        await start.wait()
        try:
            return await append(slug, expenditure(slug, 5_001, f"w{number}"))
        except Overdraft as refused:
            return refused

    tasks = [asyncio.create_task(withdraw(number)) for number in range(20)]
    start.set()
    outcomes = await asyncio.gather(*tasks)
    succeeded = [outcome for outcome in outcomes if isinstance(outcome, AppendResult)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, Overdraft)]
    assert (len(succeeded), len(refused)) == (1, 19)
    result = await verify_project(slug)
    assert result.ok, result.fault
    assert (result.state.seq, result.state.balance) == (2, 4_999)


@pytest.mark.usefixtures("pool")
async def test_one_idempotency_key_sent_20_times_at_once_appends_once() -> None:
    slug = await new_project("race-same-key")
    event = donation(slug, 8_800, "same")
    start = asyncio.Event()

    async def send() -> AppendResult:
        await start.wait()
        return await append(slug, event)

    tasks = [asyncio.create_task(send()) for _ in range(20)]
    start.set()
    results = await asyncio.gather(*tasks)
    assert sum(result.created for result in results) == 1
    assert all(result.entry == results[0].entry for result in results)
    assert await LedgerEntry.count().where(LedgerEntry.project.slug == slug) == 1
    result = await verify_project(slug)
    assert result.ok, result.fault
    assert (result.state.seq, result.state.balance, result.state.donations_count) == (1, 8_800, 1)
