"""Routes where a donor meets a gateway: the donate form and API, and the sandbox's checkout.

Thin: they read the input, call `payments.services`, and answer. The form re-renders the
project page with the problems in the visitor's language (422, or 409 when the project does
not take donations) and nothing is written; the API answers with a problem document.

The form leads to a review page first (WCAG 2.2 SC 3.3.4, docs/adr/0027-host-and-fund.md):
the amount in figures and in capital numerals, the name on the wall, the message, the
recipient fund and the gateway, with the form's values carried hidden. "确认并支付" posts them
to `/p/{slug}/donate/confirmation`, which checks them again and only then starts the checkout;
"返回修改" posts them there too and gets the project page's form back, filled in.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_201_CREATED, HTTP_303_SEE_OTHER

from linju.payments import services
from linju.payments.gateway import provider_reachable
from linju.payments.registry import LABELS, SANDBOX, gateway_named
from linju.payments.sandbox import (
    SandboxGateway,
    SandboxOutcome,
    finish_session,
    get_session,
    session_payload,
)
from linju.platform.kernel.errors import N_, ValidationErrors, found
from linju.platform.kernel.money import AmountOut, Money
from linju.platform.openapi import api
from linju.platform.settings import get_settings
from linju.platform.web import FormState, Page, SubmittedForm, json_body, render
from linju.projects.core.read import project_page_context
from linju.projects.donations.read import donation_review
from linju.projects.donations.rules import (
    FORM_FIELDS,
    DonationInput,
    donation_from_form,
    donation_from_json,
    donation_problems,
    form_fields,
    receipt_path,
)

logger = logging.getLogger("linju.payments")
SANDBOX_OUTCOMES = {outcome.value for outcome in SandboxOutcome}


class DonationAmountIn(msgspec.Struct):
    amount: Annotated[int, msgspec.Meta(ge=100, description="In fen: at least ¥1")]
    currency: Literal["CNY"]


class DonationIn(msgspec.Struct):
    """What the donate API reads (contract.md, "Giving"); the route reads it itself, so that a
    malformed field is a 422 naming each field (`donation_from_json`)."""

    amount: DonationAmountIn
    display_name: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    anonymous: bool = False
    message: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    email: Annotated[str, msgspec.Meta(max_length=254)] | None = None


class DonationStartedOut(msgspec.Struct):
    """A pending donation: send the donor to `checkout_url`; `receipt_url` shows the outcome.

    `receipt_url` holds the receipt's secret token, given only here and to the gateway's
    checkout as its return address; `id` is public (the ledger's `ref`) and opens no receipt."""

    id: str
    status: str
    amount: AmountOut
    checkout_url: str
    receipt_url: str


def _checked_donation(form: SubmittedForm) -> DonationInput:
    """The donate form's values, typed and checked; ValidationErrors naming every problem."""
    donation, problems = donation_from_form({field: form.text(field) for field in FORM_FIELDS})
    for field, problem in donation_problems(donation, get_settings().max_donation_fen).items():
        problems.setdefault(field, problem)
    if problems:
        raise ValidationErrors(problems)
    return donation


def _project_page(slug: str) -> Page:
    return Page("pages/project.html", lambda: project_page_context(slug))


# The donate form and its review, posted by anonymous visitors from a cached page: checked by
# their origin, not a token (platform.csrf, ADR 0036); with a session, by the token as before.
ANONYMOUS_FORMS = (r"/p/[^/]+/donate", r"/p/[^/]+/donate/confirmation")
# A sandbox checkout's address is its key (platform.secret_paths: never logged).
SECRET_PATHS = (r"/sandbox/checkout/([^/]+)(?:/.*)?",)


@post(
    "/p/{slug:str}/donate",
    name="donate",
    tags=["pages"],
    summary="Donate from the project page: the review of the gift, nothing written yet",
)
async def donate_form(request: Request[Any, Any, Any], slug: FromPath[str]) -> Response[Any]:
    async def review(form: SubmittedForm) -> Response[Any]:
        donation = _checked_donation(form)
        checked = await donation_review(slug, donation, form.texts())
        gateway = LABELS.get(get_settings().payment_gateway, get_settings().payment_gateway)
        return render("donations/review.html", {"review": checked, "gateway_label": gateway})

    page = _project_page(slug)
    return await page.submit(request, "donate", review, fields={"amount": "custom_amount"})


@post(
    "/p/{slug:str}/donate/confirmation",
    name="donate-confirmation",
    tags=["pages"],
    summary="The reviewed gift: pay (a pending donation, then the gateway's checkout) or edit",
)
async def confirm_donation(request: Request[Any, Any, Any], slug: FromPath[str]) -> Response[Any]:
    page = _project_page(slug)

    async def confirm(form: SubmittedForm) -> Response[Any]:
        if form.text("action") == "edit":  # back to the form, every value kept, nothing written
            values = form_fields({field: form.text(field) for field in FORM_FIELDS})
            return await page.show(failed_form=FormState("donate", values))
        donation = _checked_donation(form)  # checked again: the values came back from the page
        with provider_reachable(f"checkout for {slug} could not start"):
            started = await services.begin_donation(slug, donation)
        return Redirect(started.checkout_url, status_code=HTTP_303_SEE_OTHER)

    return await page.submit(request, "donate", confirm, fields={"amount": "custom_amount"})


@post(
    "/api/v1/projects/{slug:str}/donations",
    tags=["donations"],
    summary="Start a donation: 201 with the checkout URL to send the donor to",
    status_code=HTTP_201_CREATED,
    opt=api(
        body=DonationIn,
        problems={
            404: "There is no such project",
            409: "The project is not taking donations",
            422: "The amount is below ¥1 or above the platform's maximum, or a field is malformed",
            503: "The payment provider could not be reached; nothing was recorded",
        },
    ),
)
async def create_donation_api(
    slug: FromPath[str], request: Request[Any, Any, Any]
) -> DonationStartedOut:
    donation: DonationInput = donation_from_json(await json_body(request))
    with provider_reachable(f"checkout for {slug} could not start"):
        started = await services.begin_donation(slug, donation)
    return DonationStartedOut(
        id=started.donation.id,
        status=started.donation.status.value,
        amount=AmountOut.of(started.donation.amount),
        checkout_url=started.checkout_url,
        receipt_url=get_settings().base_url + receipt_path(started.donation.receipt_token),
    )


def _sandbox_enabled() -> None:
    if get_settings().payment_gateway != SANDBOX:
        raise NotFoundException()


def _checkout_page(session_id: str) -> Page:
    async def context() -> dict[str, Any]:
        session = found(await get_session(session_id))
        return {
            "session": session,
            "amount": Money(session["amount_fen"], session["currency"]),
            "fee": Money(session["fee_fen"], session["currency"]),
        }

    return Page("payments/sandbox_checkout.html", context)


@get(
    "/sandbox/checkout/{session_id:str}",
    name="sandbox-checkout",
    tags=["sandbox"],
    summary="The sandbox gateway's checkout page: pay, fail or abandon",
)
async def sandbox_checkout(session_id: FromPath[str]) -> Template:
    _sandbox_enabled()
    return await _checkout_page(session_id).show()


@post(
    "/sandbox/checkout/{session_id:str}",
    tags=["sandbox"],
    summary="The donor's choice on the sandbox checkout; the sandbox then calls the webhook",
)
async def sandbox_choose(
    request: Request[Any, Any, Any], session_id: FromPath[str]
) -> Response[Any]:
    _sandbox_enabled()

    async def choose(form: SubmittedForm) -> Response[Any]:
        choice = form.text("outcome")
        if choice not in SANDBOX_OUTCOMES:
            form.refuse("outcome", N_("Choose one of the buttons"))
        session = found(await finish_session(session_id, SandboxOutcome(choice)))
        gateway = gateway_named(SANDBOX)
        assert isinstance(gateway, SandboxGateway)
        if not await gateway.deliver(session_payload(session)):
            logger.warning("sandbox session %s: webhook not delivered; reconcile", session_id)
        target = session["success_url"] if session["status"] == "paid" else session["cancel_url"]
        return Redirect(target, status_code=HTTP_303_SEE_OTHER)

    return await _checkout_page(session_id).submit(request, "checkout", choose)


ROUTES: list[Any] = [
    donate_form,
    confirm_donation,
    create_donation_api,
    sandbox_checkout,
    sandbox_choose,
]
