"""Hearings (听证会 / 议事会): a steward opens one for a need or a draft project; households vote
online while it is open (and may change their vote until the close), or on paper, recorded by one
steward and counted once a second steward confirms it; at the close the tally is written once and
every ballot's choices are deleted in the same transaction
(docs/adr/0032-hearings-secret-ballots.md).

Every use case that touches a hearing's ballots is one write transaction that first locks the
hearing's row (`SELECT … FOR UPDATE` on PostgreSQL; SQLite's BEGIN IMMEDIATE serialises writers),
so a vote and the close, or two votes of one household, happen one after the other. One ballot
per household is also the database's: a unique index on (hearing, household), whichever the
channel. The close runs from a job queued for `closes_at` and, lazily, from any page, API answer
or command that finds the window past (`close_if_due`): a lost job never leaves results hidden.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from linju.platform.accounts.audit import Actor, record_audit
from linju.platform.db import is_postgres, write_transaction
from linju.platform.jobs import queue
from linju.platform.jobs.registry import JobContext, JobKind, register
from linju.platform.kernel.clock import utc_now
from linju.platform.kernel.errors import (
    N_,
    Conflict,
    NotFound,
    RuleViolation,
    ValidationErrors,
)
from linju.projects.core.rules import ProjectStatus
from linju.projects.core.tables import Project
from linju.projects.stewardship.rules import second_person_problem
from linju.projects.voice import rules
from linju.projects.voice.rules import Channel, HearingState, NeedStatus, QuestionKind
from linju.projects.voice.services.households import HouseholdView, community_row
from linju.projects.voice.services.needs import NotSteward, household_at
from linju.projects.voice.services.stewards import is_steward
from linju.projects.voice.tables import (
    Ballot,
    BallotChoice,
    Hearing,
    HearingOption,
    HearingQuestion,
    HearingTally,
    Household,
    Need,
)

NO_HEARING = N_("No such hearing")
NO_PAPER_BALLOT = N_("No such paper ballot")
CLOSE_JOB = "voice.close_hearing"


def field_name(question_id: int) -> str:
    """A question's field in the ballot form (and the key of its problem)."""
    return f"question-{question_id}"


@dataclass(frozen=True, slots=True)
class Subject:
    """What a hearing is about: a need of the community or a draft project of it (one)."""

    need_id: int | None = None
    project_slug: str | None = None


def _check(problem: str | None) -> None:
    if problem is not None:
        raise RuleViolation(problem)


async def _steward_of(actor: Actor, community_id: int) -> None:
    if actor.id is None or not await is_steward(actor.id, community_id):
        raise NotSteward(N_("Only a steward of the community can do this"))


# Opening ------------------------------------------------------------------------------------


async def _subject_ids(community_id: int, subject: Subject) -> tuple[int | None, int | None]:
    if (subject.need_id is None) == (subject.project_slug is None):
        raise RuleViolation(N_("A hearing is about a need or a draft project"))
    if subject.need_id is not None:
        if not rules.valid_id(subject.need_id):
            raise NotFound(N_("No such need"))
        need = (
            await Need.select(Need.id, Need.status)
            .where((Need.id == subject.need_id) & (Need.community == community_id))
            .first()
        )
        if need is None:
            raise NotFound(N_("No such need"))
        if NeedStatus(need["status"]) not in (NeedStatus.OPEN, NeedStatus.UNDER_REVIEW):
            raise RuleViolation(N_("A hearing is held on an open need or one under review"))
        return int(need["id"]), None
    project = (
        await Project.select(Project.id, Project.status)
        .where((Project.slug == subject.project_slug) & (Project.community == community_id))
        .first()
    )
    if project is None:
        raise NotFound(N_("No such project"))
    if project["status"] != ProjectStatus.DRAFT.value:
        raise RuleViolation(N_("A hearing is held on a project while it is a draft"))
    return None, int(project["id"])


def hearing_problems(
    title: str, questions: Sequence[rules.QuestionDraft], window: rules.HearingWindow
) -> dict[str, str]:
    """Every problem of the form to open a hearing, by field (`question-N` the N-th, from 1)."""
    problems = rules.window_problems(window, utc_now())
    title_problem = rules.hearing_title_problem(title)
    if title_problem:
        problems["title"] = title_problem
    if not questions:
        problems["question-1"] = N_("Ask at least one question")
    elif len(questions) > rules.MAX_QUESTIONS:
        problems["question-1"] = N_("A hearing asks at most 10 questions")
    for position, question in enumerate(questions, start=1):
        found = rules.question_problems(question)
        if found:
            problems[f"question-{position}"] = found[0]
    return problems


async def open_hearing(
    actor: Actor,
    community_slug: str,
    subject: Subject,
    title: str,
    questions: Sequence[rules.QuestionDraft],
    window: rules.HearingWindow,
) -> int:
    """A steward opens a hearing of the community's households; its id. Its close is queued
    for `closes_at` in the same transaction."""
    problems = hearing_problems(title, questions, window)
    if problems:
        raise ValidationErrors(problems)
    async with write_transaction():
        community = await community_row(community_slug)
        await _steward_of(actor, community["id"])
        need_id, project_id = await _subject_ids(community["id"], subject)
        now = utc_now()
        rows = await Hearing.insert(
            Hearing(
                community=community["id"],
                need=need_id,
                project=project_id,
                title=title.strip(),
                opened_by=actor.id,
                opens_at=window.opens_at,
                closes_at=window.closes_at,
                meeting_at=window.meeting_at,
                meeting_place=window.meeting_place.strip(),
                created_at=now,
            )
        ).returning(Hearing.id)
        hearing_id = int(rows[0]["id"])
        for position, question in enumerate(questions, start=1):
            question_rows = await HearingQuestion.insert(
                HearingQuestion(
                    hearing=hearing_id,
                    position=position,
                    text=question.text.strip(),
                    kind=question.kind.value,
                    max_choices=question.max_choices,
                )
            ).returning(HearingQuestion.id)
            question_id = int(question_rows[0]["id"])
            await HearingOption.insert(
                *(
                    HearingOption(question=question_id, position=index, text=option.strip())
                    for index, option in enumerate(question.options, start=1)
                )
            )
        await queue.enqueue(
            CLOSE_JOB,
            {"hearing": hearing_id},
            delay=max(window.closes_at - now, timedelta(0)),
            dedupe_key=f"hearing-close-{hearing_id}",
        )
        await record_audit(
            actor,
            "voice.hearing.open",
            "hearing",
            hearing_id,
            after={
                "title": title.strip(),
                "opens_at": window.opens_at,
                "closes_at": window.closes_at,
                "need": need_id,
                "project": subject.project_slug,
            },
        )
    return hearing_id


async def cancel_hearing(actor: Actor, community_slug: str, hearing_id: int) -> None:
    """The secretary cancels a hearing that has not opened (no ballot can exist yet): it is
    deleted with its questions; its queued close finds nothing and does nothing."""
    async with write_transaction():
        hearing = await _locked_hearing(hearing_id)
        if hearing["community_slug"] != community_slug:
            raise NotFound(NO_HEARING)
        if _state(hearing) is not HearingState.SCHEDULED:
            raise RuleViolation(N_("Only a hearing that has not opened can be cancelled"))
        await Hearing.delete().where(Hearing.id == hearing_id)
        await record_audit(
            actor, "voice.hearing.cancel", "hearing", hearing_id, before={"title": hearing["title"]}
        )


# Reading a hearing's row --------------------------------------------------------------------


async def _hearing_row(hearing_id: int, *, lock: bool) -> dict[str, Any]:
    if not rules.valid_id(hearing_id):
        raise NotFound(NO_HEARING)
    query = Hearing.select(
        Hearing.id,
        Hearing.community,
        Hearing.community.slug.as_alias("community_slug"),
        Hearing.title,
        Hearing.opens_at,
        Hearing.closes_at,
        Hearing.closed_at,
    ).where(Hearing.id == hearing_id)
    if lock and is_postgres():
        query = query.lock_rows("UPDATE", of=(Hearing,))
    row = await query.first()
    if row is None:
        raise NotFound(NO_HEARING)
    return dict(row)


async def _locked_hearing(hearing_id: int) -> dict[str, Any]:
    return await _hearing_row(hearing_id, lock=True)


def _state(hearing: dict[str, Any]) -> HearingState:
    return rules.hearing_state(
        hearing["opens_at"], hearing["closes_at"], hearing["closed_at"], utc_now()
    )


async def question_specs(hearing_id: int) -> list[rules.QuestionSpec]:
    questions = (
        await HearingQuestion.select(
            HearingQuestion.id, HearingQuestion.kind, HearingQuestion.max_choices
        )
        .where(HearingQuestion.hearing == hearing_id)
        .order_by(HearingQuestion.position)
    )
    ids = [q["id"] for q in questions] or [-1]
    options = (
        await HearingOption.select(HearingOption.id, HearingOption.question)
        .where(HearingOption.question.is_in(ids))
        .order_by(HearingOption.position)
    )
    by_question: dict[int, list[int]] = {}
    for option in options:
        by_question.setdefault(int(option["question"]), []).append(int(option["id"]))
    return [
        rules.QuestionSpec(
            id=int(q["id"]),
            kind=QuestionKind(q["kind"]),
            max_choices=int(q["max_choices"]),
            option_ids=tuple(by_question.get(int(q["id"]), ())),
        )
        for q in questions
    ]


def _checked_choices(
    specs: Sequence[rules.QuestionSpec], chosen: dict[int, set[int]]
) -> list[tuple[int, int]]:
    problems = rules.choice_problems(list(specs), chosen)
    if problems:
        raise ValidationErrors({field_name(q): message for q, message in problems.items()})
    return [(question, option) for question, options in chosen.items() for option in options]


async def _existing_ballot(hearing_id: int, household_id: int) -> dict[str, Any] | None:
    row = (
        await Ballot.select(Ballot.id, Ballot.channel)
        .where((Ballot.hearing == hearing_id) & (Ballot.household == household_id))
        .first()
    )
    return dict(row) if row else None


async def _write_choices(ballot_id: int, choices: Sequence[tuple[int, int]]) -> None:
    await BallotChoice.insert(
        *(BallotChoice(ballot=ballot_id, question=q, option=o) for q, o in choices)
    )


# Voting -------------------------------------------------------------------------------------


async def vote(household: HouseholdView, hearing_id: int, chosen: dict[int, set[int]]) -> bool:
    """The household's online ballot while the hearing is open; a second vote replaces the
    first until the close. True when this was a change."""
    await close_if_due(hearing_id)
    async with write_transaction():
        hearing = await _locked_hearing(hearing_id)
        if hearing["community"] != household.community_id:
            raise NotFound(NO_HEARING)
        _check(rules.vote_problem(_state(hearing)))
        choices = _checked_choices(await question_specs(hearing_id), chosen)
        existing = await _existing_ballot(hearing_id, household.id)
        now = utc_now()
        if existing is not None:
            if existing["channel"] == Channel.PAPER.value:
                raise Conflict(N_("Your household's ballot was recorded on paper already"))
            await BallotChoice.delete().where(BallotChoice.ballot == existing["id"])
            await _write_choices(int(existing["id"]), choices)
            await Ballot.update({Ballot.changed_at: now}).where(Ballot.id == existing["id"])
            return True
        rows = await Ballot.insert(
            Ballot(
                hearing=hearing_id,
                household=household.id,
                channel=Channel.ONLINE.value,
                created_at=now,
                changed_at=now,
            )
        ).returning(Ballot.id)
        await _write_choices(int(rows[0]["id"]), choices)
        return False


async def has_voted(household: HouseholdView, hearing_id: int) -> str | None:
    """The channel of the household's own ballot ("online" or "paper"), or None: what a
    household may know of its own part, never its choices once cast nor anyone else's."""
    existing = await _existing_ballot(hearing_id, household.id)
    return None if existing is None else str(existing["channel"])


async def record_paper_ballot(
    actor: Actor,
    hearing_id: int,
    address: rules.HouseholdAddress,
    chosen: dict[int, set[int]],
) -> int:
    """A steward records a household's paper ballot while the hearing is open; it counts once a
    second steward confirms it. The ballot's id."""
    await close_if_due(hearing_id)
    async with write_transaction():
        hearing = await _locked_hearing(hearing_id)
        await _steward_of(actor, hearing["community"])
        _check(rules.vote_problem(_state(hearing)))
        household_id = await household_at(hearing["community"], address)
        choices = _checked_choices(await question_specs(hearing_id), chosen)
        existing = await _existing_ballot(hearing_id, household_id)
        if existing is not None:
            if existing["channel"] == Channel.ONLINE.value:
                raise Conflict(N_("This household voted online already"))
            raise Conflict(N_("This household's paper ballot is recorded already"))
        now = utc_now()
        rows = await Ballot.insert(
            Ballot(
                hearing=hearing_id,
                household=household_id,
                channel=Channel.PAPER.value,
                recorded_by=actor.id,
                created_at=now,
                changed_at=now,
            )
        ).returning(Ballot.id)
        ballot_id = int(rows[0]["id"])
        await _write_choices(ballot_id, choices)
        await record_audit(
            actor,
            "voice.ballot.paper",
            "hearing",
            hearing_id,
            after={"household": address.label},  # who took part, never what they chose
        )
    return ballot_id


async def confirm_paper_ballot(actor: Actor, ballot_id: int) -> int:
    """A second steward, not the recorder, confirms a paper ballot while the hearing is open;
    the hearing's id."""
    if not rules.valid_id(ballot_id):
        raise NotFound(NO_PAPER_BALLOT)
    row = await Ballot.select(Ballot.hearing).where(Ballot.id == ballot_id).first()
    if row is None:
        raise NotFound(NO_PAPER_BALLOT)
    hearing_id = int(row["hearing"])
    await close_if_due(hearing_id)
    async with write_transaction():
        hearing = await _locked_hearing(hearing_id)
        await _steward_of(actor, hearing["community"])
        ballot = (
            await Ballot.select(Ballot.id, Ballot.channel, Ballot.recorded_by, Ballot.confirmed_at)
            .where(Ballot.id == ballot_id)
            .first()
        )
        if ballot is None or ballot["channel"] != Channel.PAPER.value:
            raise NotFound(NO_PAPER_BALLOT)
        if ballot["confirmed_at"] is not None:
            raise Conflict(N_("This paper ballot is confirmed already"))
        _check(second_person_problem(int(ballot["recorded_by"] or 0), (actor.id,)))
        _check(rules.vote_problem(_state(hearing)))
        await Ballot.update({Ballot.confirmed_by: actor.id, Ballot.confirmed_at: utc_now()}).where(
            Ballot.id == ballot_id
        )
        await record_audit(actor, "voice.ballot.confirm", "hearing", hearing_id)
    return hearing_id


# Closing ------------------------------------------------------------------------------------


def _counted() -> Any:
    """Ballots that count: online ones, and paper ones a second steward confirmed."""
    return (Ballot.channel == Channel.ONLINE.value) | Ballot.confirmed_at.is_not_null()


async def close_hearing(hearing_id: int) -> bool:
    """Write the tally of a hearing whose window has passed, once: the votes per option of
    the counted ballots (online, and paper confirmed), the households of the community and the
    ballots counted; then delete every choice of its ballots. True if this call closed it."""
    async with write_transaction():
        try:
            hearing = await _locked_hearing(hearing_id)
        except NotFound:
            return False  # cancelled before it opened
        if _state(hearing) is not HearingState.CLOSING:
            return False  # closed already, or not due
        ballots = await Ballot.select(Ballot.id).where((Ballot.hearing == hearing_id) & _counted())
        counted = [int(b["id"]) for b in ballots]
        choices = await BallotChoice.select(
            BallotChoice.ballot, BallotChoice.question, BallotChoice.option
        ).where(BallotChoice.ballot.is_in(counted or [-1]))
        by_ballot: dict[int, list[tuple[int, int]]] = {ballot: [] for ballot in counted}
        for choice in choices:
            by_ballot[int(choice["ballot"])].append(
                (int(choice["question"]), int(choice["option"]))
            )
        specs = await question_specs(hearing_id)
        counts = rules.tally(specs, list(by_ballot.values()))
        option_question = {o: spec.id for spec in specs for o in spec.option_ids}
        if counts:
            await HearingTally.insert(
                *(
                    HearingTally(hearing=hearing_id, question=option_question[o], option=o, votes=v)
                    for o, v in counts.items()
                )
            )
        households = int(await Household.count().where(Household.community == hearing["community"]))
        await Hearing.update(
            {
                Hearing.closed_at: utc_now(),
                Hearing.households_at_close: households,
                Hearing.ballots_at_close: len(counted),
            }
        ).where(Hearing.id == hearing_id)
        all_ballots = await Ballot.select(Ballot.id).where(Ballot.hearing == hearing_id)
        await BallotChoice.delete().where(
            BallotChoice.ballot.is_in([int(b["id"]) for b in all_ballots] or [-1])
        )
    return True


async def close_if_due(hearing_id: int) -> None:
    """Close the hearing now if its window has passed and no one has yet (the lazy close)."""
    if not rules.valid_id(hearing_id):
        return
    row = (
        await Hearing.select(Hearing.closes_at, Hearing.closed_at)
        .where(Hearing.id == hearing_id)
        .first()
    )
    if row is not None and row["closed_at"] is None and row["closes_at"] <= utc_now():
        await close_hearing(hearing_id)


async def close_due(community_id: int | None = None) -> int:
    """Close every hearing (of a community, or all) whose window has passed; how many closed."""
    query = Hearing.select(Hearing.id).where(
        Hearing.closed_at.is_null() & (Hearing.closes_at <= utc_now())
    )
    if community_id is not None:
        query = query.where(Hearing.community == community_id)
    closed = 0
    for row in await query:
        closed += int(await close_hearing(int(row["id"])))
    return closed


async def close_job(args: dict[str, Any], ctx: JobContext) -> None:
    """The job queued for a hearing's `closes_at`; a no-op when it was closed lazily first or
    cancelled. Run early (a clock apart), it fails and is retried a little later."""
    hearing_id = int(args["hearing"])
    if not await close_hearing(hearing_id):
        row = await Hearing.select(Hearing.closed_at).where(Hearing.id == hearing_id).first()
        if row is not None and row["closed_at"] is None:
            raise RuntimeError(f"hearing {hearing_id} is not due to close yet")


def register_jobs() -> None:
    register(JobKind(CLOSE_JOB, close_job))
