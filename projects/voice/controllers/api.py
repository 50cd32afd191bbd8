"""The public read API of residents' needs (docs/adr/0033-residents-voice.md): counts only, no
household's identity, no paper or online split; and of hearings
(docs/adr/0032-hearings-secret-ballots.md): their questions always, their counts, ballots and
turnout only once closed (before, `votes` is absent and `results` null)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import get
from litestar.params import FromPath, Parameter

from linju.platform.kernel.inputs import INT64_MAX
from linju.projects.voice import read
from linju.projects.voice.rules import MAX_ID, HearingState, NeedStatus, QuestionKind


class NeedOut(msgspec.Struct):
    """A residents' need: its state and how many households support it."""

    id: int
    community: str
    title: str
    body: str
    place: str
    status: NeedStatus
    heard_at_meeting: bool
    supports: int
    threshold: int
    created_at: str
    status_changed_at: str
    answer_due: str | None
    answer_late: bool
    decline_reason: str | None
    project: str | None
    url: str


def _out(need: read.NeedView) -> NeedOut:
    return NeedOut(**need.as_json(), url=f"/needs/{need.id}")


@get(
    "/api/v1/communities/{slug:str}/needs",
    tags=["needs"],
    summary="A community's residents' needs (not the withdrawn), newest first",
)
async def community_needs(slug: FromPath[str]) -> list[NeedOut]:
    return [_out(n) for n in await read.community_needs(slug)]


@get("/api/v1/needs/{need_id:str}", tags=["needs"], summary="One residents' need")
async def one_need(
    need_id: Annotated[int, Parameter(ge=1, le=MAX_ID, description="The need's number")],
) -> NeedOut:
    return _out(await read.need(need_id))


class OptionOut(msgspec.Struct, omit_defaults=True):
    """An option; `votes` only once the hearing is closed."""

    id: int
    text: str
    votes: int | None = None


class QuestionOut(msgspec.Struct):
    id: int
    text: str
    kind: QuestionKind
    max_choices: int
    options: list[OptionOut]


class ResultsOut(msgspec.Struct):
    """A closed hearing's results, counted once at the close and frozen."""

    closed_at: str
    ballots: int
    households: int
    turnout_percent: int | None
    online: int
    paper: int
    unconfirmed_paper: int


class SignerOut(msgspec.Struct):
    name: str
    at: str


class MinutesOut(msgspec.Struct):
    """A hearing's minutes once signed off (docs/adr/0034-hearing-minutes.md): what the meeting
    said and decided, who signed and when, and what they anchor: the transparency log's
    checkpoint (its signed text and tree size) and, for a project's hearing, its ledger head."""

    summary: str
    attendees: str
    decisions: str
    signed_off_at: str | None
    signed_by: list[SignerOut]
    log_checkpoint: str
    log_size: int | None
    project_head: str | None


class HearingOut(msgspec.Struct):
    """A hearing of a community's households on a need or a draft project."""

    id: int
    community: str
    title: str
    need: int | None
    project: str | None
    state: HearingState
    opens_at: str
    closes_at: str
    meeting_at: str | None
    meeting_place: str | None
    questions: list[QuestionOut]
    results: ResultsOut | None
    url: str
    minutes: MinutesOut | None = None  # signed-off minutes only


async def _hearing_out(hearing: read.HearingView) -> HearingOut:
    minutes = await read.minutes(hearing.id)
    return msgspec.convert(
        {
            **hearing.as_json(),
            "url": f"/hearings/{hearing.id}",
            "minutes": minutes.as_json() if minutes else None,
        },
        HearingOut,
        strict=False,
    )


@get(
    "/api/v1/communities/{slug:str}/hearings",
    tags=["hearings"],
    summary="A community's hearings, newest first: counts only for the closed ones",
)
async def community_hearings(slug: FromPath[str]) -> list[HearingOut]:
    return [await _hearing_out(h) for h in await read.community_hearings(slug, full=True)]


@get(
    "/api/v1/hearings/{hearing_id:str}",
    tags=["hearings"],
    summary="One hearing: its results once closed",
)
async def one_hearing(
    hearing_id: Annotated[int, Parameter(ge=1, le=INT64_MAX, description="The hearing's number")],
) -> HearingOut:
    return await _hearing_out(await read.hearing(hearing_id))


ROUTES: list[Any] = [community_needs, one_need, community_hearings, one_hearing]
