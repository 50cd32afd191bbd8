"""Routes where a donor meets a gateway: the donate form and API, and the sandbox's checkout.

Thin: they read the input, call `payments.services`, and answer. The form re-renders the
project page with the problems in the visitor's language (422, or 409 when the project does
not take donations) and nothing is written; the API answers with a problem document.
"""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_201_CREATED, HTTP_303_SEE_OTHER

from linju.payments import services
from linju.payments.gateway import UNREACHABLE, GatewayError
from linju.payments.registry import SANDBOX, gateway_named
from linju.payments.sandbox import (
    SandboxGateway,
    SandboxOutcome,
    finish_session,
    get_session,
    session_payload,
)
from linju.platform.i18n import gettext
from linju.platform.kernel.errors import N_, Conflict, Unavailable, ValidationErrors, found
from linju.platform.kernel.money import AmountOut, Money
from linju.platform.settings import get_settings
from linju.projects.core.read import project_page_context
from linju.projects.donations.rules import (
    FORM_FIELDS,
    DonationInput,
    donation_from_form,
    donation_from_json,
    donation_problems,
)

logger = logging.getLogger("linju.payments")


class DonationStartedOut(msgspec.Struct):
    """A pending donation: send the donor to `checkout_url`; `receipt_url` shows the outcome."""

    id: str
    status: str
    amount: AmountOut
    checkout_url: str
    receipt_url: str


async def _project_page_with_form(
    slug: str, values: dict[str, str], errors: dict[str, str], status: int
) -> Template:
    """The project page again, the donate form filled in as sent, with its problems."""
    context = await project_page_context(slug)
    context["donate_form"] = {
        "values": values,
        "errors": {field: gettext(message) for field, message in errors.items()},
    }
    return Template("pages/project.html", context=context, status_code=status)


@post(
    "/p/{slug:str}/donate",
    name="donate",
    tags=["pages"],
    summary="Donate from the project page: a pending donation, then the gateway's checkout",
    status_code=HTTP_303_SEE_OTHER,
)
async def donate_form(
    slug: FromPath[str],
    data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Redirect | Template:
    values = {field: str(data.get(field, "")) for field in FORM_FIELDS}
    donation, problems = donation_from_form(values)
    problems.update(
        {
            k: v
            for k, v in donation_problems(donation, get_settings().max_donation_fen).items()
            if k not in problems
        }
    )
    if problems:
        return await _project_page_with_form(slug, values, problems, 422)
    try:
        started = await services.begin_donation(slug, donation)
    except ValidationErrors as exc:
        return await _project_page_with_form(slug, values, exc.problems, 422)
    except Conflict as exc:
        return await _project_page_with_form(slug, values, {"form": exc.message}, exc.status)
    except GatewayError as exc:
        logger.error("checkout for %s could not start: %s", slug, exc)
        return await _project_page_with_form(
            slug,
            values,
            {"form": N_("The payment service cannot be reached; please try again")},
            503,
        )
    return Redirect(started.checkout_url, status_code=HTTP_303_SEE_OTHER)


@post(
    "/api/v1/projects/{slug:str}/donations",
    tags=["donations"],
    summary="Start a donation: 201 with the checkout URL to send the donor to",
    status_code=HTTP_201_CREATED,
)
async def create_donation_api(
    slug: FromPath[str], request: Request[Any, Any, Any]
) -> DonationStartedOut:
    body = await request.body()
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ValidationErrors({"body": N_("The body must be a JSON object")}) from None
    donation: DonationInput = donation_from_json(payload)
    try:
        started = await services.begin_donation(slug, donation)
    except GatewayError as exc:
        logger.error("checkout for %s could not start: %s", slug, exc)
        raise Unavailable(UNREACHABLE) from exc
    return DonationStartedOut(
        id=started.donation.id,
        status=started.donation.status.value,
        amount=AmountOut.of(started.donation.amount),
        checkout_url=started.checkout_url,
        receipt_url=f"{get_settings().base_url}/donations/{started.donation.id}",
    )


def _sandbox_enabled() -> None:
    if get_settings().payment_gateway != SANDBOX:
        raise NotFoundException()


@get(
    "/sandbox/checkout/{session_id:str}",
    name="sandbox-checkout",
    tags=["sandbox"],
    summary="The sandbox gateway's checkout page: pay, fail or abandon",
)
async def sandbox_checkout(session_id: FromPath[str]) -> Template:
    _sandbox_enabled()
    session = found(await get_session(session_id))
    return Template(
        "payments/sandbox_checkout.html",
        context={
            "session": session,
            "amount": Money(session["amount_fen"], session["currency"]),
            "fee": Money(session["fee_fen"], session["currency"]),
        },
    )


@post(
    "/sandbox/checkout/{session_id:str}",
    tags=["sandbox"],
    summary="The donor's choice on the sandbox checkout; the sandbox then calls the webhook",
    status_code=HTTP_303_SEE_OTHER,
)
async def sandbox_choose(
    session_id: FromPath[str],
    data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Redirect:
    _sandbox_enabled()
    try:
        outcome = SandboxOutcome(data.get("outcome", ""))
    except ValueError:
        raise ValidationErrors({"outcome": N_("Choose one of the buttons")}) from None
    session = found(await finish_session(session_id, outcome))
    gateway = gateway_named(SANDBOX)
    assert isinstance(gateway, SandboxGateway)
    delivered = await gateway.deliver(session_payload(session))
    if not delivered:
        logger.warning("sandbox session %s: webhook not delivered; reconcile", session_id)
    target = session["success_url"] if session["status"] == "paid" else session["cancel_url"]
    return Redirect(target, status_code=HTTP_303_SEE_OTHER)


ROUTES: list[Any] = [donate_form, create_donation_api, sandbox_checkout, sandbox_choose]
