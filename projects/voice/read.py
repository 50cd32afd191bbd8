"""What residents' voice shows: the community page's needs, a need's page, a household's page,
the secretary's needs workbench, the steward's page, the JSON API's needs, and the line a
project drafted from a need shows ("源自居民需求 #12（68 户支持）"). No writes here.

No household's identity leaves this module for a public page or the API: only counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from piccolo.query.functions.aggregate import Count

from linju.platform.accounts.tables import Account
from linju.platform.kernel.clock import utc_now
from linju.platform.kernel.errors import NotFound
from linju.projects.core.read import CommunityView, ProjectDetail
from linju.projects.core.tables import Project
from linju.projects.voice import rules
from linju.projects.voice.rules import Channel, NeedStatus
from linju.projects.voice.services import hearings
from linju.projects.voice.services import minutes as minutes_service
from linju.projects.voice.services.households import HouseholdView, community_row
from linju.projects.voice.services.needs import NO_NEED, Settings, settings_of
from linju.projects.voice.services.results import latest_closed_hearing
from linju.projects.voice.tables import (
    Ballot,
    Hearing,
    HearingOption,
    HearingQuestion,
    HearingTally,
    Household,
    Need,
    NeedPhoto,
    Support,
)


@dataclass(frozen=True, slots=True)
class NeedView:
    id: int
    community_slug: str
    community_name: str
    title: str
    body: str
    place: str
    status: NeedStatus
    heard_at_meeting: bool
    supports: int
    threshold: int
    created_at: datetime
    status_changed_at: datetime
    answer_due: datetime | None
    late: bool
    decline_reason: str
    project_slug: str | None
    project_title: str | None
    photos: tuple[str, ...] = ()
    author_household: int | None = None  # never shown; the household page compares it

    def as_json(self) -> dict[str, Any]:
        """The API's need: counts only, no household."""
        return {
            "id": self.id,
            "community": self.community_slug,
            "title": self.title,
            "body": self.body,
            "place": self.place,
            "status": self.status.value,
            "heard_at_meeting": self.heard_at_meeting,
            "supports": self.supports,
            "threshold": self.threshold,
            "created_at": self.created_at.isoformat(),
            "status_changed_at": self.status_changed_at.isoformat(),
            "answer_due": self.answer_due.isoformat() if self.answer_due else None,
            "answer_late": self.late,
            "decline_reason": self.decline_reason or None,
            "project": self.project_slug,
        }


_COLUMNS = (
    Need.id,
    Need.community,
    Need.community.slug.as_alias("community_slug"),
    Need.community.name.as_alias("community_name"),
    Need.title,
    Need.body,
    Need.place,
    Need.status,
    Need.heard_by,
    Need.author_household,
    Need.created_at,
    Need.status_changed_at,
    Need.review_started_at,
    Need.decline_reason,
    Need.project.slug.as_alias("project_slug"),
    Need.project.title.as_alias("project_title"),
)


async def supports_by_need(need_ids: Sequence[int]) -> dict[int, int]:
    """Counted supports (online, and paper once confirmed) of each need."""
    if not need_ids:
        return {}
    rows = (
        await Support.select(Support.need, Count(Support.id, alias="supports"))
        .where(
            Support.need.is_in(list(need_ids))
            & ((Support.channel == Channel.ONLINE.value) | Support.confirmed_at.is_not_null())
        )
        .group_by(Support.need)
    )
    return {int(r["need"]): int(r["supports"]) for r in rows}


async def _threshold(community_id: int, settings: Settings) -> int:
    households = int(await Household.count().where(Household.community == community_id))
    return rules.review_threshold(households, settings.threshold_percent)


async def _views(rows: Sequence[dict[str, Any]], photos: bool = False) -> list[NeedView]:
    counts = await supports_by_need([r["id"] for r in rows])
    now = utc_now()
    cache: dict[int, tuple[Settings, int]] = {}
    views = []
    for row in rows:
        community = int(row["community"])
        if community not in cache:
            settings = await settings_of(community)
            cache[community] = (settings, await _threshold(community, settings))
        settings, threshold = cache[community]
        status = NeedStatus(row["status"])
        started = row["review_started_at"]
        due = rules.answer_due(started, settings.answer_days) if started else None
        pictures: tuple[str, ...] = ()
        if photos:
            found = (
                await NeedPhoto.select(NeedPhoto.url)
                .where(NeedPhoto.need == row["id"])
                .order_by(NeedPhoto.position)
            )
            pictures = tuple(p["url"] for p in found)
        views.append(
            NeedView(
                id=int(row["id"]),
                community_slug=row["community_slug"],
                community_name=row["community_name"],
                title=row["title"],
                body=row["body"],
                place=row["place"],
                status=status,
                heard_at_meeting=row["heard_by"] is not None,
                supports=counts.get(int(row["id"]), 0),
                threshold=threshold,
                created_at=row["created_at"],
                status_changed_at=row["status_changed_at"],
                answer_due=due if status is NeedStatus.UNDER_REVIEW else None,
                late=rules.answer_late(status, due, now),
                decline_reason=row["decline_reason"],
                project_slug=row["project_slug"],
                project_title=row["project_title"],
                photos=pictures,
                author_household=row["author_household"],
            )
        )
    return views


async def need(need_id: int) -> NeedView:
    """A need as its page shows it (a withdrawn need is shown too, as withdrawn)."""
    rows = await Need.select(*_COLUMNS).where(Need.id == need_id) if rules.valid_id(need_id) else []
    if not rows:
        raise NotFound(NO_NEED)
    return (await _views(rows, photos=True))[0]


async def community_needs(
    community_slug: str, statuses: Sequence[NeedStatus] = rules.PUBLIC_STATUSES
) -> list[NeedView]:
    community = await community_row(community_slug)
    rows = (
        await Need.select(*_COLUMNS)
        .where((Need.community == community["id"]) & Need.status.is_in([s.value for s in statuses]))
        .order_by(Need.id, ascending=False)
    )
    return await _views(rows)


async def community_section(community: CommunityView) -> dict[str, Any]:
    """The community page's needs: open ones and those under review, and accepted ones."""
    listed = await community_needs(
        community.slug, (NeedStatus.OPEN, NeedStatus.UNDER_REVIEW, NeedStatus.ACCEPTED)
    )
    return {
        "voice_needs": [n for n in listed if n.status is not NeedStatus.ACCEPTED],
        "voice_accepted": [n for n in listed if n.status is NeedStatus.ACCEPTED],
        "voice_hearings": await community_hearings(community.slug),
    }


async def project_section(project: ProjectDetail) -> dict[str, Any]:
    """The need a project was drafted from, for its line "源自居民需求 #N（M 户支持）"."""
    listed = await project_hearings(project.id)
    row = await Need.select(Need.id).where(Need.project == project.id).first()
    if row is None:
        return {"voice_origin": None, "voice_hearings": listed}
    supports = (await supports_by_need([int(row["id"])])).get(int(row["id"]), 0)
    hearing = await latest_closed_hearing(int(row["id"]))  # the need's, carried into the story
    origin = {"id": int(row["id"]), "supports": supports, "hearing": hearing}
    return {"voice_origin": origin, "voice_hearings": listed}


async def household_page(household: HouseholdView) -> dict[str, Any]:
    """The household's own page: the community's needs open for support (each marked whether
    this household supports it, and how), and the needs it posted."""
    listed = await community_needs(household.community_slug)
    supported = {
        int(r["need"]): r["channel"]
        for r in await Support.select(Support.need, Support.channel).where(
            Support.household == household.id
        )
    }
    own_rows = await Need.select(*_COLUMNS).where(Need.author_household == household.id)
    listed_hearings = await community_hearings(household.community_slug)
    return {
        "household": household,
        "open_hearings": [
            h
            for h in listed_hearings
            if h.state in (rules.HearingState.OPEN, rules.HearingState.SCHEDULED)
        ],
        "open_needs": [n for n in listed if n.status is NeedStatus.OPEN],
        "supported": supported,
        "own_needs": await _views(own_rows),
    }


async def support_of(household: HouseholdView | None, need_id: int) -> str | None:
    """How this household supports the need ("online", "paper"), or None."""
    if household is None:
        return None
    row = (
        await Support.select(Support.channel)
        .where((Support.need == need_id) & (Support.household == household.id))
        .first()
    )
    return str(row["channel"]) if row else None


async def paper_supports(community_slug: str) -> list[dict[str, Any]]:
    """The community's paper supports, awaiting confirmation first (for stewards)."""
    community = await community_row(community_slug)
    rows = await Support.select(
        Support.id,
        Support.need,
        Support.need.title.as_alias("need_title"),
        Support.household.building.as_alias("building"),
        Support.household.unit.as_alias("unit"),
        Support.household.room.as_alias("room"),
        Support.recorded_by,
        Support.confirmed_by,
        Support.confirmed_at,
        Support.created_at,
        Support.need.status.as_alias("need_status"),
    ).where((Support.channel == Channel.PAPER.value) & (Support.need.community == community["id"]))
    for row in rows:
        row["label"] = rules.HouseholdAddress(row["building"], row["unit"], row["room"]).label
        row["need_status"] = NeedStatus(row["need_status"])
    return sorted(rows, key=lambda r: (r["confirmed_at"] is not None, -int(r["id"])))


async def secretary_needs(community_slug: str) -> dict[str, Any]:
    community = await community_row(community_slug)
    listed = await community_needs(community_slug)
    settings = await settings_of(community["id"])
    households = int(await Household.count().where(Household.community == community["id"]))
    return {
        "community": community,
        "in_review": [n for n in listed if n.status is NeedStatus.UNDER_REVIEW],
        "open": [n for n in listed if n.status is NeedStatus.OPEN],
        "answered": [n for n in listed if n.status in (NeedStatus.ACCEPTED, NeedStatus.DECLINED)],
        "settings": settings,
        "households": households,
        "threshold": rules.review_threshold(households, settings.threshold_percent),
    }


# Hearings -----------------------------------------------------------------------------------
# What a hearing shows, by its state (docs/adr/0032-hearings-secret-ballots.md): its questions,
# window and meeting always; counts, ballots and turnout only once it is closed (`results` is
# None before: nothing here reads a ballot's choice). Reading a hearing whose window has passed
# closes it first (`hearings.close_if_due`, the one write of these reads): results are never
# hidden because a job was missed.


@dataclass(frozen=True, slots=True)
class OptionView:
    id: int
    text: str
    votes: int | None  # None until the close


@dataclass(frozen=True, slots=True)
class QuestionView:
    id: int
    text: str
    kind: rules.QuestionKind
    max_choices: int
    options: tuple[OptionView, ...]

    @property
    def field(self) -> str:
        return hearings.field_name(self.id)


@dataclass(frozen=True, slots=True)
class HearingResults:
    ballots: int  # counted: online, and paper confirmed
    households: int  # of the community at the close
    online: int
    paper: int  # confirmed paper ballots
    unconfirmed_paper: int  # recorded, never confirmed: not counted
    turnout_percent: int | None
    closed_at: datetime


@dataclass(frozen=True, slots=True)
class HearingView:
    id: int
    community_slug: str
    community_name: str
    title: str
    need_id: int | None
    need_title: str | None
    project_slug: str | None
    project_title: str | None
    opens_at: datetime
    closes_at: datetime
    meeting_at: datetime | None
    meeting_place: str
    state: rules.HearingState
    questions: tuple[QuestionView, ...] = ()
    results: HearingResults | None = None

    def as_json(self) -> dict[str, Any]:
        """The API's hearing: its questions always, the counts only once it is closed."""
        closed = self.results is not None
        body: dict[str, Any] = {
            "id": self.id,
            "community": self.community_slug,
            "title": self.title,
            "need": self.need_id,
            "project": self.project_slug,
            "state": self.state.value,
            "opens_at": self.opens_at.isoformat(),
            "closes_at": self.closes_at.isoformat(),
            "meeting_at": self.meeting_at.isoformat() if self.meeting_at else None,
            "meeting_place": self.meeting_place or None,
            "questions": [
                {
                    "id": q.id,
                    "text": q.text,
                    "kind": q.kind.value,
                    "max_choices": q.max_choices,
                    "options": [
                        {"id": o.id, "text": o.text, **({"votes": o.votes} if closed else {})}
                        for o in q.options
                    ],
                }
                for q in self.questions
            ],
            "results": None,
        }
        if self.results is not None:
            r = self.results
            body["results"] = {
                "closed_at": r.closed_at.isoformat(),
                "ballots": r.ballots,
                "households": r.households,
                "turnout_percent": r.turnout_percent,
                "online": r.online,
                "paper": r.paper,
                "unconfirmed_paper": r.unconfirmed_paper,
            }
        return body


_HEARING_COLUMNS = (
    Hearing.id,
    Hearing.community.slug.as_alias("community_slug"),
    Hearing.community.name.as_alias("community_name"),
    Hearing.title,
    Hearing.need,
    Hearing.need.title.as_alias("need_title"),
    Hearing.project.slug.as_alias("project_slug"),
    Hearing.project.title.as_alias("project_title"),
    Hearing.opens_at,
    Hearing.closes_at,
    Hearing.meeting_at,
    Hearing.meeting_place,
    Hearing.closed_at,
    Hearing.households_at_close,
    Hearing.ballots_at_close,
)


async def _results(row: dict[str, Any]) -> HearingResults | None:
    if row["closed_at"] is None:
        return None
    ballots = await Ballot.select(Ballot.channel, Ballot.confirmed_at).where(
        Ballot.hearing == row["id"]
    )
    online = sum(1 for b in ballots if b["channel"] == Channel.ONLINE.value)
    paper = sum(1 for b in ballots if b["channel"] == Channel.PAPER.value and b["confirmed_at"])
    unconfirmed = sum(
        1 for b in ballots if b["channel"] == Channel.PAPER.value and not b["confirmed_at"]
    )
    counted = int(row["ballots_at_close"] or 0)
    households_at_close = int(row["households_at_close"] or 0)
    return HearingResults(
        ballots=counted,
        households=households_at_close,
        online=online,
        paper=paper,
        unconfirmed_paper=unconfirmed,
        turnout_percent=rules.turnout_percent(counted, households_at_close),
        closed_at=row["closed_at"],
    )


async def _questions(hearing_id: int, closed: bool) -> tuple[QuestionView, ...]:
    questions = (
        await HearingQuestion.select(
            HearingQuestion.id,
            HearingQuestion.text,
            HearingQuestion.kind,
            HearingQuestion.max_choices,
        )
        .where(HearingQuestion.hearing == hearing_id)
        .order_by(HearingQuestion.position)
    )
    options = (
        await HearingOption.select(HearingOption.id, HearingOption.question, HearingOption.text)
        .where(HearingOption.question.is_in([q["id"] for q in questions] or [-1]))
        .order_by(HearingOption.position)
    )
    votes: dict[int, int] = {}
    if closed:  # the tally exists only after the close; nothing else is read for counts
        votes = {
            int(t["option"]): int(t["votes"])
            for t in await HearingTally.select(HearingTally.option, HearingTally.votes).where(
                HearingTally.hearing == hearing_id
            )
        }
    by_question: dict[int, list[OptionView]] = {}
    for option in options:
        by_question.setdefault(int(option["question"]), []).append(
            OptionView(
                int(option["id"]),
                option["text"],
                votes.get(int(option["id"]), 0) if closed else None,
            )
        )
    return tuple(
        QuestionView(
            id=int(q["id"]),
            text=q["text"],
            kind=rules.QuestionKind(q["kind"]),
            max_choices=int(q["max_choices"]),
            options=tuple(by_question.get(int(q["id"]), ())),
        )
        for q in questions
    )


async def _hearing_views(rows: Sequence[dict[str, Any]], full: bool) -> list[HearingView]:
    now = utc_now()
    views = []
    for row in rows:
        closed = row["closed_at"] is not None
        views.append(
            HearingView(
                id=int(row["id"]),
                community_slug=row["community_slug"],
                community_name=row["community_name"],
                title=row["title"],
                need_id=row["need"],
                need_title=row["need_title"],
                project_slug=row["project_slug"],
                project_title=row["project_title"],
                opens_at=row["opens_at"],
                closes_at=row["closes_at"],
                meeting_at=row["meeting_at"],
                meeting_place=row["meeting_place"],
                state=rules.hearing_state(row["opens_at"], row["closes_at"], row["closed_at"], now),
                questions=await _questions(int(row["id"]), closed) if full else (),
                results=await _results(row),
            )
        )
    return views


async def hearing(hearing_id: int) -> HearingView:
    """A hearing as its page shows it (closed first if its window has passed)."""
    if not rules.valid_id(hearing_id):
        raise NotFound(hearings.NO_HEARING)
    await hearings.close_if_due(hearing_id)
    rows = await Hearing.select(*_HEARING_COLUMNS).where(Hearing.id == hearing_id)
    if not rows:
        raise NotFound(hearings.NO_HEARING)
    return (await _hearing_views(rows, full=True))[0]


async def hearings_where(where: Any, *, full: bool = False) -> list[HearingView]:
    """Hearings (newest first) of a community, need or project, those due closed first."""
    due = await Hearing.select(Hearing.id).where(
        where & Hearing.closed_at.is_null() & (Hearing.closes_at <= utc_now())
    )
    for row in due:
        await hearings.close_if_due(int(row["id"]))
    query = Hearing.select(*_HEARING_COLUMNS).where(where)
    rows = await query.order_by(Hearing.id, ascending=False)
    return await _hearing_views(rows, full=full)


async def community_hearings(community_slug: str, *, full: bool = False) -> list[HearingView]:
    community = await community_row(community_slug)
    return await hearings_where(Hearing.community == community["id"], full=full)


async def need_hearings(need_id: int) -> list[HearingView]:
    return await hearings_where(Hearing.need == need_id)


async def project_hearings(project_id: int) -> list[HearingView]:
    return await hearings_where(Hearing.project == project_id)


async def paper_ballots(hearing_id: int) -> list[dict[str, Any]]:
    """A hearing's paper ballots for its stewards: the household, who recorded it, whether it is
    confirmed; never what it chose. Awaiting confirmation first."""
    rows = await Ballot.select(
        Ballot.id,
        Ballot.household.building.as_alias("building"),
        Ballot.household.unit.as_alias("unit"),
        Ballot.household.room.as_alias("room"),
        Ballot.recorded_by,
        Ballot.confirmed_at,
        Ballot.created_at,
    ).where((Ballot.hearing == hearing_id) & (Ballot.channel == Channel.PAPER.value))
    listed = [
        {
            "id": int(r["id"]),
            "household": rules.HouseholdAddress(r["building"], r["unit"], r["room"]).label,
            "recorded_by": r["recorded_by"],
            "confirmed": r["confirmed_at"] is not None,
            "created_at": r["created_at"],
        }
        for r in rows
    ]
    return sorted(listed, key=lambda r: (r["confirmed"] is True, r["household"]))


async def draft_projects(community_slug: str) -> list[tuple[str, str]]:
    """The community's draft projects (slug, title): what a hearing may be held on."""
    community = await community_row(community_slug)
    rows = (
        await Project.select(Project.slug, Project.title)
        .where((Project.community == community["id"]) & (Project.status == "draft"))
        .order_by(Project.id, ascending=False)
    )
    return [(r["slug"], r["title"]) for r in rows]


# Minutes (docs/adr/0034-hearing-minutes.md) --------------------------------------------------
# The public see minutes once signed off; the stewards and the signers see the draft.


@dataclass(frozen=True, slots=True)
class MinutesView:
    hearing_id: int
    summary: str
    attendees: str
    decisions: str
    drafted_by: str
    drafted_at: datetime
    signers: tuple[tuple[str, datetime], ...]  # (name, when), in the order they signed
    needed: int
    signed_off_at: datetime | None
    log_checkpoint: str
    log_size: int | None
    project_head: str

    @property
    def signed_off(self) -> bool:
        return self.signed_off_at is not None

    def as_json(self) -> dict[str, Any]:
        """The API's minutes (signed off only)."""
        return {
            "summary": self.summary,
            "attendees": self.attendees,
            "decisions": self.decisions,
            "signed_off_at": self.signed_off_at.isoformat() if self.signed_off_at else None,
            "signed_by": [{"name": n, "at": at.isoformat()} for n, at in self.signers],
            "log_checkpoint": self.log_checkpoint,
            "log_size": self.log_size,
            "project_head": self.project_head or None,
        }


async def minutes(hearing_id: int, *, draft: bool = False) -> MinutesView | None:
    """A hearing's minutes: signed off only, unless `draft` (the stewards' and signers' page)."""
    if not rules.valid_id(hearing_id):
        return None
    row = await minutes_service.minutes_row(hearing_id)
    if row is None or (row["signed_off_at"] is None and not draft):
        return None
    signoffs = await minutes_service.signers_of(int(row["id"]))
    ids = {int(s["account"]) for s in signoffs} | {int(row["drafted_by"])}
    names = {
        int(a["id"]): a["display_name"]
        for a in await Account.select(Account.id, Account.display_name).where(
            Account.id.is_in(list(ids))
        )
    }
    hearing_row = (
        await Hearing.select(Hearing.id, Hearing.community, Hearing.project)
        .where(Hearing.id == hearing_id)
        .first()
    )
    assert hearing_row is not None  # the minutes' foreign key
    return MinutesView(
        hearing_id=hearing_id,
        summary=row["summary"],
        attendees=row["attendees"],
        decisions=row["decisions"],
        drafted_by=names.get(int(row["drafted_by"]), ""),
        drafted_at=row["drafted_at"],
        signers=tuple((names.get(int(s["account"]), ""), s["at"]) for s in signoffs),
        needed=await minutes_service.signers_needed(dict(hearing_row)),
        signed_off_at=row["signed_off_at"],
        log_checkpoint=row["log_checkpoint"],
        log_size=row["log_size"],
        project_head=row["project_head"],
    )
