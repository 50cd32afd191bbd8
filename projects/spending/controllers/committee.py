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
from linju.platform.web import Page, SubmittedForm
from linju.projects.core.tables import CommitteeMember
from linju.projects.spending import inbox
from linju.projects.spending.rules import Outcome, SubjectKind
from linju.projects.spending.services import cancellation, completion, expenditures
from linju.projects.stewardship.services import matching, offline_donations

AnyRequest = Request[Any, Any, Any]


def _page(request: AnyRequest) -> Page:
    user = guards.logged_in_user(request)

    async def context() -> dict[str, Any]:
        return {"user": user, "work": await inbox.work_of(user.id)}

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


@post(
    "/p/{slug:str}/committee/decisions",
    guards=[guards.require_committee_member_of_project],
    tags=["committee"],
    summary="Approve or reject an expenditure, a completion report or a cancellation",
)
async def decide(request: AnyRequest, slug: FromPath[str]) -> Response[Any]:
    async def record(form: SubmittedForm) -> str:
        subject, subject_id = form.text("subject"), form.text("subject_id")
        choice = form.text("decision")
        if choice not in ("approve", "reject"):
            raise ValidationErrors({"decision": N_("Choose approve or reject")})
        approve, reason = choice == "approve", form.text("reason")
        member = await _seat_of(request, slug)
        outcome: Outcome
        if subject == SubjectKind.EXPENDITURE.value:
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
        else:
            raise NotFound(N_("Nothing to decide here"))
        return f"/committee?decided={outcome.value}"

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
        return "/committee"

    return await _page(request).submit(request, f"pledge-{pledge}", record)


@post(
    "/p/{slug:str}/committee/gifts/{gift:str}",
    guards=[guards.require_committee_member_of_project],
    tags=["committee"],
    summary="Confirm an offline gift from the inbox (a committee member other than its recorder)",
)
async def confirm_gift(
    request: AnyRequest,
    slug: FromPath[str],
    gift: Annotated[str, Parameter(max_length=64, description="The gift's public id")],
) -> Response[Any]:
    user = guards.logged_in_user(request)

    async def confirm(form: SubmittedForm) -> str:
        await offline_donations.confirm_offline_donation(user.actor, slug, gift)
        return "/committee"

    return await _page(request).submit(request, f"confirm-{gift}", confirm)


ROUTES: list[Any] = [committee_page, decide, decide_pledge, confirm_gift]
