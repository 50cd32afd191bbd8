"""Refund routes for a platform admin or the project's community secretary (ADR 0006 guards).

The guard runs before the handler, so a refused request changes nothing; the refund request,
its audit record and the job that sends it to the provider are written in one transaction
(`services.refund_donation`). No route here waits on the provider: the form answers at once
and the refund page shows where each refund stands; the API answers 202 Accepted.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Template
from litestar.status_codes import HTTP_202_ACCEPTED

from linju.payments import services
from linju.platform.accounts.audit import record_audit
from linju.platform.accounts.guards import logged_in_user, require_secretary_or_admin_of_project
from linju.platform.kernel.errors import N_, NotFound, RuleViolation, ValidationErrors
from linju.platform.kernel.money import AmountOut, Money, parse_yuan
from linju.platform.openapi import api
from linju.platform.web import Page, SubmittedForm, json_body, tell
from linju.projects.donations import services as donations
from linju.projects.donations.rules import MAX_REASON_LENGTH, RefundStatus, refundable_fen
from linju.projects.donations.services import DonationView, RefundPlan, RefundView

GUARDS = [require_secretary_or_admin_of_project]


class RefundAmountIn(msgspec.Struct):
    amount: Annotated[int, msgspec.Meta(ge=1, description="In fen")]
    currency: Literal["CNY"]


class RefundIn(msgspec.Struct):
    """What the refund API reads; the route reads it itself (a malformed body is a 422)."""

    amount: RefundAmountIn
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_REASON_LENGTH)]


class RefundOut(msgspec.Struct):
    """A refund asked for: recorded as `requested`, to be sent to the provider by a worker. The
    donation (`Location`, `GET /api/v1/projects/{slug}/donations/{id}`) counts it in `refunded`
    once the provider confirms it."""

    id: str
    status: str
    donation: str
    amount: AmountOut


async def _donation_of_project(slug: str, donation_id: str) -> DonationView:
    view = await donations.get_donation(donation_id)
    if view.project_slug != slug:
        raise NotFound(N_("No donation %(id)s"), id=donation_id)
    return view


async def _refund(request: Request[Any, Any, Any], donation_id: str, fen: int, reason: str) -> str:
    user = logged_in_user(request)

    async def audit(plan: RefundPlan) -> None:
        await record_audit(
            user.actor,
            "donation.refund",
            "donation",
            donation_id,
            after={"refund": plan.refund_id, "amount_fen": plan.amount.amount, "reason": reason},
        )

    return await services.refund_donation(donation_id, fen, reason, user.actor.label, audit)


IN_FLIGHT = ("requested", "sent")  # refund stages asked for and not yet confirmed


async def _refund_page(view: DonationView) -> Page:
    """The refund form, with the donation's refunds and where each stands."""
    refunds: list[RefundView] = await donations.donation_refunds(view.id)
    waiting = sum(r.amount.amount for r in refunds if r.stage in IN_FLIGHT)
    refundable = refundable_fen(view.amount.amount, view.refunded.amount + waiting)
    return Page(
        "payments/refund.html",
        {
            "donation": view,
            "refunds": refunds,
            "waiting": Money(waiting, view.amount.currency),
            "refundable": Money(refundable, view.amount.currency),
            "max_reason": MAX_REASON_LENGTH,
        },
    )


def _refund_fen(text: str) -> int:
    """Yuan as typed, more than nothing; ValueError otherwise."""
    fen = parse_yuan(text)
    if fen <= 0:
        raise ValueError(text)
    return fen


@get(
    "/p/{slug:str}/donations",
    guards=GUARDS,
    tags=["refunds"],
    summary="A project's donations, newest first, with refund links (admin or secretary)",
)
async def donation_list(slug: FromPath[str]) -> Template:
    return Template(
        "payments/donations.html",
        context={"slug": slug, "donations": await donations.project_donations(slug)},
    )


@get(
    "/p/{slug:str}/donations/{donation_id:str}/refund",
    guards=GUARDS,
    tags=["refunds"],
    summary="The refund form for one donation (admin or the community's secretary)",
)
async def refund_form(slug: FromPath[str], donation_id: FromPath[str]) -> Template:
    return await (await _refund_page(await _donation_of_project(slug, donation_id))).show()


@post(
    "/p/{slug:str}/donations/{donation_id:str}/refund",
    guards=GUARDS,
    tags=["refunds"],
    summary="Ask for a refund of (part of) a donation; a worker sends it to the gateway",
)
async def refund_submit(
    request: Request[Any, Any, Any], slug: FromPath[str], donation_id: FromPath[str]
) -> Response[Any]:
    view = await _donation_of_project(slug, donation_id)

    async def refund(form: SubmittedForm) -> str:
        fen = form.parsed("amount", _refund_fen, N_("Enter an amount in yuan, like 88 or 88.50"), 0)
        form.raise_problems()
        await _refund(request, donation_id, fen, form.text("reason"))
        tell(
            request,
            N_(
                "The refund was requested. The payment provider will confirm it shortly; where "
                "it stands is shown below."
            ),
        )
        return f"/p/{slug}/donations/{donation_id}/refund"

    return await (await _refund_page(view)).submit(request, "refund", refund)


@post(
    "/api/v1/projects/{slug:str}/donations/{donation_id:str}/refunds",
    guards=GUARDS,
    tags=["refunds"],
    summary="Ask for a refund of (part of) a donation: {amount: {amount, currency}, reason}",
    description=(
        "202 Accepted: the refund is recorded as `requested` and a worker sends it to the"
        " payment provider; `Location` is the donation, whose `refunded` counts it once the"
        " provider confirms it."
    ),
    status_code=HTTP_202_ACCEPTED,
    opt=api(
        body=RefundIn,
        problems={
            404: "There is no such project, or no such donation to it",
            409: "The donation is not confirmed, or the refund exceeds what it gave or what the "
            "fund holds",
            422: "The body is malformed, the amount is not above zero, or the reason is missing "
            "or too long",
        },
    ),
)
async def refund_api(
    request: Request[Any, Any, Any], slug: FromPath[str], donation_id: FromPath[str]
) -> Response[RefundOut]:
    await _donation_of_project(slug, donation_id)
    try:
        payload = await json_body(request)
        amount = payload["amount"]
        fen, currency, reason = amount["amount"], amount["currency"], payload["reason"]
    except (ValueError, KeyError, TypeError):
        raise ValidationErrors({"body": N_("Send {amount: {amount, currency}, reason}")}) from None
    if isinstance(fen, bool) or not isinstance(fen, int) or not isinstance(reason, str):
        raise ValidationErrors({"amount": N_("The amount must be a whole number of fen")})
    if currency != "CNY":
        raise RuleViolation(N_("Donations are in CNY only"))
    refund_id = await _refund(request, donation_id, fen, reason)
    return Response(
        RefundOut(
            id=refund_id,
            status=RefundStatus.REQUESTED.value,
            donation=donation_id,
            amount=AmountOut.of(Money(fen)),
        ),
        status_code=HTTP_202_ACCEPTED,
        headers={"Location": f"/api/v1/projects/{slug}/donations/{donation_id}"},
    )


ROUTES: list[Any] = [donation_list, refund_form, refund_submit, refund_api]
