"""One rule decides whether a project takes money, asked by every way money comes in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest

from linju.platform.accounts.audit import Actor
from linju.platform.kernel.clock import local_today, utc_now
from linju.platform.kernel.errors import Conflict, NotFound
from linju.projects.core.rules import NOT_TAKING_DONATIONS, ProjectStatus
from linju.projects.core.tables import Project
from linju.projects.demo import load_demo
from linju.projects.donations.rules import DonationInput
from linju.projects.donations.services import create_donation
from linju.projects.stewardship.rules import OfflineGift, PledgePlan
from linju.projects.stewardship.services.matching import create_pledge
from linju.projects.stewardship.services.offline_donations import record_offline_donation

SECRETARY = Actor(1, "secretary")
COMPLETED = "wuding-huayuan"  # the demo's rooftop garden


async def _online(slug: str) -> object:
    gift = DonationInput(5_000, "CNY", "王阿姨", False, "", "")
    return await create_donation(slug, gift, "sandbox", 5_000_000)


async def _offline(slug: str) -> object:
    gift = OfflineGift(5_000, "李叔", False, local_today(), "cash", "/photos/x.jpg", "0" * 64)
    return await record_offline_donation(SECRETARY, slug, gift)


async def _pledge(slug: str) -> object:
    now = utc_now()
    plan = PledgePlan("fulian", "区妇联", 1, 1, 100_000, now, now + timedelta(days=9))
    return await create_pledge(SECRETARY, slug, plan)


WAYS_IN: list[Callable[[str], Awaitable[object]]] = [_online, _offline, _pledge]


@pytest.mark.parametrize("way_in", WAYS_IN)
async def test_a_project_that_takes_no_money_refuses_every_way_in(
    db: str, way_in: Callable[[str], Awaitable[object]]
) -> None:
    assert await load_demo()
    with pytest.raises(Conflict) as refused:
        await way_in(COMPLETED)
    assert refused.value.message == NOT_TAKING_DONATIONS


@pytest.mark.parametrize("way_in", WAYS_IN)
async def test_a_draft_is_not_found_by_giving_to_it(
    db: str, way_in: Callable[[str], Awaitable[object]]
) -> None:
    assert await load_demo()
    await Project.update({Project.status: ProjectStatus.DRAFT.value}).where(
        Project.slug == COMPLETED
    )
    with pytest.raises(NotFound):
        await way_in(COMPLETED)
