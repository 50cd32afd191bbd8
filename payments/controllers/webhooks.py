"""Providers' webhooks: raw body, verified signature, then the same path reconciliation takes.

Answers: 2xx when every event was applied or had been already; 400 for a bad or stale
signature or a body that cannot be understood; 404 for an event about an unknown donation;
409 when a report contradicts the donation (another amount); 503 when the provider could not
be asked what the event needs (the provider retries). Every refusal is logged; nothing is
posted for it.
"""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from litestar import Request, Response, post
from litestar.status_codes import HTTP_200_OK

from linju.payments import services
from linju.payments.gateway import GatewayError, InvalidSignature, MalformedCallback
from linju.payments.registry import SANDBOX, STRIPE, gateway_named
from linju.payments.sandbox import KIND_BY_TYPE
from linju.platform.errors import problem_response
from linju.platform.kernel.errors import DomainError
from linju.platform.kernel.money import MAX_FEN
from linju.platform.openapi import api

# What the schema says of both webhooks (docs/adr/0018-openapi.md): the body and signature they
# read themselves, and every refusal `_receive` answers.
WEBHOOK_PROBLEMS = {
    400: "A bad or stale signature, or a body that is not an event",
    404: "An event about an unknown donation, or a gateway that is not configured",
    409: "A report that contradicts the donation (another amount, another fee)",
    422: "A report the donation cannot take (a fee of zero, in another currency)",
    503: "The provider could not be asked what the event needs; it sends the event again",
}
EVENT_BODY = {"type": "object", "description": "The provider's event, as it signed it"}
_SANDBOX_AMOUNT = {
    "type": "object",
    "required": ["amount", "currency"],
    "properties": {
        "amount": {"type": "integer", "minimum": 0, "maximum": MAX_FEN},
        "currency": {"type": "string"},
    },
}
SANDBOX_EVENT_BODY = {
    "type": "object",
    "description": "A sandbox event (payments/sandbox.py: session_payload, refund_payload)",
    "required": ["id", "type", "created", "data"],
    "properties": {
        "id": {"type": "string", "minLength": 1},
        "type": {"enum": [*sorted(KIND_BY_TYPE), "refund.succeeded"]},
        "created": {
            "type": "integer",
            "minimum": 946684800,  # 2000-01-01, kernel.inputs.unix_moment
            "maximum": 4133980799,  # 2100-12-31T23:59:59
            "description": "Unix time, between 2000 and 2100",
        },
        "data": {
            "type": "object",
            "required": ["session", "donation_id", "amount"],
            "properties": {
                "session": {"type": "string", "minLength": 1},
                "donation_id": {"type": "string", "minLength": 1},
                "amount": _SANDBOX_AMOUNT,
                "fee": {"oneOf": [_SANDBOX_AMOUNT, {"type": "null"}]},
                "refund": {"type": "string", "description": "A refund event's refund"},
            },
        },
    },
}


class AppliedEventOut(msgspec.Struct):
    id: str
    donation: str
    outcome: str  # applied, no-op or duplicate


class WebhookAnswerOut(msgspec.Struct):
    """Every event of the report, applied now or before."""

    received: bool
    events: list[AppliedEventOut]


logger = logging.getLogger("linju.payments.webhooks")


async def _receive(name: str, request: Request[Any, Any, Any]) -> Response[Any]:
    body = await request.body()
    try:
        gateway = gateway_named(name)
    except GatewayError as exc:
        logger.warning("webhook for %s refused: %s", name, exc)
        return problem_response(request, 404, f"The {name} gateway is not configured")
    try:
        events = await gateway.parse_webhook(body, dict(request.headers))
    except InvalidSignature as exc:
        logger.warning("webhook for %s with a bad signature: %s", name, exc)
        return problem_response(request, 400, "Invalid or stale signature")
    except MalformedCallback as exc:
        logger.warning("malformed webhook for %s: %s", name, exc)
        return problem_response(request, 400, f"Malformed callback: {exc}")
    except GatewayError as exc:
        logger.warning("webhook for %s could not be completed: %s", name, exc)
        return problem_response(request, 503, "The provider could not be reached; retry later")
    try:
        applied = await services.apply_events(name, events)
    except DomainError as exc:
        logger.warning("webhook for %s refused by the domain: %s", name, exc)
        return problem_response(request, exc.status, str(exc))
    return Response(
        {
            "received": True,
            "events": [
                {"id": a.event_id, "donation": a.donation_id, "outcome": a.outcome} for a in applied
            ],
        },
        status_code=HTTP_200_OK,
    )


@post(
    "/webhooks/sandbox",
    tags=["providers"],
    summary="The sandbox gateway's signed events",
    status_code=HTTP_200_OK,
    opt=api(
        problems={k: v for k, v in WEBHOOK_PROBLEMS.items() if k != 503},  # it never asks
        body=SANDBOX_EVENT_BODY,
        headers={"Sandbox-Signature": "t=<unix time>,v1=<HMAC-SHA256 of t.body>"},
    ),
)
async def sandbox_webhook(request: Request[Any, Any, Any]) -> Response[WebhookAnswerOut]:
    return await _receive(SANDBOX, request)


@post(
    "/webhooks/stripe",
    tags=["providers"],
    summary="Stripe's signed events (Stripe-Signature)",
    status_code=HTTP_200_OK,
    opt=api(
        problems=WEBHOOK_PROBLEMS,
        body=EVENT_BODY,
        headers={"Stripe-Signature": "Stripe's signature of the body (t=…,v1=…)"},
    ),
)
async def stripe_webhook(request: Request[Any, Any, Any]) -> Response[WebhookAnswerOut]:
    return await _receive(STRIPE, request)


ROUTES: list[Any] = [sandbox_webhook, stripe_webhook]
