"""Fundraising ends the moment confirmed money reaches the goal, in the confirming transaction."""

from __future__ import annotations

import pytest

from linju.platform.kernel.errors import Conflict
from linju.projects.core import read as queries
from linju.projects.core.rules import ProjectStatus
from linju.projects.demo import load_demo
from linju.projects.donations.rules import DonationInput, ProviderOutcome
from linju.projects.donations.services import apply_outcome, create_donation

MAX_FEN = 5_000_000


def gift(amount_fen: int) -> DonationInput:
    return DonationInput(
        amount_fen=amount_fen,
        currency="CNY",
        display_name="王阿姨",
        anonymous=False,
        message="",
        email="",
    )


async def confirmed_gift(slug: str, amount_fen: int) -> None:
    donation = await create_donation(slug, gift(amount_fen), "sandbox", MAX_FEN)
    await apply_outcome(donation.id, ProviderOutcome.SUCCEEDED)


async def test_the_donation_that_reaches_the_goal_ends_fundraising(db: str) -> None:
    assert await load_demo()
    slug = "yuelanshi"
    project = await queries.get_project(slug)
    missing = project.summary.goal.amount - project.summary.raised.amount
    assert missing > 100

    await confirmed_gift(slug, missing - 100)
    assert (await queries.get_project(slug)).summary.status is ProjectStatus.FUNDRAISING

    # A donor who started paying before the goal was reached is still confirmed afterwards.
    late = await create_donation(slug, gift(5_000), "sandbox", MAX_FEN)
    await confirmed_gift(slug, 100)
    after = await queries.get_project(slug)
    assert after.summary.status is ProjectStatus.FUNDED
    assert after.summary.raised.amount >= after.summary.goal.amount
    await apply_outcome(late.id, ProviderOutcome.SUCCEEDED)
    assert (await queries.get_project(slug)).summary.raised.amount == (
        after.summary.raised.amount + 5_000
    )

    # A funded project that does not accept more refuses new donations.
    with pytest.raises(Conflict):
        await create_donation(slug, gift(1_000), "sandbox", MAX_FEN)
