"""A hearing's minutes (docs/adr/0034-hearing-minutes.md): the public page once signed off, and
the page where a steward drafts them and the signers (a project's committee, or a need's
stewards) sign them off, each sign-off through a confirmation page.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.exceptions import PermissionDeniedException
from litestar.params import Parameter
from litestar.response import Template

from linju.platform.accounts import guards
from linju.platform.kernel.errors import N_
from linju.platform.kernel.inputs import INT64_MAX
from linju.platform.web import Confirmation, Page, SubmittedForm, confirmed, tell
from linju.projects.voice import read, rules
from linju.projects.voice.services import minutes, stewards

AnyRequest = Request[Any, Any, Any]
HearingId = Annotated[int, Parameter(ge=1, le=INT64_MAX, description="The hearing's number")]


@get(
    "/hearings/{hearing_id:str}/minutes",
    tags=["residents"],
    summary="A hearing's minutes once signed off: summary, attendees, decisions, who signed, "
    "the anchored checkpoint and ledger head",
)
async def minutes_page(hearing_id: HearingId) -> Template:
    hearing = await read.hearing(hearing_id)
    return await Page(
        "voice/minutes.html",
        {"hearing": hearing, "minutes": await read.minutes(hearing_id)},
    ).show()


async def _roles(request: AnyRequest, hearing_id: int) -> tuple[bool, bool]:
    """(steward of the hearing's community, may sign its minutes) for the logged-in account;
    neither: 403."""
    user = guards.logged_in_user(request)
    row = await minutes.hearing_row(hearing_id)
    steward = await stewards.is_steward(user.id, int(row["community"]))
    signer = await minutes.may_sign(user.id, row)
    if not (steward or signer):
        raise PermissionDeniedException()
    return steward, signer


def _sign_page(request: AnyRequest, hearing_id: int) -> Page:
    async def context() -> dict[str, Any]:
        user = guards.logged_in_user(request)
        steward, signer = await _roles(request, hearing_id)
        draft = await read.minutes(hearing_id, draft=True)
        signed_by_me = draft is not None and await minutes.has_signed(user.id, hearing_id)
        return {
            "hearing": await read.hearing(hearing_id),
            "minutes": draft,
            "steward": steward,
            "editable": steward and (draft is None or not draft.signers),
            "may_sign": signer and draft is not None and not draft.signed_off and not signed_by_me,
            "signed_by_me": signed_by_me,
            "prefilled": await minutes.prefilled_decisions(hearing_id),
        }

    return Page("voice/minutes_sign.html", context)


@get(
    "/hearings/{hearing_id:str}/minutes/sign",
    guards=[guards.require_login],
    tags=["stewards"],
    summary="Draft a closed hearing's minutes (a steward) and sign them off (a project's "
    "committee, or a need's stewards)",
)
async def sign_page(request: AnyRequest, hearing_id: HearingId) -> Template:
    return await _sign_page(request, hearing_id).show()


@post(
    "/hearings/{hearing_id:str}/minutes/draft",
    guards=[guards.require_login],
    tags=["stewards"],
    summary="A steward writes or edits the minutes (until the first sign-off)",
)
async def draft_minutes(request: AnyRequest, hearing_id: HearingId) -> Response[Any]:
    user = guards.logged_in_user(request)

    async def draft(form: SubmittedForm) -> str:
        text = rules.MinutesText(
            form.text("summary"), form.text("attendees"), form.text("decisions")
        )
        await minutes.draft_minutes(user.actor, hearing_id, text)
        tell(request, N_("Saved: the minutes await their sign-off"))
        return f"/hearings/{hearing_id}/minutes/sign"

    return await _sign_page(request, hearing_id).submit(request, "minutes", draft)


@post(
    "/hearings/{hearing_id:str}/minutes/signoff",
    guards=[guards.require_login],
    tags=["stewards"],
    summary="Sign the minutes off (confirmed first; the last signer's anchors and freezes them)",
)
async def sign_minutes(request: AnyRequest, hearing_id: HearingId) -> Response[Any]:
    user = guards.logged_in_user(request)

    async def sign(form: SubmittedForm) -> Response[Any] | str:
        await _roles(request, hearing_id)
        if not confirmed(form):
            draft = await read.minutes(hearing_id, draft=True)
            if draft is None:
                return await _sign_page(request, hearing_id).show(404)
            return await Page(
                "voice/confirm_minutes_sign.html",
                {
                    "hearing": await read.hearing(hearing_id),
                    "minutes": draft,
                    "last": len(draft.signers) + 1 >= draft.needed,
                    "confirmation": Confirmation(
                        f"/hearings/{hearing_id}/minutes/signoff",
                        f"/hearings/{hearing_id}/minutes/sign",
                    ),
                    "confirm_form": "signoff",
                },
            ).show()
        done = await minutes.sign_minutes(user.actor, hearing_id)
        if done:
            tell(request, N_("Signed off: the minutes are public and can no longer change"))
            return f"/hearings/{hearing_id}/minutes"
        tell(request, N_("Signed: the minutes await the other signers"))
        return f"/hearings/{hearing_id}/minutes/sign"

    return await _sign_page(request, hearing_id).submit(request, "signoff", sign)


ROUTES: list[Any] = [minutes_page, sign_page, draft_minutes, sign_minutes]
