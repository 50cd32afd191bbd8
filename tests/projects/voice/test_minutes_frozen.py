"""Signed minutes are frozen by the database itself, on both engines: whoever writes, once
anyone has signed the minutes' text no longer changes and the minutes are not deleted; once
signed off nothing of them changes; a sign-off is never changed nor withdrawn, and none is
added after the sign-off (the voice migration of 28 Nov 2026, docs/adr/0034)."""

from __future__ import annotations

import pytest
from piccolo.querystring import QueryString

from linju.platform.db import get_engine
from linju.projects.voice.rules import MinutesText, NeedText
from linju.projects.voice.services import minutes, needs
from linju.projects.voice.tables import HearingMinutes, MinutesSignoff
from tests.projects.voice.minutes_support import closed_hearing
from tests.projects.voice.voice_support import community_with_households, household, steward

pytestmark = pytest.mark.usefixtures("db")
C = "yuanzi"
TEXT = MinutesText("居民议事会在2号楼架空层举行。", "王阿姨、李师傅等 12 人", "选址：2号楼架空层")


async def _run(sql: str, *values: object) -> None:
    await get_engine().run_querystring(QueryString(sql, *values))


async def _refused(sql: str, *values: object) -> None:
    with pytest.raises(Exception, match="frozen") as refused:
        await _run(sql, *values)
    assert "refused" in str(refused.value)


async def test_the_database_freezes_signed_minutes() -> None:
    ids = await community_with_households(count=10)
    first = await steward(C, "a@example.cn")
    second = await steward(C, "b@example.cn")
    need_id = await needs.post_need(await household(C, ids[9]), NeedText("游乐场", "孩子", ""))
    hearing_id = await closed_hearing(first, C, ids, need_id=need_id)
    minutes_id = await minutes.draft_minutes(first, hearing_id, TEXT)
    # a draft nobody signed: its text may change (the service's edits)
    await _run("UPDATE hearing_minutes SET summary = {} WHERE id = {}", "草稿改过", minutes_id)

    assert await minutes.sign_minutes(first, hearing_id) is False
    # signed once: the text no longer changes, the minutes are not deleted, the sign-off stays
    await _refused("UPDATE hearing_minutes SET summary = {} WHERE id = {}", "偷改", minutes_id)
    await _refused("UPDATE hearing_minutes SET decisions = {} WHERE id = {}", "偷改", minutes_id)
    await _refused("DELETE FROM hearing_minutes WHERE id = {}", minutes_id)
    await _refused("UPDATE hearing_minutes_signoff SET account = {}", 999)
    await _refused("DELETE FROM hearing_minutes_signoff WHERE minutes = {}", minutes_id)

    # the completing sign-off still anchors and closes them (a column other than the text)
    assert await minutes.sign_minutes(second, hearing_id) is True
    row = await HearingMinutes.select().where(HearingMinutes.id == minutes_id).first()
    assert row is not None
    assert row["signed_off_at"] is not None
    assert row["summary"] == "草稿改过"
    assert row["log_checkpoint"]

    # signed off: nothing of them changes, and no sign-off is added
    await _refused("UPDATE hearing_minutes SET log_checkpoint = {} WHERE id = {}", "", minutes_id)
    await _refused("UPDATE hearing_minutes SET signed_off_at = NULL WHERE id = {}", minutes_id)
    await _refused("DELETE FROM hearing_minutes WHERE id = {}", minutes_id)
    await _refused(
        "INSERT INTO hearing_minutes_signoff (minutes, account, at) "
        "SELECT id, 4242, signed_off_at FROM hearing_minutes WHERE id = {}",
        minutes_id,
    )
    assert await MinutesSignoff.count().where(MinutesSignoff.minutes == minutes_id) == 2
    after = await HearingMinutes.select().where(HearingMinutes.id == minutes_id).first()
    assert after == row
