"""PostgreSQL under real concurrency: the locks, not luck, keep a fund from being over-approved
and a payment from being posted twice.

Each test opens a connection pool, so the concurrent calls below run in separate transactions on
separate connections at the same time, exactly as several app workers would.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date

import pytest
from piccolo.engine.postgres import PostgresEngine

from linju.platform.db import close_pool, get_engine
from linju.platform.kernel.errors import Conflict
from linju.projects.core.files import AttachmentUpload, Upload
from linju.projects.ledger.tables import LedgerEntry, LedgerHead
from linju.projects.spending.rules import Outcome
from linju.projects.spending.services import expenditures as spending
from linju.projects.spending.services.expenditures import Payment, Proposal
from linju.projects.spending.tables import Decision, Expenditure
from tests.projects.spending.spending_support import (
    SECRETARY,
    SLUG,
    Funded,
    funded_project,
    invoice,
    png_bytes,
)

pytestmark = [pytest.mark.postgres_only, pytest.mark.usefixtures("db")]
RACERS = 6
WORKERS = 22  # connections: one per concurrent request of the larger test, and spare


@pytest.fixture
async def pool(db: str) -> AsyncIterator[None]:
    """A pool whose connections are all open before the race, so no racer waits to connect."""
    engine = get_engine()
    assert isinstance(engine, PostgresEngine)
    await engine.start_connection_pool(min_size=WORKERS, max_size=WORKERS)
    try:
        yield
    finally:
        await close_pool()


async def test_approvals_racing_for_the_last_of_the_fund_let_exactly_one_through(
    pool: None,
) -> None:
    funded: Funded = await funded_project(balance=500_000)
    proposals = []
    for _ in range(RACERS):
        proposals.append(
            await spending.propose(
                SLUG,
                Proposal(
                    funded.lines[1], "青山游乐设备厂", "转椅", 400_000, "", None, (invoice(),)
                ),
                SECRETARY,
            )
        )
    for public_id in proposals:
        await spending.decide(SLUG, public_id, funded.members[0], True, "同意")

    results = await asyncio.gather(
        *[
            spending.decide(SLUG, public_id, funded.members[1], True, "同意")
            for public_id in proposals
        ],
        return_exceptions=True,
    )

    approved = [r for r in results if r is Outcome.APPROVED]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(approved) == 1, results
    assert len(refused) == RACERS - 1, results
    assert all("available" in str(r) for r in refused)
    statuses = [r["status"] for r in await Expenditure.select(Expenditure.status)]
    assert sorted(statuses) == ["approved"] + ["proposed"] * (RACERS - 1)
    assert await Decision.count() == RACERS + 1


async def test_twenty_concurrent_payments_of_one_expenditure_post_once(pool: None) -> None:
    funded = await funded_project(balance=1_200_000)
    public_id = await spending.propose(
        SLUG,
        Proposal(funded.lines[0], "青山游乐设备厂", "跷跷板", 480_000, "", None, (invoice(),)),
        SECRETARY,
    )
    for member in funded.members[:2]:
        await spending.decide(SLUG, public_id, member, True, "同意")
    payment = Payment(
        date(2026, 11, 20), "银行转账", AttachmentUpload(Upload("回单.png", png_bytes()))
    )

    results = await asyncio.gather(
        *[spending.record_payment(SLUG, public_id, payment) for _ in range(20)],
        return_exceptions=True,
    )

    assert not [r for r in results if isinstance(r, BaseException)], results
    created = [r for r in results if not isinstance(r, BaseException) and r.created]
    assert len(created) == 1
    assert {r.seq for r in results if not isinstance(r, BaseException)} == {created[0].seq}
    assert await LedgerEntry.count().where(LedgerEntry.kind == "expenditure") == 1
    head = await LedgerHead.select(LedgerHead.balance_fen, LedgerHead.spent_fen).first()
    assert head == {"balance_fen": 720_000, "spent_fen": 480_000}
