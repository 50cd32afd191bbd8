"""A community with households for the residents'-voice tests."""

from __future__ import annotations

from typing import Any

from linju.platform.accounts.audit import COMMAND_LINE, Actor
from linju.projects.core.services.communities import create_community
from linju.projects.voice.services import households, stewards
from linju.projects.voice.services.households import HouseholdView
from tests.accounts_support import in_app


async def community_with_households(
    slug: str = "yuanzi", count: int = 20, client: Any = None
) -> list[int]:
    """A community with `count` households (building 1, unit 1, rooms 101…)."""

    async def make() -> list[int]:
        await create_community(slug, "院子", "测试区")
        rows = "\n".join(f"1,1,{101 + i}" for i in range(count))
        await households.import_households(COMMAND_LINE, slug, "building,unit,room\n" + rows)
        return [int(r["id"]) for r in await households.households_of(slug)]

    return await in_app(client, make)


async def household(community: str, household_id: int, client: Any = None) -> HouseholdView:
    """The household as a phone that entered its code sees it."""

    async def enter() -> HouseholdView:
        [(_, code)] = await households.issue_codes(COMMAND_LINE, community, [household_id])
        token = await households.enter_code(community, code, f"10.0.0.{household_id % 250}")
        view = await households.household_for_token(token)
        assert view is not None
        return view

    return await in_app(client, enter)


async def steward(community: str, email: str, client: Any = None) -> Actor:
    async def name() -> Actor:
        account_id = await stewards.name_steward(
            COMMAND_LINE, community, email, email.split("@")[0], "zh_CN"
        )
        return Actor(id=account_id, label=email)

    return await in_app(client, name)
