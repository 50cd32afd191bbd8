"""PostgreSQL under real concurrency: one lock order everywhere (a donation's row, then the
project's ledger head; docs/adr/0015-settlement.md), so a payment's confirmation racing the vote
that cancels its project, and racing the settlement, never deadlocks, and every project ends the
same way whoever won: each gift confirmed and given back once, the fund at zero.

Each racer runs in its own task, on its own connection of a pool opened before the race.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from typing import Any

import pytest
from piccolo.engine.postgres import PostgresEngine

from linju.payments import services as payments
from linju.payments.sandbox import (
    SandboxOutcome,
    events_from_payload,
    finish_session,
    session_payload,
)
from linju.payments.services import Started
from linju.payments.tables import SandboxRefund
from linju.platform.db import close_pool, get_engine
from linju.projects.core.rules import BudgetLinePlan, CommitteeRole, CommitteeSeat
from linju.projects.core.services.communities import create_community
from linju.projects.core.services.projects import ProjectDraft, create_project, publish
from linju.projects.core.tables import CommitteeMember, Project
from linju.projects.donations.rules import DonationInput
from linju.projects.donations.tables import Donation, DonationRefund
from linju.projects.ledger.tables import LedgerHead
from linju.projects.spending.rules import Outcome
from linju.projects.spending.services import cancellation
from tests.projects.spending.spending_support import SECRETARY, drain_until_quiet

pytestmark = [pytest.mark.postgres_only, pytest.mark.usefixtures("db")]
PROJECTS = 6
WORKERS = 24  # connections: one per racer of a round (3 per project), and spare


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


@dataclass(frozen=True, slots=True)
class Racing:
    slug: str
    motion: int
    second_member: int
    paid: str
    late: list[Started]  # checkouts opened while it took money, paid during the races


async def _project(index: int) -> Racing:
    slug = f"racing-{index}"
    await create_project(
        ProjectDraft(
            community_slug="lvjingyuan",
            slug=slug,
            title=f"童趣乐园 {index}",
            goal_fen=1_200_000,
            budget=[BudgetLinePlan("跷跷板", 500_000), BudgetLinePlan("转椅", 700_000)],
            committee=[
                CommitteeSeat("张建国", CommitteeRole.CHAIR, "居民"),
                CommitteeSeat("李敏", CommitteeRole.MEMBER, "居民"),
                CommitteeSeat("王师傅", CommitteeRole.MEMBER, "居民"),
            ],
        )
    )
    await publish(slug)
    first = await _start(slug, 10_000)
    await _pay(first)
    late = [await _start(slug, 5_000 + 1_000 * i) for i in range(2)]
    project = await Project.select(Project.id).where(Project.slug == slug).first()
    assert project is not None
    members = (
        await CommitteeMember.select(CommitteeMember.id)
        .where(CommitteeMember.project == project["id"])
        .order_by(CommitteeMember.position)
    )
    motion = await cancellation.propose_cancellation(slug, "场地无法落实", SECRETARY)
    first_vote = await cancellation.decide_cancellation(
        slug, motion, members[0]["id"], True, "同意"
    )
    assert first_vote is Outcome.PENDING
    return Racing(slug, motion, int(members[1]["id"]), first.donation.id, late)


async def _start(slug: str, fen: int) -> Started:
    return await payments.begin_donation(slug, DonationInput(fen, "CNY", "王阿姨", False, "", ""))


async def _pay(started: Started) -> None:
    session = await finish_session(started.checkout_url.rsplit("/", 1)[1], SandboxOutcome.SUCCEED)
    assert session is not None
    await payments.apply_events("sandbox", events_from_payload(session_payload(session)))


async def _race(racers: list[Awaitable[Any]]) -> list[Any]:
    random.shuffle(racers)
    results = await asyncio.wait_for(asyncio.gather(*racers, return_exceptions=True), 120)
    failures = [r for r in results if isinstance(r, BaseException)]
    assert not failures, failures  # a deadlock would be here (asyncpg's DeadlockDetectedError)
    return results


async def test_confirmations_racing_the_cancellation_and_its_settlement_end_at_zero(
    pool: None,
) -> None:
    await create_community("lvjingyuan", "绿景苑社区", "青山区")
    projects = [await _project(i) for i in range(PROJECTS)]

    # The deciding vote against a payment arriving for the same project, at the same time.
    await _race(
        [
            cancellation.decide_cancellation(p.slug, p.motion, p.second_member, True, "同意取消")
            for p in projects
        ]
        + [_pay(p.late[0]) for p in projects]
    )
    # The settlement (twice at once, as the job and `linju projects settle` may run) against
    # another late payment.
    await _race(
        [cancellation.settle(p.slug) for p in projects for _ in range(2)]
        + [_pay(p.late[1]) for p in projects]
    )
    await drain_until_quiet()

    for project in projects:
        gifts = [project.paid, *(s.donation.id for s in project.late)]
        rows = await Donation.select(
            Donation.public_id, Donation.status, Donation.amount_fen, Donation.fee_fen,
            Donation.refunded_fen,
        ).where(Donation.public_id.is_in(gifts))  # fmt: skip
        assert len(rows) == 3
        for row in rows:  # each confirmed, and given back what the fund received, once
            assert row["status"] == "succeeded", row
            assert row["refunded_fen"] == row["amount_fen"] - row["fee_fen"], row
            refunds = await DonationRefund.select(DonationRefund.status).where(
                DonationRefund.donation.public_id == row["public_id"]
            )
            assert [r["status"] for r in refunds] == ["posted"], (project.slug, refunds)
        head = (
            await LedgerHead.select(LedgerHead.balance_fen)
            .where(LedgerHead.project.slug == project.slug)
            .first()
        )
        assert head is not None
        assert head["balance_fen"] == 0, project.slug
        status = await Project.select(Project.status).where(Project.slug == project.slug).first()
        assert status is not None
        assert status["status"] == "cancelled"
    assert await SandboxRefund.count() == 3 * PROJECTS
