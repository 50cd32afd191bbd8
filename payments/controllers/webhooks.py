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

from litestar import Request, Response, post
from litestar.status_codes import HTTP_200_OK

from linju.payments import services
from linju.payments.gateway import GatewayError, InvalidSignature, MalformedCallback
from linju.payments.registry import SANDBOX, STRIPE, gateway_named
from linju.platform.errors import problem_response
from linju.platform.kernel.errors import DomainError

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
)
async def sandbox_webhook(request: Request[Any, Any, Any]) -> Response[Any]:
    return await _receive(SANDBOX, request)


@post(
    "/webhooks/stripe",
    tags=["providers"],
    summary="Stripe's signed events (Stripe-Signature)",
    status_code=HTTP_200_OK,
)
async def stripe_webhook(request: Request[Any, Any, Any]) -> Response[Any]:
    return await _receive(STRIPE, request)


ROUTES: list[Any] = [sandbox_webhook, stripe_webhook]
