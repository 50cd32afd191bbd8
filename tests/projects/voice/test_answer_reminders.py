"""The secretaries' reminders of a need's answer: queued when the need goes to review (a day
before the due time, and once it is late), mailed once per need and kind in both languages,
nothing once the need is answered, and waiting longer when the community gives more days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from linju.platform.accounts.audit import COMMAND_LINE
from linju.platform.accounts.tables import SentMail
from linju.platform.jobs import queue
from linju.platform.jobs.registry import JobContext
from linju.platform.jobs.worker import drain_jobs
from linju.platform.kernel.clock import utc_now
from linju.projects.voice import rules
from linju.projects.voice.rules import NeedText, ReminderKind
from linju.projects.voice.services import needs, reminders
from linju.projects.voice.tables import Need
from tests.accounts_support import make_account
from tests.projects.voice.voice_support import community_with_households, household

C = "yuanzi"
CTX = JobContext(job_id=0, key="test-run", attempt=0)


def test_the_moments_of_the_reminders() -> None:
    start = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    assert rules.reminder_at(ReminderKind.DUE_SOON, start, 14) == datetime(
        2026, 11, 14, 8, 0, tzinfo=UTC
    )
    assert rules.reminder_at(ReminderKind.LATE, start, 14) == datetime(
        2026, 11, 15, 8, 0, 1, tzinfo=UTC
    )
    assert rules.reminder_at(ReminderKind.DUE_SOON, start, 1) is None  # the notice says it
    assert rules.reminder_at(ReminderKind.LATE, start, 1) == datetime(
        2026, 11, 2, 8, 0, 1, tzinfo=UTC
    )


async def _under_review() -> int:
    ids = await community_with_households(count=20)  # one support is the threshold
    await make_account("sec@example.cn", "secretary", community=C)
    author = await household(C, ids[0])
    need_id = await needs.post_need(author, NeedText("儿童游乐场", "孩子们没有玩的地方", ""))
    assert await needs.support(author, need_id)
    return need_id


async def _started_ago(need_id: int, ago: timedelta) -> None:
    await Need.update({Need.review_started_at: utc_now() - ago}).where(Need.id == need_id)


async def _reminders_sent() -> list[str]:
    rows = await SentMail.select(SentMail.subject, SentMail.job_key).order_by(SentMail.id)
    return [r["subject"] for r in rows if r["job_key"].startswith("voice-answer-")]


@pytest.mark.usefixtures("db")
async def test_queued_at_review_and_mailed_once_per_kind() -> None:
    need_id = await _under_review()
    waiting = [j for j in await queue.list_jobs() if j.name == needs.REMINDER_JOB]
    assert len(waiting) == 2
    soonest = min(j.execute_after for j in waiting) - utc_now()
    assert timedelta(days=12, hours=23) < soonest <= timedelta(days=13)
    latest = max(j.execute_after for j in waiting) - utc_now()
    assert timedelta(days=13, hours=23) < latest <= timedelta(days=14, seconds=1)
    await drain_jobs()  # the review's notice; the reminders' moments have not come
    assert await _reminders_sent() == []

    # a day before the answer is due: the hourly sweep finds it and mails the secretary
    await _started_ago(need_id, timedelta(days=13, hours=1))
    await reminders.sweep_job({}, CTX)
    await drain_jobs()
    subject = (
        f"居民需求 #{need_id}：明天是答复期限 / "
        f"Residents' need #{need_id}: your answer is due tomorrow"
    )
    assert await _reminders_sent() == [subject]
    [mail] = await SentMail.select(SentMail.recipient).where(
        SentMail.job_key == reminders.reminder_message_key(need_id, ReminderKind.DUE_SOON)
    )
    assert mail["recipient"] == "sec@example.cn"
    # the delayed job of the same kind, when its time comes, sends nothing more
    await reminders.reminder_job({"need": need_id, "kind": "due_soon"}, CTX)
    await reminders.sweep_job({}, CTX)
    await drain_jobs()
    assert len(await _reminders_sent()) == 1

    # past the due time: the late reminder, once
    await _started_ago(need_id, timedelta(days=14, minutes=1))
    await reminders.sweep_job({}, CTX)
    await drain_jobs()
    await reminders.reminder_job({"need": need_id, "kind": "late"}, CTX)
    await reminders.sweep_job({}, CTX)
    await drain_jobs()
    sent = await _reminders_sent()
    assert sent == [
        subject,
        f"居民需求 #{need_id}：答复已逾期 / Residents' need #{need_id}: your answer is late",
    ]


@pytest.mark.usefixtures("db")
async def test_the_mail_in_both_languages() -> None:
    need = {
        "id": 7,
        "title": "儿童游乐场",
        "review_started_at": datetime(2026, 11, 1, 0, 0, tzinfo=UTC),
    }
    due = datetime(2026, 11, 15, 0, 0, tzinfo=UTC)
    mail = reminders.reminder_mail("s@x.cn", ReminderKind.LATE, need, due, "https://l.cn/x")
    chinese, english = mail.body.split("\n\n----\n\n")
    assert "需求 #7「儿童游乐场」" in chinese
    assert "2026-11-15 08:00" in chinese  # the community's time
    assert "https://l.cn/x" in chinese
    assert english.startswith("The need #7, 儿童游乐场, was to be answered by 2026-11-15 08:00")


@pytest.mark.usefixtures("db")
async def test_nothing_once_answered_and_later_when_more_days_are_given() -> None:
    need_id = await _under_review()
    await _started_ago(need_id, timedelta(days=20))
    await needs.save_settings(COMMAND_LINE, C, 5, 30)  # thirty days now: not late yet
    await reminders.reminder_job({"need": need_id, "kind": "late"}, CTX)
    assert await _reminders_sent() == []
    waits = [j.execute_after - utc_now() for j in await queue.list_jobs()]
    # queued again for the new moment: thirty days after the review began, ten days from now
    assert [w for w in waits if timedelta(days=9, hours=23) < w < timedelta(days=10, minutes=1)]
    await needs.decline_need(COMMAND_LINE, C, need_id, "小区没有空地")
    await _started_ago(need_id, timedelta(days=40))
    await reminders.reminder_job({"need": need_id, "kind": "late"}, CTX)
    await reminders.sweep_job({}, CTX)
    await drain_jobs()
    assert await _reminders_sent() == []
