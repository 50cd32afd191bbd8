"""The committee member's page: everything awaiting their decision, across their projects
(what it reads: `projects/spending/inbox.py`).

One screen per decision with the amount, the budget line's plan, spent and approved, the fund's
balance and what is available, the justification, the attachments and the other members'
decisions; plain forms that work on a phone without JavaScript. Matching pledges waiting for a
second person are listed here too (sponsor, ratio, cap, window, the sponsor's letter), and a
member other than their recorder confirms or rejects each one
(docs/adr/0019-pledges-two-people.md).
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.params import FromPath, Parameter
from litestar.response import Template

from linju.platform.accounts import guards
from linju.platform.kernel.errors import N_, NotFound, ValidationErrors, found
from linju.platform.kernel.inputs import INT64_MAX, whole_number
from linju.platform.web import Confirmation, Page, SubmittedForm, confirmed, tell
from linju.projects.core.tables import CommitteeMember
from linju.projects.spending import inbox
from linju.projects.spending.rules import Outcome, SubjectKind, reason_problem
from linju.projects.spending.services import cancellation, completion, expenditures
from linju.projects.stewardship import read as stewardship_read
from linju.projects.stewardship.services import matching, offline_donations

AnyRequest = Request[Any, Any, Any]


def _page(request: AnyRequest) -> Page:
    user = guards.logged_in_user(request)

    async def context() -> dict[str, Any]:
        return {
            "user": user,
            "work": await inbox.work_of(user.id),
            "other_work": await inbox.other_work_of(user.id),
        }

    return Page("committee/index.html", context)


@get(
    "/committee",
    guards=[guards.require_login],
    tags=["committee"],
    summary="What awaits this committee member's decision, across their projects",
)
async def committee_page(request: AnyRequest) -> Template:
    return await _page(request).show()


async def _seat_of(request: AnyRequest, slug: str) -> int:
    user = guards.logged_in_user(request)
    row = (
        await CommitteeMember.select(CommitteeMember.id)
        .where((CommitteeMember.project.slug == slug) & (CommitteeMember.account_id == user.id))
        .first()
    )
    # The guard already checked the seat.
    return int(found(row, N_("You are not on this project's committee"))["id"])


# What a member is told after deciding (ADR 0024): the outcome, and while pending how many more
# votes like theirs decide it (`rules.votes_short`, read from the decisions recorded).
DECIDED = {
    (SubjectKind.EXPENDITURE, Outcome.APPROVED): N_(
        "Approved: the expenditure is approved, the secretary may now pay it"
    ),
    (SubjectKind.EXPENDITURE, Outcome.REJECTED): N_("Rejected: the expenditure is turned down"),
    (SubjectKind.COMPLETION, Outcome.APPROVED): N_("Signed off: the project is completed"),
    (SubjectKind.COMPLETION, Outcome.REJECTED): N_(
        "Rejected: the report goes back to the secretary"
    ),
    (SubjectKind.CANCELLATION, Outcome.APPROVED): N_(
        "Approved: the project is cancelled and every donation is being returned"
    ),
    (SubjectKind.CANCELLATION, Outcome.REJECTED): N_(
        "Rejected: the project goes on, the cancellation is turned down"
    ),
}


def _told(kind: SubjectKind, approve: bool, outcome: Outcome, short: int) -> str:
    """The message id; `num` is the votes still needed."""
    if outcome is not Outcome.PENDING:
        return DECIDED[(kind, outcome)]
    if approve:
        if short == 1:
            return N_("Approved: 1 more vote needed")
        return N_("Approved: %(num)s more votes needed")
    if short == 1:
        return N_("Rejected: 1 more rejection turns it down")
    return N_("Rejected: %(num)s more rejections turn it down")


def _ballot_page(ballot: inbox.Ballot, slug: str, form: SubmittedForm) -> Page:
    """An approval's confirmation page: the figures, what this vote does, who sees it."""
    subject_id = form.text("subject_id")
    carried = {
        "subject": ballot.kind.value,
        "subject_id": subject_id,
        "decision": "approve",
        "reason": form.text("reason"),
    }
    return Page(
        "committee/confirm_vote.html",
        {
            "b": ballot,
            "w": ballot.work,
            "reason": form.text("reason"),
            "confirmation": Confirmation(
                f"/p/{slug}/committee/decisions", f"/committee#{subject_id}", carried
            ),
            "confirm_form": f"decision-{subject_id}",
        },
    )


@post(
    "/p/{slug:str}/committee/decisions",
    guards=[guards.require_committee_member_of_project],
    tags=["committee"],
    summary="Approve or reject an expenditure, a completion report or a cancellation",
)
async def decide(request: AnyRequest, slug: FromPath[str]) -> Response[Any]:
    user = guards.logged_in_user(request)

    async def record(form: SubmittedForm) -> Response[Any] | str:
        subject, subject_id = form.text("subject"), form.text("subject_id")
        choice = form.text("decision")
        if choice not in ("approve", "reject"):
            raise ValidationErrors({"decision": N_("Choose approve or reject")})
        approve, reason = choice == "approve", form.text("reason")
        if subject not in {kind.value for kind in SubjectKind}:
            raise NotFound(N_("Nothing to decide here"))
        kind = SubjectKind(subject)
        if approve and not confirmed(form):  # an approval is confirmed on a page of its own
            problem = reason_problem(reason)
            if problem is not None:
                raise ValidationErrors({"reason": problem})
            ballot = await inbox.ballot(user.id, slug, kind, subject_id)
            return await _ballot_page(ballot, slug, form).show()
        member = await _seat_of(request, slug)
        outcome: Outcome
        if kind is SubjectKind.EXPENDITURE:
            outcome = await expenditures.decide(slug, subject_id, member, approve, reason)
        elif subject in (SubjectKind.COMPLETION.value, SubjectKind.CANCELLATION.value):
            try:
                motion_id = whole_number(subject_id)
            except ValueError:
                raise NotFound(N_("Nothing to decide here")) from None
            decide_motion = (
                completion.decide_report
                if subject == SubjectKind.COMPLETION.value
                else cancellation.decide_cancellation
            )
            outcome = await decide_motion(slug, motion_id, member, approve, reason)
        short = await inbox.votes_still_needed(slug, kind, subject_id, approve)
        tell(request, _told(kind, approve, outcome, short), num=short)
        return "/committee"

    def form_name(form: SubmittedForm) -> str:
        return f"decision-{form.text('subject_id')}"

    return await _page(request).submit(request, form_name, record)


@post(
    "/p/{slug:str}/committee/pledges/{pledge:str}",
    guards=[guards.require_committee_member_of_project],
    tags=["committee"],
    summary="Confirm or reject a matching pledge (a committee member other than its recorder)",
)
async def decide_pledge(
    request: AnyRequest,
    slug: FromPath[str],
    pledge: Annotated[int, Parameter(ge=1, le=INT64_MAX, description="The pledge's id")],
) -> Response[Any]:
    user = guards.logged_in_user(request)

    async def record(form: SubmittedForm) -> str:
        choice = form.text("decision")
        if choice not in ("confirm", "reject"):
            raise ValidationErrors({"decision": N_("Choose confirm or reject")})
        member = await _seat_of(request, slug)
        confirm = choice == "confirm"
        await matching.decide_pledge(user.actor, slug, pledge, member, confirm, form.text("reason"))
        tell(
            request,
            N_("Confirmed: the pledge matches donations from now on")
            if confirm
            else N_("Rejected: the secretary sees your reason"),
        )
        return "/committee"

    return await _page(request).submit(request, f"pledge-{pledge}", record)


# The pages an offline gift is confirmed from; the form says which (`back`), and the answer
# returns there (or shows it again with the refusal). Nothing else is a way back.
GIFT_PAGES = ("inbox", "offline")


@post(
    "/p/{slug:str}/committee/gifts/{gift:str}",
    guards=[guards.require_committee_member_of_project],
    tags=["committee"],
    summary="Confirm an offline gift (a committee member other than its recorder), from the "
    "inbox or the project's offline gifts",
)
async def confirm_gift(
    request: AnyRequest,
    slug: FromPath[str],
    gift: Annotated[str, Parameter(max_length=64, description="The gift's public id")],
) -> Response[Any]:
    user = guards.logged_in_user(request)
    form = await request.form()
    back = form.get("back") if form.get("back") in GIFT_PAGES else "inbox"
    page = (
        Page("secretary/offline.html", lambda: stewardship_read.offline_page(slug, user))
        if back == "offline"
        else _page(request)
    )

    async def confirm(form: SubmittedForm) -> str:
        seq = await offline_donations.confirm_offline_donation(user.actor, slug, gift)
        tell(request, N_("Confirmed: on the public ledger as entry #%(seq)s"), seq=seq)
        return f"/p/{slug}/offline#o-{gift}" if back == "offline" else "/committee"

    return await page.submit(request, f"confirm-{gift}", confirm)


ROUTES: list[Any] = [committee_page, decide, decide_pledge, confirm_gift]
