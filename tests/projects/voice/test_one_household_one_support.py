"""One household, one support per need, by the database under concurrency (PostgreSQL): many
phones of one household press "support" at once; exactly one row is written, the others are
refused with 409, and the threshold moves the need to review once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from piccolo.engine.postgres import PostgresEngine

from linju.platform.db import close_pool, get_engine
from linju.platform.kernel.errors import Conflict
from linju.projects.voice.rules import HouseholdAddress, NeedText
from linju.projects.voice.services import needs
from linju.projects.voice.tables import Need, Support
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


async def test_concurrent_supports_of_one_household_write_one_row(pool: None) -> None:
    ids = await community_with_households(count=100)
    phone = await household("yuanzi", ids[0])
    need_id = await needs.post_need(phone, NeedText("游乐场", "孩子们需要", ""))
    results = await asyncio.gather(
        *(needs.support(phone, need_id) for _ in range(RACERS)), return_exceptions=True
    )
    assert sum(1 for r in results if r is False) == 1
    assert all(isinstance(r, Conflict) for r in results if r is not False)
    assert await Support.count().where(Support.need == need_id) == 1


async def test_concurrent_paper_and_online_supports_of_one_household_write_one_row(
    pool: None,
) -> None:
    ids = await community_with_households(count=100)
    phone = await household("yuanzi", ids[0])
    first, second = await steward("yuanzi", "a@example.cn"), await steward("yuanzi", "b@example.cn")
    need_id = await needs.post_need(phone, NeedText("游乐场", "孩子们需要", ""))
    address = HouseholdAddress("1", "1", "101")
    racers = [needs.support(phone, need_id) for _ in range(RACERS // 2)] + [
        needs.record_paper_support(who, need_id, address) for who in (first, second) * (RACERS // 4)
    ]
    results = await asyncio.gather(*racers, return_exceptions=True)
    assert sum(1 for r in results if not isinstance(r, BaseException)) == 1
    assert all(isinstance(r, Conflict) for r in results if isinstance(r, BaseException))
    assert await Support.count().where(Support.need == need_id) == 1


async def test_concurrent_supports_reaching_the_threshold_move_the_need_once(pool: None) -> None:
    ids = await community_with_households(count=20)  # 5%: one support is the threshold
    phones = [await household("yuanzi", i) for i in ids[:RACERS]]
    need_id = await needs.post_need(phones[0], NeedText("游乐场", "孩子们需要", ""))
    results = await asyncio.gather(
        *(needs.support(p, need_id) for p in phones), return_exceptions=True
    )
    assert results.count(True) == 1  # the one that reached the threshold
    row = await Need.select(Need.status).where(Need.id == need_id).first()
    assert row == {"status": "under_review"}
