"""A closed playground hearing for the minutes' tests: households voted, the window passed, the
tally frozen (2号楼架空层 by 3 to 1; 跷跷板 and 转转椅)."""

from __future__ import annotations

from typing import Any

from linju.platform.accounts.audit import Actor
from linju.projects.voice.services import hearings
from linju.projects.voice.services.hearings import Subject
from tests.accounts_support import in_app
from tests.projects.voice.hearing_support import (
    EQUIPMENT,
    SITE,
    ballot,
    options,
    window,
    window_passes,
)
from tests.projects.voice.voice_support import household

VOTES = (
    ("2号楼架空层", "跷跷板", "转转椅"),
    ("2号楼架空层", "跷跷板", "转转椅"),
    ("2号楼架空层", "跷跷板", "秋千"),
    ("小区东门空地", "转转椅"),
)


async def closed_hearing(
    who: Actor,
    community: str,
    household_ids: list[int],
    *,
    need_id: int | None = None,
    project_slug: str | None = None,
    client: Any = None,
) -> int:
    async def make() -> int:
        return await hearings.open_hearing(
            who,
            community,
            Subject(need_id=need_id, project_slug=project_slug),
            "游乐场听证会",
            [SITE, EQUIPMENT],
            window(),
        )

    hearing_id = await in_app(client, make)
    chosen = await options(hearing_id, client)
    for household_id, texts in zip(household_ids, VOTES, strict=False):
        phone = await household(community, household_id, client)
        choice = ballot(chosen, *texts)

        async def vote(p: Any = phone, c: dict[int, set[int]] = choice) -> bool:
            return await hearings.vote(p, hearing_id, c)

        await in_app(client, vote)
    await window_passes(hearing_id, client)
    assert await in_app(client, lambda: hearings.close_hearing(hearing_id))
    return hearing_id
