"""One household, one ballot per hearing, under concurrency (PostgreSQL): many phones of one
household vote at once and one ballot is written (the others change it, or are refused); paper
and online racing for one household write exactly one ballot; a vote racing the close either
lands before the tally or is refused."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from piccolo.engine.postgres import PostgresEngine

from linju.platform.db import close_pool, get_engine
from linju.platform.kernel.errors import Conflict, RuleViolation
from linju.projects.voice.rules import HouseholdAddress, NeedText
from linju.projects.voice.services import hearings, needs
from linju.projects.voice.tables import Ballot, BallotChoice, HearingTally
from tests.projects.voice.hearing_support import (
    ballot,
    open_playground_hearing,
    options,
    window_passes,
)
from tests.projects.voice.voice_support import community_with_households, household, steward

pytestmark = [pytest.mark.postgres_only, pytest.mark.usefixtures("db")]
RACERS = 12


@pytest.fixture
async def pool(db: str) -> AsyncIterator[None]:
    engine = get_engine()
    assert isinstance(engine, PostgresEngine)
    await engine.start_connection_pool(min_size=RACERS, max_size=RACERS)
    try:
        yield
    finally:
        await close_pool()


async def _hearing() -> tuple[list[int], int, dict[str, tuple[int, int]]]:
    ids = await community_with_households(count=20)
    first = await steward("yuanzi", "a@example.cn")
    author = await household("yuanzi", ids[5])
    need_id = await needs.post_need(author, NeedText("游乐场", "孩子们需要", ""))
    hearing_id = await open_playground_hearing(first, "yuanzi", need_id)
    return ids, hearing_id, await options(hearing_id)


async def test_concurrent_votes_of_one_household_write_one_ballot(pool: None) -> None:
    ids, hearing_id, chosen = await _hearing()
    phone = await household("yuanzi", ids[0])
    picks = [("2号楼架空层", "跷跷板"), ("小区东门空地", "秋千")]
    results = await asyncio.gather(
        *(hearings.vote(phone, hearing_id, ballot(chosen, *picks[i % 2])) for i in range(RACERS)),
        return_exceptions=True,
    )
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert results.count(False) == 1  # one vote wrote the ballot, the others changed it
    assert await Ballot.count().where(Ballot.hearing == hearing_id) == 1
    assert await BallotChoice.count() == 2  # the last vote's two choices, nothing mixed


async def test_paper_and_online_racing_for_one_household_write_one_ballot(pool: None) -> None:
    ids, hearing_id, chosen = await _hearing()
    phone = await household("yuanzi", ids[0])
    first = await steward("yuanzi", "b@example.cn")
    second = await steward("yuanzi", "c@example.cn")
    address = HouseholdAddress("1", "1", "101")
    online = ballot(chosen, "2号楼架空层", "秋千")
    on_paper = ballot(chosen, "小区东门空地", "秋千")
    racers = [hearings.vote(phone, hearing_id, online) for _ in range(RACERS // 2)] + [
        hearings.record_paper_ballot(who, hearing_id, address, on_paper)
        for who in (first, second) * (RACERS // 4)
    ]
    results = await asyncio.gather(*racers, return_exceptions=True)
    assert all(isinstance(r, Conflict) for r in results if isinstance(r, BaseException)), results
    rows = await Ballot.select(Ballot.channel).where(Ballot.hearing == hearing_id)
    assert len(rows) == 1
    written = [r for r in results if not isinstance(r, BaseException)]
    if rows[0]["channel"] == "paper":
        assert len(written) == 1  # the paper ballot; every online vote was refused
    else:
        assert all(isinstance(r, bool) for r in written)  # online votes only (then changes)


async def test_votes_racing_the_close_land_before_the_tally_or_are_refused(pool: None) -> None:
    ids, hearing_id, chosen = await _hearing()
    phones = [await household("yuanzi", i) for i in ids[:RACERS]]
    await hearings.vote(phones[0], hearing_id, ballot(chosen, "2号楼架空层", "秋千"))
    await window_passes(hearing_id)
    results = await asyncio.gather(
        hearings.close_hearing(hearing_id),
        *(hearings.vote(p, hearing_id, ballot(chosen, "2号楼架空层", "秋千")) for p in phones),
        hearings.close_hearing(hearing_id),
        return_exceptions=True,
    )
    assert [r for r in results if r is True] == [True]  # closed once
    assert all(isinstance(r, RuleViolation) for r in results[1:-1])  # the window had passed
    tally = await HearingTally.select(HearingTally.votes).where(HearingTally.hearing == hearing_id)
    assert sum(r["votes"] for r in tally) == 2  # the one ballot: a site and a swing
    assert await BallotChoice.count() == 0
