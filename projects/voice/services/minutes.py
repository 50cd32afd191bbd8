"""The minutes of a hearing (docs/adr/0034-hearing-minutes.md): after the close a steward drafts
them (the meeting's summary, the attendees, the decisions, prefilled from the frozen tally's
chosen options), editable until the first sign-off; then they are signed off, and frozen.

Who signs: for a hearing of a draft project, its committee (the members holding a seat with an
account), as many as spending's quorum asks of the whole committee (core's `committee_quorum`);
for a hearing of a need, two different community stewards, the drafter possibly one of them.
The sign-off that completes them anchors them: the latest checkpoint of the transparency log
(its signed text and its tree size) and, for a project's hearing, the project's ledger head, read
through a port the composition root registers (voice imports neither the ledger nor spending).
Signed-off minutes are never written again: every use case here refuses them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from linju.platform.accounts.audit import Actor, record_audit
from linju.platform.db import is_postgres, write_transaction
from linju.platform.kernel.clock import utc_now
from linju.platform.kernel.errors import (
    N_,
    Conflict,
    DomainError,
    NotFound,
    RuleViolation,
    ValidationErrors,
)
from linju.projects.core.tables import CommitteeMember, Project
from linju.projects.voice import rules
from linju.projects.voice.services import hearings
from linju.projects.voice.services.results import chosen, decisions_text
from linju.projects.voice.services.stewards import is_steward
from linju.projects.voice.tables import (
    Hearing,
    HearingMinutes,
    MinutesSignoff,
)

NO_MINUTES = N_("This hearing has no minutes yet")
SIGN_IN_INBOX = N_("Sign the minutes of the hearing %(title)s (%(signed)s of %(needed)s signed)")


class NotSigner(DomainError):
    status = 403
    title = "Forbidden"


@dataclass(frozen=True, slots=True)
class Anchor:
    """What signed-off minutes anchor: the log's latest checkpoint (signed text, tree size) and,
    for a project's hearing, the project's ledger head hash."""

    checkpoint: str
    size: int
    project_head: str = ""


AnchorSource = Callable[[str | None], Awaitable[Anchor]]
_anchor_source: list[AnchorSource] = []


def register_anchor_source(source: AnchorSource) -> None:
    """The root's reader of the log's checkpoint and a project's head (`wire()`)."""
    _anchor_source[:] = [source]


async def _anchor(project_slug: str | None) -> Anchor:
    if not _anchor_source:
        raise RuntimeError("no anchor source is registered (linju.platform.app.wire)")
    return await _anchor_source[0](project_slug)


# Reading ------------------------------------------------------------------------------------


async def hearing_row(hearing_id: int, *, close: bool = True) -> dict[str, Any]:
    """The hearing's ids, closed first when its window has passed (`close`; a write use case
    closes it before its own transaction)."""
    if not rules.valid_id(hearing_id):
        raise NotFound(hearings.NO_HEARING)
    if close:
        await hearings.close_if_due(hearing_id)
    row = (
        await Hearing.select(
            Hearing.id,
            Hearing.community,
            Hearing.need,
            Hearing.project,
            Hearing.project.slug.as_alias("project_slug"),
            Hearing.closed_at,
        )
        .where(Hearing.id == hearing_id)
        .first()
    )
    if row is None:
        raise NotFound(hearings.NO_HEARING)
    return dict(row)


async def prefilled_decisions(hearing_id: int) -> str:
    hearing = await hearing_row(hearing_id)
    if hearing["closed_at"] is None:
        return ""
    return decisions_text(await chosen(hearing_id))


async def minutes_row(hearing_id: int, *, lock: bool = False) -> dict[str, Any] | None:
    query = HearingMinutes.select().where(HearingMinutes.hearing == hearing_id)
    if lock and is_postgres():
        query = query.lock_rows("UPDATE", of=(HearingMinutes,))
    row = await query.first()
    return dict(row) if row else None


async def signers_of(minutes_id: int) -> list[dict[str, Any]]:
    return list(
        await MinutesSignoff.select(MinutesSignoff.account, MinutesSignoff.at)
        .where(MinutesSignoff.minutes == minutes_id)
        .order_by(MinutesSignoff.at)
    )


async def has_signed(account_id: int, hearing_id: int) -> bool:
    row = await minutes_row(hearing_id)
    if row is None:
        return False
    return bool(
        await MinutesSignoff.exists().where(
            (MinutesSignoff.minutes == row["id"]) & (MinutesSignoff.account == account_id)
        )
    )


async def committee_size(project_id: int) -> int:
    return int(await CommitteeMember.count().where(CommitteeMember.project == project_id))


async def may_sign(account_id: int, hearing: dict[str, Any]) -> bool:
    """A seat with an account on the project's committee, or, for a need, a community steward."""
    if hearing["project"] is not None:
        return bool(
            await CommitteeMember.exists().where(
                (CommitteeMember.project == hearing["project"])
                & (CommitteeMember.account_id == account_id)
            )
        )
    return await is_steward(account_id, int(hearing["community"]))


async def signers_needed(hearing: dict[str, Any]) -> int:
    if hearing["project"] is not None:
        return rules.signers_needed(True, max(1, await committee_size(int(hearing["project"]))))
    return rules.signers_needed(False, 0)


# Writing ------------------------------------------------------------------------------------


async def draft_minutes(actor: Actor, hearing_id: int, text: rules.MinutesText) -> int:
    """A steward of the hearing's community writes the minutes of a closed hearing, or edits
    them while no one has signed; the minutes' id."""
    problems = rules.minutes_problems(text)
    if problems:
        raise ValidationErrors(problems)
    await hearing_row(hearing_id)  # closed first, if due
    async with write_transaction():
        hearing = await hearing_row(hearing_id, close=False)
        if actor.id is None or not await is_steward(actor.id, int(hearing["community"])):
            raise NotSigner(N_("Only a steward of the community can do this"))
        if hearing["closed_at"] is None:
            raise RuleViolation(N_("The minutes are written once the hearing has closed"))
        existing = await minutes_row(hearing_id, lock=True)
        values = {
            "summary": text.summary.strip(),
            "attendees": text.attendees.strip(),
            "decisions": text.decisions.strip(),
        }
        if existing is None:
            rows = await HearingMinutes.insert(
                HearingMinutes(
                    hearing=hearing_id,
                    drafted_by=actor.id,
                    drafted_at=utc_now(),
                    summary=values["summary"],
                    attendees=values["attendees"],
                    decisions=values["decisions"],
                )
            ).returning(HearingMinutes.id)
            minutes_id = int(rows[0]["id"])
            await record_audit(actor, "voice.minutes.draft", "hearing", hearing_id, after=values)
            return minutes_id
        minutes_id = int(existing["id"])
        if await MinutesSignoff.exists().where(MinutesSignoff.minutes == minutes_id):
            raise Conflict(N_("The minutes have been signed: they can no longer be changed"))
        await HearingMinutes.update(
            {
                HearingMinutes.summary: values["summary"],
                HearingMinutes.attendees: values["attendees"],
                HearingMinutes.decisions: values["decisions"],
                HearingMinutes.drafted_by: actor.id,
                HearingMinutes.drafted_at: utc_now(),
            }
        ).where(HearingMinutes.id == minutes_id)
        await record_audit(
            actor,
            "voice.minutes.edit",
            "hearing",
            hearing_id,
            before={k: existing[k] for k in values},
            after=values,
        )
        return minutes_id


async def sign_minutes(actor: Actor, hearing_id: int) -> bool:
    """The actor signs the minutes off; True when theirs completed them (then anchored and
    frozen)."""
    await hearing_row(hearing_id)  # closed first, if due
    async with write_transaction():
        hearing = await hearing_row(hearing_id, close=False)
        minutes = await minutes_row(hearing_id, lock=True)
        if minutes is None:
            raise NotFound(NO_MINUTES)
        if minutes["signed_off_at"] is not None:
            raise Conflict(N_("The minutes are signed off already"))
        if actor.id is None or not await may_sign(actor.id, hearing):
            if hearing["project"] is not None:
                raise NotSigner(N_("Only a member of the project's committee can sign"))
            raise NotSigner(N_("Only a steward of the community can do this"))
        if await MinutesSignoff.exists().where(
            (MinutesSignoff.minutes == minutes["id"]) & (MinutesSignoff.account == actor.id)
        ):
            raise Conflict(N_("You have signed these minutes already"))
        await MinutesSignoff.insert(
            MinutesSignoff(minutes=minutes["id"], account=actor.id, at=utc_now())
        )
        signed = int(await MinutesSignoff.count().where(MinutesSignoff.minutes == minutes["id"]))
        needed = await signers_needed(hearing)
        done = signed >= needed
        after: dict[str, Any] = {"signed": signed, "needed": needed}
        if done:
            anchor = await _anchor(hearing["project_slug"])
            await HearingMinutes.update(
                {
                    HearingMinutes.log_checkpoint: anchor.checkpoint,
                    HearingMinutes.log_size: anchor.size,
                    HearingMinutes.project_head: anchor.project_head,
                    HearingMinutes.signed_off_at: utc_now(),
                }
            ).where(HearingMinutes.id == minutes["id"])
            after.update(log_size=anchor.size, project_head=anchor.project_head)
        await record_audit(actor, "voice.minutes.sign", "hearing", hearing_id, after=after)
        return done


async def awaiting_signer(account_id: int) -> list[dict[str, Any]]:
    """Minutes of project hearings this account may sign and has not (the committee's inbox):
    hearing id, title, the project's slug and title, signed and needed."""
    seats = await CommitteeMember.select(CommitteeMember.project).where(
        CommitteeMember.account_id == account_id
    )
    projects = [int(s["project"]) for s in seats]
    if not projects:
        return []
    rows = await HearingMinutes.select(
        HearingMinutes.id,
        HearingMinutes.hearing,
        HearingMinutes.hearing.title.as_alias("title"),
        HearingMinutes.hearing.project.as_alias("project"),
    ).where(HearingMinutes.signed_off_at.is_null() & HearingMinutes.hearing.project.is_in(projects))
    titles = {
        int(p["id"]): (p["slug"], p["title"])
        for p in await Project.select(Project.id, Project.slug, Project.title).where(
            Project.id.is_in(projects)
        )
    }
    waiting = []
    for row in rows:
        signers = {int(s["account"]) for s in await signers_of(int(row["id"]))}
        if account_id in signers:
            continue
        size = await committee_size(int(row["project"]))
        waiting.append(
            {
                "hearing": int(row["hearing"]),
                "title": row["title"],
                "project_slug": titles[int(row["project"])][0],
                "project_title": titles[int(row["project"])][1],
                "signed": len(signers),
                "needed": rules.signers_needed(True, max(1, size)),
            }
        )
    return waiting
