"""The secretaries' reminder of a need's answer: once a day before it is due, once when it is late.

When a need goes to review (`needs._review_when_reached`), two jobs are queued in the same
transaction (`needs.queue_reminders`), each delayed to its moment (`rules.reminder_at`):
`due_soon` a day before the answer is due (none when the community gives a single day: the
review's own notice says so) and `late` when the due time has passed. Each is queued under a
dedupe key per need and kind, and each message's Message-ID is fixed by (need, kind, recipient)
(`outbox.deliver`, recorded in `sent_mail`): a reminder is mailed once per need and kind to each
secretary, whatever the retries.

A job reads the need again when it runs: answered (or withdrawn) in time, it mails nothing; if
the community has since given more days, it queues itself again for the new moment. An hourly
sweep queues the reminders of any need under review whose moment has come without them (a need
that went to review before this job existed, or days shortened since), under the same keys.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from linju.platform.accounts.mailer import Mail, in_both_languages
from linju.platform.accounts.outbox import deliver
from linju.platform.accounts.tables import SentMail
from linju.platform.i18n import translate_in
from linju.platform.jobs import queue
from linju.platform.jobs.registry import (
    JobContext,
    JobKind,
    Schedule,
    register,
    register_schedule,
)
from linju.platform.kernel.clock import community_time, utc_now
from linju.platform.kernel.errors import N_
from linju.platform.settings import get_settings
from linju.projects.voice import rules
from linju.projects.voice.rules import NeedStatus, ReminderKind
from linju.projects.voice.services.needs import (
    REMINDER_JOB,
    reminder_key,
    secretary_addresses,
    settings_of,
)
from linju.projects.voice.tables import Need

SWEEP_JOB = "voice.answer_reminders"
SWEEP_EVERY = timedelta(hours=1)


def reminder_message_key(need_id: int, kind: ReminderKind) -> str:
    """The key each reminder's Message-ID derives from (and `sent_mail` records)."""
    return f"voice-answer-{kind.value}-{need_id}"


def reminder_mail(
    to: str, kind: ReminderKind, need: dict[str, Any], due: datetime, link: str
) -> Mail:
    when = f"{community_time(due):%Y-%m-%d %H:%M}"
    if kind is ReminderKind.DUE_SOON:
        subject_id = N_("Residents' need #%(id)s: your answer is due tomorrow")
        body_id = N_(
            "The need #%(id)s, %(title)s, has been under review since %(started)s. Answer it "
            "(accept it as a draft project, or decline it with a reason) by %(due)s: %(link)s"
        )
    else:
        subject_id = N_("Residents' need #%(id)s: your answer is late")
        body_id = N_(
            "The need #%(id)s, %(title)s, was to be answered by %(due)s; its page now shows the "
            "answer as late. Accept it as a draft project, or decline it with a reason: %(link)s"
        )
    started = f"{community_time(need['review_started_at']):%Y-%m-%d}"
    return in_both_languages(
        to,
        lambda locale: translate_in(locale, subject_id, id=need["id"]),
        lambda locale: translate_in(
            locale,
            body_id,
            id=need["id"],
            title=need["title"],
            started=started,
            due=when,
            link=link,
        ),
    )


async def reminder_job(args: dict[str, Any], ctx: JobContext) -> None:
    need_id = int(args["need"])
    kind = ReminderKind(args["kind"])
    need = (
        await Need.select(
            Need.id,
            Need.title,
            Need.status,
            Need.community,
            Need.community.slug.as_alias("community_slug"),
            Need.review_started_at,
        )
        .where(Need.id == need_id)
        .first()
    )
    if need is None or NeedStatus(need["status"]) is not NeedStatus.UNDER_REVIEW:
        return  # answered or withdrawn in time
    settings = await settings_of(int(need["community"]))
    at = rules.reminder_at(kind, need["review_started_at"], settings.answer_days)
    now = utc_now()
    if at is None:
        return
    if at > now:  # more days given since it was queued: wait for the new moment
        await queue.enqueue(
            REMINDER_JOB,
            args,
            delay=at - now,
            dedupe_key=f"{reminder_key(need_id, kind)}:{at.isoformat()}",
        )
        return
    due = rules.answer_due(need["review_started_at"], settings.answer_days)
    if kind is ReminderKind.DUE_SOON and now >= due:
        return  # too late for "due tomorrow": the late reminder says what matters
    link = f"{get_settings().base_url}/secretary/c/{need['community_slug']}/needs"
    for address in await secretary_addresses(int(need["community"])):
        mail = reminder_mail(address, kind, need, due, link)
        # One Message-ID per need, kind and secretary, whichever job or attempt sends it.
        await deliver(replace(ctx, key=reminder_message_key(need_id, kind)), mail)


async def sweep_job(args: dict[str, Any], ctx: JobContext) -> None:
    """Queue the reminders whose moment has come for every need under review (the dedupe keys
    and the fixed Message-IDs keep each to one mail)."""
    rows = await Need.select(Need.id, Need.community, Need.review_started_at).where(
        (Need.status == NeedStatus.UNDER_REVIEW.value) & Need.review_started_at.is_not_null()
    )
    now = utc_now()
    days: dict[int, int] = {}
    for row in rows:
        community = int(row["community"])
        if community not in days:
            days[community] = (await settings_of(community)).answer_days
        for kind in ReminderKind:
            at = rules.reminder_at(kind, row["review_started_at"], days[community])
            if at is None or at > now:
                continue
            if not await SentMail.exists().where(
                SentMail.job_key == reminder_message_key(int(row["id"]), kind)
            ):
                await queue.enqueue(
                    REMINDER_JOB,
                    {"need": int(row["id"]), "kind": kind.value},
                    # not the delayed job's key: that one may still wait for an older moment
                    dedupe_key=f"{reminder_key(int(row['id']), kind)}:sweep",
                )


def register_jobs() -> None:
    register(JobKind(REMINDER_JOB, reminder_job))
    register(JobKind(SWEEP_JOB, sweep_job, max_attempts=3))
    register_schedule(Schedule(SWEEP_JOB, lambda settings: SWEEP_EVERY))
