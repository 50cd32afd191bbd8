"""A community steward's page: post a need heard at a residents' meeting, record a household's
support given on paper or at a meeting, and confirm another steward's record (a record counts
only once a second steward confirms it; docs/adr/0033-residents-voice.md).

Guarded by role AND object: a steward of the community in the path.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.connection import ASGIConnection
from litestar.exceptions import PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import FromPath, Parameter
from litestar.response import Template

from linju.platform.accounts import guards
from linju.platform.kernel.errors import N_, NotFound, RuleViolation, ValidationErrors
from linju.platform.kernel.inputs import INT64_MAX, InputRefused, whole_number
from linju.platform.web import Confirmation, Page, SubmittedForm, confirmed, tell
from linju.projects.core.services import photos
from linju.projects.voice import read, rules
from linju.projects.voice.controllers.residents import (
    need_text,
    store_photos,
)
from linju.projects.voice.services import households, needs, stewards

AnyRequest = Request[Any, Any, Any]
TAGS = ["stewards"]


async def require_steward_of_community(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    user = guards.logged_in_user(connection)
    community = await households.community_row(connection.path_params["community"])
    if not await stewards.is_steward(user.id, int(community["id"])):
        raise PermissionDeniedException()


GUARDS = [guards.require_login, require_steward_of_community]


def _steward_page(request: AnyRequest, community: str) -> Page:
    async def context() -> dict[str, Any]:
        open_needs = await read.community_needs(community, (rules.NeedStatus.OPEN,))
        paper = await read.paper_supports(community)
        me = guards.logged_in_user(request).id
        return {
            "community": await households.community_row(community),
            "need_options": [(str(n.id), f"#{n.id} {n.title}") for n in open_needs],
            "paper": paper,
            "steward_id": me,
            "withdrawable": {
                s["id"]
                for s in paper
                if rules.withdraw_paper_problem(
                    s["need_status"], me, s["recorded_by"], s["confirmed_by"]
                )
                is None
            },
        }

    return Page("voice/steward.html", context)


@get(
    "/steward/c/{community:str}",
    guards=GUARDS,
    tags=TAGS,
    summary="A community steward's page: needs heard at meetings, paper supports to confirm",
)
async def steward_page(request: AnyRequest, community: FromPath[str]) -> Template:
    return await _steward_page(request, community).show()


@post(
    "/steward/c/{community:str}/needs",
    guards=GUARDS,
    tags=TAGS,
    summary="Post a need heard at a residents' meeting (marked as such)",
)
async def post_heard_need(request: AnyRequest, community: FromPath[str]) -> Response[Any]:
    user = guards.logged_in_user(request)

    async def post_it(form: SubmittedForm) -> str:
        text = need_text(form)
        async with photos.kept_on_success() as stored:
            await store_photos(form, "photos", stored)
            need_id = await needs.post_heard_need(user.actor, community, text, stored)
        tell(request, N_("Posted: households can now support the need"))
        return f"/needs/{need_id}"

    return await _steward_page(request, community).submit(request, "heard", post_it)


def _need_id(form: SubmittedForm) -> int:
    try:
        return whole_number(form.text("need"))
    except InputRefused as exc:
        raise ValidationErrors({"need": N_("Choose the need")}) from exc


@post(
    "/steward/c/{community:str}/paper",
    guards=GUARDS,
    tags=TAGS,
    summary="Record a household's support given on paper (counted once a second steward confirms)",
)
async def record_paper(request: AnyRequest, community: FromPath[str]) -> Response[Any]:
    user = guards.logged_in_user(request)

    async def record(form: SubmittedForm) -> str:
        need_id = _need_id(form)
        address = rules.cleaned_address(form.text("building"), form.text("unit"), form.text("room"))
        problems = rules.address_problems(address)
        if problems:
            raise ValidationErrors(problems)
        if await needs.community_of_need(need_id) != int(
            (await households.community_row(community))["id"]
        ):
            raise ValidationErrors({"need": N_("Choose the need")})
        await needs.record_paper_support(user.actor, need_id, address)
        tell(request, N_("Recorded: waiting for another steward to confirm it"))
        return f"/steward/c/{community}#paper"

    return await _steward_page(request, community).submit(request, "paper", record)


@post(
    "/steward/c/{community:str}/paper/{support_id:str}/confirm",
    guards=GUARDS,
    tags=TAGS,
    summary="Confirm another steward's record of a paper support",
)
async def confirm_paper(
    request: AnyRequest,
    community: FromPath[str],
    support_id: Annotated[
        int, Parameter(ge=1, le=INT64_MAX, description="The paper support's number")
    ],
) -> Response[Any]:
    user = guards.logged_in_user(request)

    async def confirm(form: SubmittedForm) -> str:
        await needs.confirm_paper_support(user.actor, support_id)
        tell(request, N_("Confirmed: the household's support counts"))
        return f"/steward/c/{community}#paper"

    return await _steward_page(request, community).submit(request, f"confirm-{support_id}", confirm)


async def _paper_support(community: str, support_id: int) -> dict[str, Any]:
    for row in await read.paper_supports(community):
        if row["id"] == support_id:
            return row
    raise NotFound(N_("No such paper support"))


@post(
    "/steward/c/{community:str}/paper/{support_id:str}/withdraw",
    guards=GUARDS,
    tags=TAGS,
    summary="Withdraw a paper support: unconfirmed, by its recorder; confirmed, by either "
    "steward while the need is open (confirmed first)",
)
async def withdraw_paper(
    request: AnyRequest,
    community: FromPath[str],
    support_id: Annotated[
        int, Parameter(ge=1, le=INT64_MAX, description="The paper support's number")
    ],
) -> Response[Any]:
    user = guards.logged_in_user(request)

    async def withdraw(form: SubmittedForm) -> Response[Any] | str:
        paper = await _paper_support(community, support_id)
        problem = rules.withdraw_paper_problem(
            paper["need_status"], user.id, paper["recorded_by"], paper["confirmed_by"]
        )
        if problem is not None:
            raise RuleViolation(problem)
        if paper["confirmed_by"] is not None and not confirmed(form):
            return await Page(
                "voice/confirm_paper_withdraw.html",
                {
                    "community": await households.community_row(community),
                    "paper": paper,
                    "confirmation": Confirmation(
                        f"/steward/c/{community}/paper/{support_id}/withdraw",
                        f"/steward/c/{community}#paper",
                    ),
                    "confirm_form": f"withdraw-{support_id}",
                },
            ).show()
        await needs.withdraw_paper_support(user.actor, support_id)
        tell(request, N_("Withdrawn: the household's paper support no longer counts"))
        return f"/steward/c/{community}#paper"

    return await _steward_page(request, community).submit(
        request, f"withdraw-{support_id}", withdraw
    )


ROUTES: list[Any] = [steward_page, post_heard_need, record_paper, confirm_paper, withdraw_paper]
