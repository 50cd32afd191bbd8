"""Hearings' pages (docs/adr/0032-hearings-secret-ballots.md): a hearing's page (its questions,
window and meeting; the household's ballot while it is open; the counts and turnout once closed),
the stewards' pages (open a hearing; record a household's paper ballot; confirm another steward's
record) and the secretary's list (cancel a hearing that has not opened).

No JavaScript: the form to open a hearing has a fixed number of slots (3 questions of up to 6
options; blank ones ignored). A ballot's fields: a single-choice question is a radio group named
`question-<id>`; a multiple-choice one a checkbox per option, `question-<id>-<option id>`; each
question also sends an empty `question-<id>`, so its problem is shown beside it.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.params import FromPath, Parameter
from litestar.response import Template

from linju.platform.accounts import guards
from linju.platform.kernel.errors import N_, NotFound, ValidationErrors
from linju.platform.kernel.inputs import INT64_MAX, InputRefused, whole_number
from linju.platform.web import Confirmation, Page, SubmittedForm, confirmed, tell
from linju.projects.voice import read, rules
from linju.projects.voice.controllers.residents import current_household
from linju.projects.voice.controllers.stewards import GUARDS as STEWARD_GUARDS
from linju.projects.voice.rules import NeedStatus, QuestionKind
from linju.projects.voice.services import hearings, households
from linju.projects.voice.services.hearings import Subject

AnyRequest = Request[Any, Any, Any]
HearingId = Annotated[int, Parameter(ge=1, le=INT64_MAX, description="The hearing's number")]
BallotId = Annotated[int, Parameter(ge=1, le=INT64_MAX, description="The paper ballot's number")]
QUESTION_SLOTS = 3
OPTION_SLOTS = 6


# The ballot's fields ------------------------------------------------------------------------


def _option_number(text: str) -> int:
    try:
        return whole_number(text, low=1)
    except InputRefused:
        return 0  # names no option: refused as not one of the question's


async def chosen_in(
    request: AnyRequest, questions: tuple[read.QuestionView, ...]
) -> dict[int, set[int]]:
    """The options a posted ballot ticked, by question id (read as the form renders them)."""
    form = await request.form()
    chosen: dict[int, set[int]] = {}
    for question in questions:
        if question.kind is QuestionKind.SINGLE:
            values = [str(v) for v in form.getall(question.field, []) if str(v).strip()]
            picked = {_option_number(v) for v in values}
        else:
            picked = {o.id for o in question.options if form.get(f"{question.field}-{o.id}")}
        if picked:
            chosen[question.id] = picked
    return chosen


# A hearing's page ---------------------------------------------------------------------------


def _hearing_page(request: AnyRequest, hearing_id: int) -> Page:
    async def context() -> dict[str, Any]:
        hearing = await read.hearing(hearing_id)
        household = await current_household(request)
        here = (
            household
            if household is not None and household.community_slug == hearing.community_slug
            else None
        )
        return {
            "hearing": hearing,
            "household": here,
            "voted": await hearings.has_voted(here, hearing_id) if here else None,
            "minutes": await read.minutes(hearing_id),  # signed off only (ADR 0034)
        }

    return Page("voice/hearing.html", context)


@get(
    "/hearings/{hearing_id:str}",
    tags=["residents"],
    summary="A hearing: its questions, window and meeting; the household's ballot while open; "
    "counts and turnout once closed",
)
async def hearing_page(request: AnyRequest, hearing_id: HearingId) -> Template:
    return await _hearing_page(request, hearing_id).show()


@post(
    "/hearings/{hearing_id:str}/vote",
    tags=["residents"],
    summary="The household votes (or changes its vote) while the hearing is open",
)
async def vote(request: AnyRequest, hearing_id: HearingId) -> Response[Any]:
    async def cast(form: SubmittedForm) -> str:
        household = await current_household(request)
        if household is None:
            raise ValidationErrors({"": N_("Enter your household's code first")})
        hearing = await read.hearing(hearing_id)
        changed = await hearings.vote(
            household, hearing_id, await chosen_in(request, hearing.questions)
        )
        if changed:
            tell(request, N_("Your household's vote is changed; you may change it until the close"))
        else:
            tell(
                request,
                N_("Thank you: your household has voted; you may change it until the close"),
            )
        return f"/hearings/{hearing_id}"

    return await _hearing_page(request, hearing_id).submit(request, "vote", cast)


# Stewards: open a hearing -------------------------------------------------------------------


def _subjects(community: str) -> Any:
    async def options() -> list[tuple[str, str]]:
        needs = await read.community_needs(community, (NeedStatus.OPEN, NeedStatus.UNDER_REVIEW))
        drafts = await read.draft_projects(community)
        return (
            [("", "—")]
            + [(f"need-{n.id}", f"#{n.id} {n.title}") for n in needs]
            + [(f"project-{slug}", title) for slug, title in drafts]
        )

    return options


def _steward_hearings_page(community: str) -> Page:
    async def context() -> dict[str, Any]:
        return {
            "community": await households.community_row(community),
            "subjects": await _subjects(community)(),
            "hearings": await read.community_hearings(community),
            "question_slots": range(1, QUESTION_SLOTS + 1),
            "option_slots": range(1, OPTION_SLOTS + 1),
        }

    return Page("voice/steward_hearings.html", context)


@get(
    "/steward/c/{community:str}/hearings",
    guards=STEWARD_GUARDS,
    tags=["stewards"],
    summary="A steward's hearings: open one for a need or a draft project",
)
async def steward_hearings(community: FromPath[str]) -> Template:
    return await _steward_hearings_page(community).show()


def _subject(form: SubmittedForm) -> Subject:
    value = form.text("subject")
    if value.startswith("need-"):
        try:
            return Subject(need_id=whole_number(value.removeprefix("need-"), low=1))
        except InputRefused:
            pass
    elif value.startswith("project-") and value.removeprefix("project-"):
        return Subject(project_slug=value.removeprefix("project-"))
    form.refuse("subject", N_("Choose the need or the draft project"))


def _moment(form: SubmittedForm, name: str, optional: bool = False) -> Any:
    if optional and not form.text(name).strip():
        return None
    return form.parsed(name, rules.local_moment, N_("Enter a date and a time"), None)


def _questions(form: SubmittedForm) -> list[tuple[int, rules.QuestionDraft]]:
    found = []
    for slot in range(1, QUESTION_SLOTS + 1):
        text = form.text(f"q{slot}-text")
        options = tuple(
            form.text(f"q{slot}-option{m}").strip()
            for m in range(1, OPTION_SLOTS + 1)
            if form.text(f"q{slot}-option{m}").strip()
        )
        if not text.strip() and not options:
            continue  # a blank slot
        kind = (
            QuestionKind.MULTIPLE
            if form.text(f"q{slot}-kind") == "multiple"
            else QuestionKind.SINGLE
        )
        most = 1
        if kind is QuestionKind.MULTIPLE:
            most = form.parsed(
                f"q{slot}-max", lambda t: whole_number(t, low=1, high=99), N_("Enter a number"), 1
            )
        found.append((slot, rules.QuestionDraft(text, kind, most, options)))
    return found


@post(
    "/steward/c/{community:str}/hearings",
    guards=STEWARD_GUARDS,
    tags=["stewards"],
    summary="Open a hearing: questions, window, an optional meeting",
)
async def open_hearing(request: AnyRequest, community: FromPath[str]) -> Response[Any]:
    user = guards.logged_in_user(request)

    async def open_it(form: SubmittedForm) -> str:
        subject = _subject(form)
        window = rules.HearingWindow(
            _moment(form, "opens_at"),
            _moment(form, "closes_at"),
            _moment(form, "meeting_at", optional=True),
            form.text("meeting_place"),
        )
        questions = _questions(form)
        form.raise_problems()
        slots = [slot for slot, _ in questions]
        problems = {}
        for key, message in hearings.hearing_problems(
            form.text("title"), [q for _, q in questions], window
        ).items():
            if key.startswith("question-"):  # the N-th question asked: its slot's text field
                position = int(key.removeprefix("question-"))
                key = f"q{slots[position - 1] if slots else 1}-text"
            problems[key] = message
        if problems:
            raise ValidationErrors(problems)
        hearing_id = await hearings.open_hearing(
            user.actor, community, subject, form.text("title"), [q for _, q in questions], window
        )
        tell(request, N_("The hearing is set: households vote in its window"))
        return f"/hearings/{hearing_id}"

    return await _steward_hearings_page(community).submit(request, "hearing", open_it)


# Stewards: paper ballots --------------------------------------------------------------------


async def _hearing_of(community: str, hearing_id: int) -> read.HearingView:
    hearing = await read.hearing(hearing_id)
    if hearing.community_slug != community:
        raise NotFound(hearings.NO_HEARING)
    return hearing


def _steward_hearing_page(request: AnyRequest, community: str, hearing_id: int) -> Page:
    async def context() -> dict[str, Any]:
        return {
            "community": await households.community_row(community),
            "hearing": await _hearing_of(community, hearing_id),
            "paper": await read.paper_ballots(hearing_id),
            "steward_id": guards.logged_in_user(request).id,
        }

    return Page("voice/steward_hearing.html", context)


@get(
    "/steward/c/{community:str}/hearings/{hearing_id:str}",
    guards=STEWARD_GUARDS,
    tags=["stewards"],
    summary="A hearing's paper ballots: record one, confirm another steward's",
)
async def steward_hearing(
    request: AnyRequest, community: FromPath[str], hearing_id: HearingId
) -> Template:
    return await _steward_hearing_page(request, community, hearing_id).show()


@post(
    "/steward/c/{community:str}/hearings/{hearing_id:str}/paper",
    guards=STEWARD_GUARDS,
    tags=["stewards"],
    summary="Record a household's paper ballot (counted once a second steward confirms it)",
)
async def record_paper_ballot(
    request: AnyRequest, community: FromPath[str], hearing_id: HearingId
) -> Response[Any]:
    user = guards.logged_in_user(request)

    async def record(form: SubmittedForm) -> str:
        hearing = await _hearing_of(community, hearing_id)
        address = rules.cleaned_address(form.text("building"), form.text("unit"), form.text("room"))
        problems = rules.address_problems(address)
        if problems:
            raise ValidationErrors(problems)
        await hearings.record_paper_ballot(
            user.actor, hearing_id, address, await chosen_in(request, hearing.questions)
        )
        tell(request, N_("Recorded: waiting for another steward to confirm it"))
        return f"/steward/c/{community}/hearings/{hearing_id}#paper"

    return await _steward_hearing_page(request, community, hearing_id).submit(
        request, "paper", record
    )


@post(
    "/steward/c/{community:str}/hearings/{hearing_id:str}/paper/{ballot_id:str}/confirm",
    guards=STEWARD_GUARDS,
    tags=["stewards"],
    summary="Confirm another steward's record of a paper ballot (confirmed first)",
)
async def confirm_paper_ballot(
    request: AnyRequest, community: FromPath[str], hearing_id: HearingId, ballot_id: BallotId
) -> Response[Any]:
    user = guards.logged_in_user(request)
    back = f"/steward/c/{community}/hearings/{hearing_id}#paper"

    async def confirm(form: SubmittedForm) -> Response[Any] | str:
        hearing = await _hearing_of(community, hearing_id)
        paper = next(
            (p for p in await read.paper_ballots(hearing_id) if p["id"] == ballot_id), None
        )
        if paper is None:
            raise NotFound(hearings.NO_PAPER_BALLOT)
        if not confirmed(form):
            return await Page(
                "voice/confirm_paper_ballot.html",
                {
                    "community": await households.community_row(community),
                    "hearing": hearing,
                    "paper": paper,
                    "confirmation": Confirmation(
                        f"/steward/c/{community}/hearings/{hearing_id}/paper/{ballot_id}/confirm",
                        back,
                    ),
                    "confirm_form": f"confirm-{ballot_id}",
                },
            ).show()
        await hearings.confirm_paper_ballot(user.actor, ballot_id)
        tell(request, N_("Confirmed: the household's paper ballot counts"))
        return back

    return await _steward_hearing_page(request, community, hearing_id).submit(
        request, f"confirm-{ballot_id}", confirm
    )


# The secretary ------------------------------------------------------------------------------


def _secretary_hearings_page(community: str) -> Page:
    async def context() -> dict[str, Any]:
        return {
            "community": await households.community_row(community),
            "hearings": await read.community_hearings(community),
        }

    return Page("voice/secretary_hearings.html", context)


@get(
    "/secretary/c/{community:str}/hearings",
    guards=[guards.require_secretary_of_community],
    tags=["secretary"],
    summary="The community's hearings: scheduled, open, closed; cancel one not yet open",
)
async def secretary_hearings(community: FromPath[str]) -> Template:
    return await _secretary_hearings_page(community).show()


@post(
    "/secretary/c/{community:str}/hearings/{hearing_id:str}/cancel",
    guards=[guards.require_secretary_of_community],
    tags=["secretary"],
    summary="Cancel a hearing before it opens (confirmed first)",
)
async def cancel_hearing(
    request: AnyRequest, community: FromPath[str], hearing_id: HearingId
) -> Response[Any]:
    user = guards.logged_in_user(request)

    async def cancel(form: SubmittedForm) -> Response[Any] | str:
        hearing = await _hearing_of(community, hearing_id)
        if hearing.state is not rules.HearingState.SCHEDULED:
            raise ValidationErrors({"": N_("Only a hearing that has not opened can be cancelled")})
        if not confirmed(form):
            return await Page(
                "voice/confirm_cancel_hearing.html",
                {
                    "community": await households.community_row(community),
                    "hearing": hearing,
                    "confirmation": Confirmation(
                        f"/secretary/c/{community}/hearings/{hearing_id}/cancel",
                        f"/secretary/c/{community}/hearings",
                    ),
                    "confirm_form": f"cancel-{hearing_id}",
                },
            ).show()
        await hearings.cancel_hearing(user.actor, community, hearing_id)
        tell(request, N_("Cancelled: the hearing will not open"))
        return f"/secretary/c/{community}/hearings"

    return await _secretary_hearings_page(community).submit(request, f"cancel-{hearing_id}", cancel)


ROUTES: list[Any] = [
    hearing_page,
    vote,
    steward_hearings,
    open_hearing,
    steward_hearing,
    record_paper_ballot,
    confirm_paper_ballot,
    secretary_hearings,
    cancel_hearing,
]
