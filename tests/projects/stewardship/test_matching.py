"""Matching pledges: each confirmed donation in the window draws once, never beyond the cap;
a refund reverses its match. A pledge draws only once a committee member other than its recorder
confirmed it, and only for donations confirmed after that. The concurrency guarantee is proved
on PostgreSQL with 50 real connections confirming at once."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from linju.platform.accounts.audit import Actor
from linju.platform.db import close_pool, start_pool, write_transaction
from linju.platform.kernel.clock import local_today, utc_now
from linju.platform.kernel.errors import Conflict, NotFound, RuleViolation, ValidationErrors
from linju.projects.core.tables import CommitteeMember
from linju.projects.demo import load_demo
from linju.projects.ledger.tables import LedgerEntry, LedgerPosting
from linju.projects.stewardship.rules import OfflineGift, PledgePlan, match_amount
from linju.projects.stewardship.services.matching import (
    create_pledge,
    decide_pledge,
    draw_matches,
    reverse_match,
)
from linju.projects.stewardship.services.offline_donations import (
    confirm_offline_donation,
    record_offline_donation,
)
from linju.projects.stewardship.tables import MatchDraw, MatchingPledge
from tests.projects.stewardship.stewardship_support import make_people

pytestmark = pytest.mark.usefixtures("db")
# The demo's playground already has the district women's federation's pledge; these tests
# set up their own pledges on a project that has none.
SLUG = "yuelanshi"


def test_match_amount_rounds_down_and_stops_at_the_room_left() -> None:
    assert match_amount(10_001, 1, 2, 1_000_000) == 5_000
    assert match_amount(10_000, 1, 1, 3_000) == 3_000
    assert match_amount(10_000, 2, 1, 0) == 0


RECORDER = Actor(id=None, label="test")  # the command line, like the demo's secretary
MEMBER = Actor(id=None, label="member")


async def seat(slug: str = SLUG, position: int = 0) -> int:
    rows = await CommitteeMember.select(CommitteeMember.id).where(
        CommitteeMember.project.slug == slug
    )
    return int(sorted(r["id"] for r in rows)[position])


async def unconfirmed_pledge(
    cap_fen: int, ratio: tuple[int, int] = (1, 1), days: int = 30, recorder: Actor = RECORDER
) -> int:
    now = utc_now()
    return await create_pledge(
        recorder,
        SLUG,
        PledgePlan(
            sponsor_slug="jiedao-shanghui",
            sponsor_name="街道商会",
            ratio_num=ratio[0],
            ratio_den=ratio[1],
            cap_fen=cap_fen,
            starts_at=now - timedelta(days=1),
            ends_at=now + timedelta(days=days),
            letter_url="/photos/test-letter-000000.jpg",
            letter_sha256="1" * 64,
        ),
    )


async def pledge(cap_fen: int, ratio: tuple[int, int] = (1, 1), days: int = 30) -> int:
    """A pledge recorded by one person and confirmed by a committee member: it draws."""
    pledge_id = await unconfirmed_pledge(cap_fen, ratio, days)
    await decide_pledge(MEMBER, SLUG, pledge_id, await seat(), True, "")
    return pledge_id


def gift(amount_fen: int) -> OfflineGift:
    return OfflineGift(
        amount_fen=amount_fen,
        donor_name="陈大爷",
        anonymous=False,
        received_on=local_today(),
        method="cash",
        evidence_url="/photos/test-evidence-000000.jpg",
        evidence_sha256="0" * 64,
    )


async def draws_here() -> int:
    """Draws on this test's project (the demo's playground has draws of its own)."""
    pledge: Any = MatchDraw.pledge  # Piccolo types a two-step join loosely
    return int(await MatchDraw.count().where(pledge.project.slug == SLUG))


async def matching_total() -> int:
    rows = await LedgerPosting.select(LedgerPosting.amount).where(
        LedgerPosting.account == "sponsor:jiedao-shanghui"
    )
    return -int(sum(row["amount"] for row in rows))


async def test_a_confirmed_offline_donation_draws_its_match_once() -> None:
    await load_demo()
    people = await make_people()
    await pledge(cap_fen=50_000)
    secretary = Actor(id=people.secretary, label="sec")
    member = Actor(id=people.member, label="m1")
    donation = await record_offline_donation(secretary, SLUG, gift(20_000))
    assert await draws_here() == 0  # unconfirmed: counted nowhere
    await confirm_offline_donation(member, SLUG, donation)
    assert await matching_total() == 20_000
    entry = (
        await LedgerEntry.select()
        .where((LedgerEntry.kind == "matching") & (LedgerEntry.public_ref == donation))
        .first()
    )
    assert entry is not None
    assert entry["idempotency_key"] == f"matching:{donation}"
    async with write_transaction():  # a redelivered confirmation draws nothing more
        assert await draw_matches(SLUG, donation, 20_000, utc_now()) == 0
    assert await matching_total() == 20_000


async def test_the_cap_limits_and_a_refund_reverses_the_match_and_frees_its_room() -> None:
    await load_demo()
    await pledge(cap_fen=30_000, ratio=(1, 2))
    async with write_transaction():
        assert await draw_matches(SLUG, "d-1", 40_000, utc_now()) == 20_000
        assert await draw_matches(SLUG, "d-2", 40_000, utc_now()) == 10_000  # cap reached
        assert await draw_matches(SLUG, "d-3", 40_000, utc_now()) == 0
    assert await matching_total() == 30_000
    async with write_transaction():
        assert await reverse_match(SLUG, "d-1", "refund") == 20_000
        assert await reverse_match(SLUG, "d-1", "refund") == 0  # reversed once
    assert await matching_total() == 10_000
    row = (
        await MatchingPledge.select(MatchingPledge.drawn_fen)
        .where(MatchingPledge.project.slug == SLUG)
        .first()
    )
    assert row is not None
    assert row["drawn_fen"] == 10_000
    reversal = (
        await LedgerEntry.select()
        .where((LedgerEntry.kind == "reversal") & (LedgerEntry.public_ref == "d-1"))
        .first()
    )
    assert reversal is not None


async def test_donations_outside_the_window_draw_nothing() -> None:
    await load_demo()
    await pledge(cap_fen=30_000)
    async with write_transaction():
        late = utc_now() + timedelta(days=60)
        assert await draw_matches(SLUG, "late", 10_000, late) == 0
    assert await draws_here() == 0


@pytest.mark.postgres_only
async def test_fifty_concurrent_confirmations_near_the_cap_never_exceed_it() -> None:
    await load_demo()
    people = await make_people()
    cap = 100_000  # ¥1,000: twenty ¥50 matches fill it; fifty donations ask for ¥2,500
    await pledge(cap_fen=cap)
    secretary = Actor(id=people.secretary, label="sec")
    donations = [await record_offline_donation(secretary, SLUG, gift(5_000)) for _ in range(50)]
    members = [Actor(id=people.member, label="m1"), Actor(id=people.second_member, label="m2")]
    await start_pool(max_size=50)
    try:
        results = await asyncio.gather(
            *[
                confirm_offline_donation(members[i % 2], SLUG, donation)
                for i, donation in enumerate(donations)
            ],
            return_exceptions=True,
        )
    finally:
        await close_pool()
    failures = [r for r in results if isinstance(r, BaseException)]
    assert not failures, failures[:3]
    assert await matching_total() == cap
    row = (
        await MatchingPledge.select(MatchingPledge.drawn_fen)
        .where(MatchingPledge.project.slug == SLUG)
        .first()
    )
    assert row is not None
    assert row["drawn_fen"] == cap
    assert await draws_here() == 20


async def test_an_online_donation_draws_its_match_and_its_refund_reverses_it() -> None:
    from linju.platform.kernel.money import Money
    from linju.projects.donations.rules import DonationInput, ProviderOutcome
    from linju.projects.donations.services import apply_outcome, create_donation, record_refund

    await load_demo()
    await pledge(cap_fen=50_000)
    donation = await create_donation(
        SLUG,
        DonationInput(
            amount_fen=10_000, currency="CNY", display_name="王阿姨", anonymous=False,
            message="", email="",
        ),
        "sandbox",
        5_000_000,
    )  # fmt: skip
    await apply_outcome(donation.id, ProviderOutcome.SUCCEEDED)
    assert await matching_total() == 10_000
    await apply_outcome(donation.id, ProviderOutcome.SUCCEEDED)  # a redelivered report
    assert await matching_total() == 10_000
    await record_refund(donation.id, "re_test_1", Money(10_000, "CNY"))
    assert await matching_total() == 0


async def test_an_unconfirmed_pledge_draws_nothing() -> None:
    await load_demo()
    await unconfirmed_pledge(cap_fen=30_000)
    async with write_transaction():
        assert await draw_matches(SLUG, "before-confirmation", 10_000, utc_now()) == 0
    assert await draws_here() == 0
    assert await matching_total() == 0


async def test_a_confirmed_pledge_matches_only_donations_confirmed_after_it() -> None:
    await load_demo()
    pledge_id = await unconfirmed_pledge(cap_fen=30_000)
    earlier = utc_now()
    await decide_pledge(MEMBER, SLUG, pledge_id, await seat(), True, "看过承诺函")
    async with write_transaction():
        assert await draw_matches(SLUG, "earlier", 10_000, earlier) == 0
        assert await draw_matches(SLUG, "later", 10_000, utc_now()) == 10_000
    assert await matching_total() == 10_000


async def test_a_rejected_pledge_never_draws_and_is_decided_once() -> None:
    await load_demo()
    pledge_id = await unconfirmed_pledge(cap_fen=30_000)
    with pytest.raises(ValidationErrors) as refused:
        await decide_pledge(MEMBER, SLUG, pledge_id, await seat(), False, " ")
    assert "reason" in refused.value.problems
    await decide_pledge(MEMBER, SLUG, pledge_id, await seat(), False, "没有盖章的承诺函")
    with pytest.raises(Conflict):
        await decide_pledge(MEMBER, SLUG, pledge_id, await seat(position=1), True, "")
    async with write_transaction():
        assert await draw_matches(SLUG, "after-rejection", 10_000, utc_now()) == 0
    row = await MatchingPledge.select().where(MatchingPledge.id == pledge_id).first()
    assert row is not None
    assert row["confirmed_at"] is None
    assert row["rejected_at"] is not None
    assert row["decision_reason"] == "没有盖章的承诺函"


async def test_the_recorder_cannot_confirm_their_own_pledge_by_account_or_by_seat() -> None:
    await load_demo()
    people = await make_people()
    secretary = Actor(id=people.secretary, label="sec")
    pledge_id = await unconfirmed_pledge(cap_fen=30_000, recorder=secretary)
    with pytest.raises(RuleViolation, match="recorder"):
        await decide_pledge(secretary, SLUG, pledge_id, await seat(), True, "")
    # The recorder's account linked to a seat: refused through the seat too.
    member_seat = await seat()
    await CommitteeMember.update({CommitteeMember.account_id: people.secretary}).where(
        CommitteeMember.id == member_seat
    )
    with pytest.raises(RuleViolation, match="recorder"):
        await decide_pledge(MEMBER, SLUG, pledge_id, member_seat, True, "")
    row = await MatchingPledge.select().where(MatchingPledge.id == pledge_id).first()
    assert row is not None
    assert row["confirmed_at"] is None
    assert row["rejected_at"] is None


async def test_a_seat_on_another_committee_cannot_decide() -> None:
    await load_demo()
    pledge_id = await unconfirmed_pledge(cap_fen=30_000)
    with pytest.raises(NotFound):
        await decide_pledge(MEMBER, SLUG, pledge_id, await seat("tongqu-leyuan"), True, "")


async def test_pledges_are_bounded_in_ratio_and_cap_and_need_the_letter() -> None:
    await load_demo()
    now = utc_now()
    plan = PledgePlan("shanghui", "街道商会", 4, 1, 2_000_001, now, now + timedelta(days=9))
    with pytest.raises(ValidationErrors) as refused:
        await create_pledge(RECORDER, SLUG, plan)  # the reading room's goal is ¥20,000
    assert set(refused.value.problems) == {"ratio", "cap", "letter"}
    assert await MatchingPledge.count().where(MatchingPledge.project.slug == SLUG) == 0
