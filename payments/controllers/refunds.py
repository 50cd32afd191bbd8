"""Refund routes for a platform admin or the project's community secretary (ADR 0006 guards).

The guard runs before the handler, so a refused request changes nothing; the refund request
and its audit record are written in one transaction (`services.refund_donation`).
"""

from __future__ import annotations

import json
from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Template
from litestar.status_codes import HTTP_201_CREATED

from linju.payments import services
from linju.payments.gateway import provider_reachable
from linju.platform.accounts.audit import record_audit
from linju.platform.accounts.guards import logged_in_user, require_secretary_or_admin_of_project
from linju.platform.kernel.errors import N_, NotFound, RuleViolation, ValidationErrors
from linju.platform.kernel.money import AmountOut, Money, parse_yuan
from linju.platform.web import Page, SubmittedForm
from linju.projects.donations import services as donations
from linju.projects.donations.rules import MAX_REASON_LENGTH, refundable_fen
from linju.projects.donations.services import DonationView, RefundPlan

GUARDS = [require_secretary_or_admin_of_project]


class RefundOut(msgspec.Struct):
    """A refund asked of the provider; `donation_status` and `refunded` are the donation's after
    it (a refund the provider confirms at once is counted already)."""

    id: str
    donation: str
    amount: AmountOut
    donation_status: str
    refunded: AmountOut


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


def _refund_page(view: DonationView) -> Page:
    refundable = Money(refundable_fen(view.amount.amount, view.refunded.amount))
    return Page(
        "payments/refund.html",
        {"donation": view, "refundable": refundable, "max_reason": MAX_REASON_LENGTH},
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
    return await _refund_page(await _donation_of_project(slug, donation_id)).show()


@post(
    "/p/{slug:str}/donations/{donation_id:str}/refund",
    guards=GUARDS,
    tags=["refunds"],
    summary="Refund (part of) a donation through its gateway",
)
async def refund_submit(
    request: Request[Any, Any, Any], slug: FromPath[str], donation_id: FromPath[str]
) -> Response[Any]:
    view = await _donation_of_project(slug, donation_id)

    async def refund(form: SubmittedForm) -> str:
        fen = form.parsed("amount", _refund_fen, N_("Enter an amount in yuan, like 88 or 88.50"), 0)
        form.raise_problems()
        with provider_reachable(f"refund of {donation_id} could not be asked for"):
            await _refund(request, donation_id, fen, form.text("reason"))
        return f"/donations/{donation_id}"

    return await _refund_page(view).submit(request, "refund", refund)


@post(
    "/api/v1/projects/{slug:str}/donations/{donation_id:str}/refunds",
    guards=GUARDS,
    tags=["refunds"],
    summary="Refund (part of) a donation: {amount: {amount, currency}, reason}",
    status_code=HTTP_201_CREATED,
)
async def refund_api(
    request: Request[Any, Any, Any], slug: FromPath[str], donation_id: FromPath[str]
) -> RefundOut:
    await _donation_of_project(slug, donation_id)
    try:
        payload = json.loads(await request.body())
        amount = payload["amount"]
        fen, currency, reason = amount["amount"], amount["currency"], payload["reason"]
    except (ValueError, KeyError, TypeError):
        raise ValidationErrors({"body": N_("Send {amount: {amount, currency}, reason}")}) from None
    if isinstance(fen, bool) or not isinstance(fen, int) or not isinstance(reason, str):
        raise ValidationErrors({"amount": N_("The amount must be a whole number of fen")})
    if currency != "CNY":
        raise RuleViolation(N_("Donations are in CNY only"))
    with provider_reachable(f"refund of {donation_id} could not be asked for"):
        refund_id = await _refund(request, donation_id, fen, reason)
    view = await donations.get_donation(donation_id)
    return RefundOut(
        id=refund_id,
        donation=donation_id,
        amount=AmountOut.of(Money(fen)),
        donation_status=view.status.value,
        refunded=AmountOut.of(view.refunded),
    )


ROUTES: list[Any] = [donation_list, refund_form, refund_submit, refund_api]
