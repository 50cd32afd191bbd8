"""Needs and their supports: post, support, withdraw, review, answer (accept into a draft
project, or decline with a public reason); paper supports recorded by one steward and confirmed
by another (the second-person rule of offline gifts, `stewardship.rules.second_person_problem`).

Every use case is one write transaction that first locks the need's row (`SELECT … FOR UPDATE` on
PostgreSQL; SQLite's BEGIN IMMEDIATE serialises writers), so supports arriving at once are
counted one after another: the one that reaches the community's threshold moves the need to
review, once, and queues the secretary's notice in the same transaction. One household, one
support per need, is the database's too: a unique index on (need, household), whichever the
channel, so a household that supported on paper cannot support online and vice versa.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from linju.platform.accounts.audit import Actor, record_audit
from linju.platform.accounts.mailer import in_both_languages
from linju.platform.accounts.outbox import queue_mail
from linju.platform.accounts.tables import Account, SecretaryRole
from linju.platform.db import is_postgres, write_transaction
from linju.platform.i18n import translate_in
from linju.platform.jobs import queue
from linju.platform.kernel.clock import utc_now
from linju.platform.kernel.errors import (
    N_,
    Conflict,
    DomainError,
    NotFound,
    RuleViolation,
    ValidationErrors,
)
from linju.platform.settings import get_settings
from linju.projects.core.services.drafting import create_draft, propose_slug
from linju.projects.core.services.photos import StoredPhoto
from linju.projects.core.services.projects import ProjectDraft
from linju.projects.core.tables import Project
from linju.projects.stewardship.rules import second_person_problem
from linju.projects.voice import rules
from linju.projects.voice.rules import Channel, NeedStatus
from linju.projects.voice.services.households import HouseholdView, community_row
from linju.projects.voice.services.results import story_of_result
from linju.projects.voice.services.stewards import is_steward
from linju.projects.voice.tables import Household, Need, NeedPhoto, Support, VoiceSettings

NO_NEED = N_("No such need")


class NotSteward(DomainError):
    status = 403
    title = "Forbidden"


@dataclass(frozen=True, slots=True)
class Settings:
    threshold_percent: int = rules.DEFAULT_THRESHOLD_PERCENT
    answer_days: int = rules.DEFAULT_ANSWER_DAYS


async def settings_of(community_id: int) -> Settings:
    row = await VoiceSettings.select().where(VoiceSettings.community == community_id).first()
    if row is None:
        return Settings()
    return Settings(int(row["threshold_percent"]), int(row["answer_days"]))


async def save_settings(
    actor: Actor, community_slug: str, threshold_percent: int | None, answer_days: int | None
) -> None:
    problems = rules.settings_problems(threshold_percent, answer_days)
    if problems:
        raise ValidationErrors(problems)
    if threshold_percent is None or answer_days is None:  # settings_problems said so
        raise ValidationErrors(problems)
    async with write_transaction():
        community = await community_row(community_slug)
        before = await settings_of(community["id"])
        if await VoiceSettings.exists().where(VoiceSettings.community == community["id"]):
            await VoiceSettings.update(
                {
                    VoiceSettings.threshold_percent: threshold_percent,
                    VoiceSettings.answer_days: answer_days,
                }
            ).where(VoiceSettings.community == community["id"])
        else:
            await VoiceSettings.insert(
                VoiceSettings(
                    community=community["id"],
                    threshold_percent=threshold_percent,
                    answer_days=answer_days,
                )
            )
        await record_audit(
            actor,
            "voice.settings",
            "community",
            community_slug,
            before={
                "threshold_percent": before.threshold_percent,
                "answer_days": before.answer_days,
            },
            after={"threshold_percent": threshold_percent, "answer_days": answer_days},
        )


async def _locked_need(need_id: int) -> dict[str, Any]:
    if not rules.valid_id(need_id):
        raise NotFound(NO_NEED)
    query = Need.select(
        Need.id,
        Need.community,
        Need.title,
        Need.body,
        Need.place,
        Need.status,
        Need.author_household,
        Need.heard_by,
        Need.community.slug.as_alias("community_slug"),
    ).where(Need.id == need_id)
    if is_postgres():
        query = query.lock_rows("UPDATE", of=(Need,))
    row = await query.first()
    if row is None:
        raise NotFound(NO_NEED)
    return dict(row)


def _check(problem: str | None) -> None:
    if problem is not None:
        raise RuleViolation(problem)


async def _set_status(need_id: int, status: NeedStatus, **values: Any) -> None:
    now = utc_now()
    changes: dict[Any, Any] = {Need.status: status.value, Need.status_changed_at: now}
    for name, value in values.items():
        changes[getattr(Need, name)] = value
    await Need.update(changes).where(Need.id == need_id)


async def _add_photos(need_id: int, photos: Sequence[StoredPhoto]) -> None:
    if len(photos) > rules.MAX_NEED_PHOTOS:
        raise ValidationErrors({"photos": N_("At most 4 photos")})
    if photos:
        await NeedPhoto.insert(
            *(
                NeedPhoto(need=need_id, url=p.url, sha256=p.sha256, position=i)
                for i, p in enumerate(photos)
            )
        )


async def _insert_need(
    community_id: int,
    text: rules.NeedText,
    *,
    household_id: int | None,
    heard_by: int | None,
    photos: Sequence[StoredPhoto],
) -> int:
    problems = rules.need_problems(text)
    if problems:
        raise ValidationErrors(problems)
    now = utc_now()
    rows = await Need.insert(
        Need(
            community=community_id,
            title=text.title.strip(),
            body=text.body.strip(),
            place=text.place.strip(),
            author_household=household_id,
            heard_by=heard_by,
            status=NeedStatus.OPEN.value,
            created_at=now,
            status_changed_at=now,
        )
    ).returning(Need.id)
    need_id = int(rows[0]["id"])
    await _add_photos(need_id, photos)
    return need_id


async def post_need(
    household: HouseholdView, text: rules.NeedText, photos: Sequence[StoredPhoto] = ()
) -> int:
    """A household's need, open for supports (its own support is not counted for it: it
    supports like any other household)."""
    async with write_transaction():
        return await _insert_need(
            household.community_id, text, household_id=household.id, heard_by=None, photos=photos
        )


async def post_heard_need(
    actor: Actor,
    community_slug: str,
    text: rules.NeedText,
    photos: Sequence[StoredPhoto] = (),
) -> int:
    """A need a steward heard at a meeting, marked as such (no household is its author)."""
    async with write_transaction():
        community = await community_row(community_slug)
        if actor.id is None or not await is_steward(actor.id, community["id"]):
            raise NotSteward(N_("Only a steward of the community can do this"))
        need_id = await _insert_need(
            community["id"], text, household_id=None, heard_by=actor.id, photos=photos
        )
        await record_audit(actor, "voice.need.heard", "need", need_id, after={"title": text.title})
    return need_id


async def withdraw_need(household: HouseholdView, need_id: int) -> None:
    async with write_transaction():
        need = await _locked_need(need_id)
        if need["author_household"] != household.id:
            raise RuleViolation(N_("Only the household that posted a need can withdraw it"))
        _check(rules.transition_problem(NeedStatus(need["status"]), NeedStatus.WITHDRAWN))
        await _set_status(need_id, NeedStatus.WITHDRAWN)


# Supports -----------------------------------------------------------------------------------


async def counted_supports(need_id: int) -> int:
    """Online supports and confirmed paper ones."""
    return int(
        await Support.count().where(
            (Support.need == need_id)
            & ((Support.channel == Channel.ONLINE.value) | Support.confirmed_at.is_not_null())
        )
    )


async def _existing_support(need_id: int, household_id: int) -> dict[str, Any] | None:
    row = (
        await Support.select(Support.id, Support.channel)
        .where((Support.need == need_id) & (Support.household == household_id))
        .first()
    )
    return dict(row) if row else None


async def _review_when_reached(need: dict[str, Any]) -> bool:
    """Move an open need to review when its counted supports reach the threshold; True if so."""
    if NeedStatus(need["status"]) is not NeedStatus.OPEN:
        return False
    households = int(await Household.count().where(Household.community == need["community"]))
    settings = await settings_of(need["community"])
    threshold = rules.review_threshold(households, settings.threshold_percent)
    supports = await counted_supports(need["id"])
    if supports < threshold:
        return False
    started = utc_now()
    await _set_status(need["id"], NeedStatus.UNDER_REVIEW, review_started_at=started)
    await _notify_secretaries(need, supports, settings.answer_days)
    await queue_reminders(need["id"], started, settings.answer_days)
    return True


async def secretary_addresses(community_id: int) -> list[str]:
    """The e-mail of each active secretary of the community."""
    rows = await SecretaryRole.select(SecretaryRole.account).where(
        SecretaryRole.community == community_id
    )
    ids = [r["account"] for r in rows] or [-1]
    accounts = await Account.select(Account.email).where(
        Account.id.is_in(ids) & (Account.is_active == True)  # noqa: E712
    )
    return [str(a["email"]) for a in accounts]


REMINDER_JOB = "voice.answer_reminder"  # run by services/reminders.py


def reminder_key(need_id: int, kind: rules.ReminderKind) -> str:
    return f"voice.answer:{kind.value}:{need_id}"


async def queue_reminders(need_id: int, review_started_at: datetime, answer_days: int) -> None:
    """Queue the need's reminders to its secretaries, each delayed to its moment
    (`rules.reminder_at`); call in the transaction that moves the need to review."""
    now = utc_now()
    for kind in rules.ReminderKind:
        at = rules.reminder_at(kind, review_started_at, answer_days)
        if at is None:
            continue
        await queue.enqueue(
            REMINDER_JOB,
            {"need": need_id, "kind": kind.value},
            delay=max(at - now, timedelta(0)),
            dedupe_key=reminder_key(need_id, kind),
        )


async def _notify_secretaries(need: dict[str, Any], supports: int, answer_days: int) -> None:
    link = f"{get_settings().base_url}/secretary/c/{need['community_slug']}/needs"

    def subject(locale: str) -> str:
        return translate_in(locale, "Residents' need #%(id)s awaits your answer", id=need["id"])

    def body(locale: str) -> str:
        return translate_in(
            locale,
            "%(supports)s households support the need #%(id)s, %(title)s: it is now under "
            "review. Answer it (accept it as a draft project, or decline it with a reason) "
            "within %(days)s days: %(link)s",
            supports=supports,
            id=need["id"],
            title=need["title"],
            days=answer_days,
            link=link,
        )

    addresses = await secretary_addresses(need["community"])
    await queue_mail([in_both_languages(address, subject, body) for address in addresses])


async def support(household: HouseholdView, need_id: int) -> bool:
    """The household supports the need online; True when this support moved it to review."""
    async with write_transaction():
        need = await _locked_need(need_id)
        if need["community"] != household.community_id:
            raise NotFound(NO_NEED)
        _check(rules.support_problem(NeedStatus(need["status"])))
        existing = await _existing_support(need_id, household.id)
        if existing is not None:
            if existing["channel"] == Channel.PAPER.value:
                raise Conflict(N_("Your household's support was recorded on paper already"))
            raise Conflict(N_("Your household supports this need already"))
        await Support.insert(
            Support(
                need=need_id,
                household=household.id,
                channel=Channel.ONLINE.value,
                created_at=utc_now(),
            )
        )
        return await _review_when_reached(need)


async def withdraw_support(household: HouseholdView, need_id: int) -> None:
    async with write_transaction():
        need = await _locked_need(need_id)
        existing = await _existing_support(need_id, household.id)
        if existing is None:
            raise NotFound(N_("Your household does not support this need"))
        _check(
            rules.withdraw_support_problem(NeedStatus(need["status"]), Channel(existing["channel"]))
        )
        await Support.delete().where(Support.id == existing["id"])


async def _steward_of(actor: Actor, community_id: int) -> None:
    if actor.id is None or not await is_steward(actor.id, community_id):
        raise NotSteward(N_("Only a steward of the community can do this"))


async def household_at(community_id: int, address: rules.HouseholdAddress) -> int:
    row = (
        await Household.select(Household.id)
        .where(
            (Household.community == community_id)
            & (Household.building == address.building)
            & (Household.unit == address.unit)
            & (Household.room == address.room)
        )
        .first()
    )
    if row is None:
        raise ValidationErrors({"room": N_("No household with this address in the community")})
    return int(row["id"])


async def record_paper_support(actor: Actor, need_id: int, address: rules.HouseholdAddress) -> int:
    """A steward records a support a household gave at a meeting or on paper; it counts once
    another steward confirms it. The support's id."""
    async with write_transaction():
        need = await _locked_need(need_id)
        await _steward_of(actor, need["community"])
        _check(rules.support_problem(NeedStatus(need["status"])))
        household_id = await household_at(need["community"], address)
        existing = await _existing_support(need_id, household_id)
        if existing is not None:
            if existing["channel"] == Channel.ONLINE.value:
                raise Conflict(N_("This household supports the need online already"))
            raise Conflict(N_("This household's paper support is recorded already"))
        rows = await Support.insert(
            Support(
                need=need_id,
                household=household_id,
                channel=Channel.PAPER.value,
                recorded_by=actor.id,
                created_at=utc_now(),
            )
        ).returning(Support.id)
        support_id = int(rows[0]["id"])
        await record_audit(
            actor, "voice.support.paper", "need", need_id, after={"household": address.label}
        )
    return support_id


async def confirm_paper_support(actor: Actor, support_id: int) -> bool:
    """A second steward confirms a paper support; True when it moved the need to review."""
    if not rules.valid_id(support_id):
        raise NotFound(N_("No such paper support"))
    async with write_transaction():
        row = await Support.select(Support.need).where(Support.id == support_id).first()
        if row is None:
            raise NotFound(N_("No such paper support"))
        need = await _locked_need(int(row["need"]))
        await _steward_of(actor, need["community"])
        support_row = (
            await Support.select(
                Support.id, Support.channel, Support.recorded_by, Support.confirmed_at
            )
            .where(Support.id == support_id)
            .first()
        )
        if support_row is None or support_row["channel"] != Channel.PAPER.value:
            raise NotFound(N_("No such paper support"))
        if support_row["confirmed_at"] is not None:
            raise Conflict(N_("This paper support is confirmed already"))
        _check(second_person_problem(int(support_row["recorded_by"] or 0), (actor.id,)))
        if NeedStatus(need["status"]) not in (NeedStatus.OPEN, NeedStatus.UNDER_REVIEW):
            raise RuleViolation(N_("This need no longer takes supports"))
        await Support.update(
            {Support.confirmed_by: actor.id, Support.confirmed_at: utc_now()}
        ).where(Support.id == support_id)
        await record_audit(actor, "voice.support.confirm", "need", need["id"])
        return await _review_when_reached(need)


async def withdraw_paper_support(actor: Actor, support_id: int) -> None:
    """A steward takes back a paper support (`rules.withdraw_paper_problem` says who and when);
    audited with the household's address and whether it had been confirmed."""
    if not rules.valid_id(support_id):
        raise NotFound(N_("No such paper support"))
    async with write_transaction():
        row = await Support.select(Support.need).where(Support.id == support_id).first()
        if row is None:
            raise NotFound(N_("No such paper support"))
        need = await _locked_need(int(row["need"]))
        await _steward_of(actor, need["community"])
        support_row = (
            await Support.select(
                Support.id,
                Support.channel,
                Support.recorded_by,
                Support.confirmed_by,
                Support.household.building.as_alias("building"),
                Support.household.unit.as_alias("unit"),
                Support.household.room.as_alias("room"),
            )
            .where(Support.id == support_id)
            .first()
        )
        if support_row is None or support_row["channel"] != Channel.PAPER.value:
            raise NotFound(N_("No such paper support"))
        _check(
            rules.withdraw_paper_problem(
                NeedStatus(need["status"]),
                int(actor.id or 0),
                support_row["recorded_by"],
                support_row["confirmed_by"],
            )
        )
        await Support.delete().where(Support.id == support_id)
        label = rules.HouseholdAddress(
            support_row["building"], support_row["unit"], support_row["room"]
        ).label
        await record_audit(
            actor,
            "voice.support.paper_withdraw",
            "need",
            need["id"],
            before={
                "household": label,
                "recorded_by": support_row["recorded_by"],
                "confirmed_by": support_row["confirmed_by"],
            },
        )


# The secretary's answer ---------------------------------------------------------------------


def _story(need: dict[str, Any], result: str = "") -> str:
    """The draft's story: what and where the residents asked for, then what their hearing
    decided, if one closed (the secretary's starting point; ADR 0034)."""
    place = f"\n\n{need['place']}" if need["place"] else ""
    decided = f"\n\n{result}" if result else ""
    return f"{need['body']}{place}{decided}"


async def accept_need(actor: Actor, community_slug: str, need_id: int, goal_fen: int) -> str:
    """Accept a need under review: a draft project of its community, linked to it (through
    core's drafting service), for the secretary to finish; the project's slug."""
    if goal_fen <= 0:
        raise ValidationErrors({"goal": N_("Enter the first estimate of the cost in yuan")})
    async with write_transaction():
        need = await _locked_need(need_id)
        if need["community_slug"] != community_slug:
            raise NotFound(NO_NEED)
        _check(rules.transition_problem(NeedStatus(need["status"]), NeedStatus.ACCEPTED))
        slug = await propose_slug(need["title"])
        project_id = await create_draft(
            actor,
            ProjectDraft(
                community_slug=need["community_slug"],
                slug=slug,
                title=need["title"],
                goal_fen=goal_fen,
                summary=need["title"],
                story=_story(need, await story_of_result(need_id)),
            ),
        )
        await _set_status(need_id, NeedStatus.ACCEPTED, answered_by=actor.id, project=project_id)
        await record_audit(actor, "voice.need.accept", "need", need_id, after={"project": slug})
    return slug


async def accept_as_project(
    actor: Actor, community_slug: str, need_id: int, project_slug: str
) -> None:
    """Accept a need under review as a project of its community that exists already (the demo's
    playground, whose project came before the platform had needs); the pages draft a new one."""
    async with write_transaction():
        need = await _locked_need(need_id)
        if need["community_slug"] != community_slug:
            raise NotFound(NO_NEED)
        _check(rules.transition_problem(NeedStatus(need["status"]), NeedStatus.ACCEPTED))
        project = (
            await Project.select(Project.id)
            .where((Project.slug == project_slug) & (Project.community == need["community"]))
            .first()
        )
        if project is None:
            raise NotFound(N_("No project %(slug)s"), slug=project_slug)
        await _set_status(
            need_id, NeedStatus.ACCEPTED, answered_by=actor.id, project=int(project["id"])
        )
        await record_audit(
            actor, "voice.need.accept", "need", need_id, after={"project": project_slug}
        )


async def decline_need(actor: Actor, community_slug: str, need_id: int, reason: str) -> None:
    problems = rules.decline_problems(reason)
    if problems:
        raise ValidationErrors(problems)
    async with write_transaction():
        need = await _locked_need(need_id)
        if need["community_slug"] != community_slug:
            raise NotFound(NO_NEED)
        _check(rules.transition_problem(NeedStatus(need["status"]), NeedStatus.DECLINED))
        await _set_status(
            need_id, NeedStatus.DECLINED, answered_by=actor.id, decline_reason=reason.strip()
        )
        await record_audit(
            actor, "voice.need.decline", "need", need_id, after={"reason": reason.strip()}
        )


async def project_slug_of(need_id: int) -> str | None:
    row = await Need.select(Need.project.slug.as_alias("slug")).where(Need.id == need_id).first()
    return row["slug"] if row else None


async def community_of_need(need_id: int) -> int:
    if not rules.valid_id(need_id):
        raise NotFound(NO_NEED)
    row = await Need.select(Need.community).where(Need.id == need_id).first()
    if row is None:
        raise NotFound(NO_NEED)
    return int(row["community"])
