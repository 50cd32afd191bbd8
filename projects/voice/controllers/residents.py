"""Residents' pages: entering the household's code, the household's own page, a need's page,
posting, supporting and withdrawing (docs/adr/0033-residents-voice.md).

A phone that entered its household's code carries the household's session cookie (httponly,
SameSite=Lax, secure over https), separate from staff sessions; only its SHA-256 is stored.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.params import FromPath, Parameter, QueryParameter
from litestar.response import Redirect, Template

from linju.platform.kernel.errors import N_, NotFound, ValidationErrors
from linju.platform.kernel.inputs import INT64_MAX
from linju.platform.settings import get_settings
from linju.platform.web import Confirmation, Page, SubmittedForm, confirmed, safe_next, tell
from linju.projects.core.read import list_communities
from linju.projects.core.services import photos
from linju.projects.voice import read, rules
from linju.projects.voice.services import households, needs
from linju.projects.voice.services.households import HOUSEHOLD_COOKIE, HouseholdView

AnyRequest = Request[Any, Any, Any]
NeedId = Annotated[int, Parameter(ge=1, le=INT64_MAX, description="The need's number")]
TAGS = ["residents"]


def client_address(request: AnyRequest) -> str:
    return request.client.host if request.client else "unknown"


async def current_household(request: AnyRequest) -> HouseholdView | None:
    return await households.household_for_token(request.cookies.get(HOUSEHOLD_COOKIE))


async def _household_or_refuse(request: AnyRequest) -> HouseholdView:
    household = await current_household(request)
    if household is None:
        raise ValidationErrors({"": N_("Enter your household's code first")})
    return household


async def store_photos(
    form: SubmittedForm, name: str, stored: list[photos.StoredPhoto]
) -> list[photos.StoredPhoto]:
    """Store a field's photos, re-encoded without their metadata by core's photo service."""
    uploads = [u for u in form.files(name) if u.filename]
    if len(uploads) > rules.MAX_NEED_PHOTOS:
        raise ValidationErrors({name: N_("At most 4 photos")})
    return await photos.store_field(name, [await u.read() for u in uploads], stored)


def need_text(form: SubmittedForm) -> rules.NeedText:
    text = rules.NeedText(form.text("title"), form.text("body"), form.text("place"))
    problems = rules.need_problems(text)
    if problems:
        raise ValidationErrors(problems)
    return text


# Entering the code --------------------------------------------------------------------------


def _entry_page(slug: str, code: str = "", next_path: str = "") -> Page:
    async def context() -> dict[str, Any]:
        community = await households.community_row(slug)
        return {"community": community, "initial": {"code": code, "next": next_path}}

    return Page("voice/household_entry.html", context)


@get(
    "/c/{slug:str}/household",
    tags=TAGS,
    summary="Enter the household's code (from its card or its QR code)",
)
async def household_entry(
    slug: FromPath[str],
    code: Annotated[str, QueryParameter(max_length=64, description="The card's code")] = "",
    next_path: Annotated[
        str,
        QueryParameter(
            name="next", max_length=200, description="Where to return (a hearing's page)"
        ),
    ] = "",
) -> Template:
    back = safe_next(next_path) if next_path else ""
    return await _entry_page(
        slug, rules.grouped_code(rules.normalised_code(code)), "" if back == "/" else back
    ).show()


@post(
    "/c/{slug:str}/household",
    tags=TAGS,
    summary="Enter the household's code: this phone is remembered as the household's",
)
async def enter_household(request: AnyRequest, slug: FromPath[str]) -> Response[Any]:
    async def enter(form: SubmittedForm) -> Response[Any]:
        token = await households.enter_code(slug, form.text("code"), client_address(request))
        back = safe_next(form.text("next")) if form.text("next") else "/household"
        response: Response[Any] = Redirect(path=back, status_code=303)
        response.set_cookie(
            HOUSEHOLD_COOKIE,
            token,
            max_age=int(rules.HOUSEHOLD_SESSION_LIFETIME.total_seconds()),
            path="/",
            httponly=True,
            samesite="lax",
            secure=get_settings().secure_cookies,
        )
        tell(request, N_("Welcome: this phone now speaks for your household"))
        return response

    return await _entry_page(slug).submit(request, "household", enter)


# The household's own page -------------------------------------------------------------------


def _household_page(request: AnyRequest) -> Page:
    async def context() -> dict[str, Any]:
        household = await current_household(request)
        if household is None:
            return {"household": None, "communities": await list_communities()}
        return await read.household_page(household)

    return Page("voice/household.html", context)


@get("/household", tags=TAGS, summary="The household's own page: needs to support, post a need")
async def household_home(request: AnyRequest) -> Template:
    return await _household_page(request).show()


@post("/household/leave", tags=TAGS, summary="This phone no longer speaks for the household")
async def leave_household(request: AnyRequest) -> Response[Any]:
    token = request.cookies.get(HOUSEHOLD_COOKIE)
    household = await current_household(request)
    if token:
        await households.end_household_session(token)
    response: Response[Any] = Redirect(
        path=f"/c/{household.community_slug}" if household else "/", status_code=303
    )
    response.delete_cookie(HOUSEHOLD_COOKIE, path="/")
    tell(request, N_("This phone no longer speaks for your household"))
    return response


@post(
    "/household/needs",
    tags=TAGS,
    summary="Post a need (title, what and where, photos) for the households to support",
)
async def post_need(request: AnyRequest) -> Response[Any]:
    async def post_it(form: SubmittedForm) -> str:
        household = await _household_or_refuse(request)
        text = need_text(form)
        async with photos.kept_on_success() as stored:
            await store_photos(form, "photos", stored)
            need_id = await needs.post_need(household, text, stored)
        tell(request, N_("Posted: other households can now support your need"))
        return f"/needs/{need_id}"

    return await _household_page(request).submit(request, "need", post_it)


# A need's page ------------------------------------------------------------------------------


def _need_page(request: AnyRequest, need_id: int) -> Page:
    async def context() -> dict[str, Any]:
        need = await read.need(need_id)
        household = await current_household(request)
        here = household if household and household.community_slug == need.community_slug else None
        return {
            "need": need,
            "household": here,
            "support": await read.support_of(here, need_id),
            "authored": here is not None and need.author_household == here.id,
            "hearings": await read.need_hearings(need_id),
        }

    return Page("voice/need.html", context)


@get("/needs/{need_id:str}", tags=TAGS, summary="A residents' need: its state and supports")
async def need_page(request: AnyRequest, need_id: NeedId) -> Template:
    return await _need_page(request, need_id).show()


@post("/needs/{need_id:str}/support", tags=TAGS, summary="The household supports the need")
async def support_need(request: AnyRequest, need_id: NeedId) -> Response[Any]:
    async def support(form: SubmittedForm) -> str:
        household = await _household_or_refuse(request)
        await needs.support(household, need_id)
        tell(request, N_("Thank you: your household supports this need"))
        return f"/needs/{need_id}"

    return await _need_page(request, need_id).submit(request, "support", support)


@post(
    "/needs/{need_id:str}/unsupport",
    tags=TAGS,
    summary="The household withdraws its support (while the need is open)",
)
async def unsupport_need(request: AnyRequest, need_id: NeedId) -> Response[Any]:
    async def withdraw(form: SubmittedForm) -> str:
        household = await _household_or_refuse(request)
        await needs.withdraw_support(household, need_id)
        tell(request, N_("Your household no longer supports this need"))
        return f"/needs/{need_id}"

    return await _need_page(request, need_id).submit(request, "unsupport", withdraw)


def _withdraw_page(need_id: int) -> Page:
    async def context() -> dict[str, Any]:
        return {
            "need": await read.need(need_id),
            "confirmation": Confirmation(f"/needs/{need_id}/withdraw", f"/needs/{need_id}"),
            "confirm_form": "withdraw",
        }

    return Page("voice/confirm_withdraw.html", context)


@post(
    "/needs/{need_id:str}/withdraw",
    tags=TAGS,
    summary="The household that posted a need withdraws it (confirmed first)",
)
async def withdraw_need(request: AnyRequest, need_id: NeedId) -> Response[Any]:
    async def withdraw(form: SubmittedForm) -> Response[Any] | str:
        household = await _household_or_refuse(request)
        if not confirmed(form):
            need = await read.need(need_id)
            if need.author_household != household.id:
                raise NotFound(needs.NO_NEED)
            return await _withdraw_page(need_id).show()
        await needs.withdraw_need(household, need_id)
        tell(request, N_("Withdrawn: the need is no longer open"))
        return f"/needs/{need_id}"

    return await _need_page(request, need_id).submit(request, "withdraw", withdraw)


ROUTES: list[Any] = [
    household_entry,
    enter_household,
    household_home,
    leave_household,
    post_need,
    need_page,
    support_need,
    unsupport_need,
    withdraw_need,
]
