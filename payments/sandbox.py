"""The sandbox gateway: a provider that lives inside the platform, for trying and testing.

It behaves as a real provider does, so it exercises every path Stripe does: its checkout page
(`/sandbox/checkout/{id}`) lets the donor succeed, fail or abandon; the outcome is sent to the
platform as a signed webhook over real HTTP (`{LINJU_BASE_URL}/webhooks/sandbox`, Stripe's
signature scheme keyed by LINJU_SANDBOX_WEBHOOK_SECRET), retried a bounded number of times;
a succeeded payment reports a fee; refunds are confirmed at once. Its records (sessions,
refunds) are in the payment adapter's tables, standing in for the provider's own, and
`events_since` reads them back for reconciliation through the same parser the webhook uses.

A sandbox checkout lives one hour (`CHECKOUT_LIFETIME`, as a short-lived provider session): a
button pressed later finds it expired (`abandoned`, reported as `checkout.expired`), and the
`payments.expire_checkouts` job closes the ones nobody came back to (`close_checkout`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import httpx

from linju.payments import signatures
from linju.payments.gateway import (
    Checkout,
    CheckoutRequest,
    GatewayError,
    MalformedCallback,
    PaymentEvent,
    PaymentEventKind,
    RefundRequest,
    RefundResult,
    callback_json,
    callback_moment,
)
from linju.payments.registry import SANDBOX
from linju.payments.tables import SandboxRefund, SandboxSession
from linju.platform.db import is_postgres, write_transaction
from linju.platform.kernel.clock import utc_now
from linju.platform.kernel.money import Money

logger = logging.getLogger("linju.payments.sandbox")

SIGNATURE_HEADER = "Sandbox-Signature"
FEE_PER_MILLE = 6  # 0.6 %, a typical rate for Alipay and WeChat Pay
DELIVERY_ATTEMPTS = 4
DELIVERY_BACKOFF_SECONDS = (0.2, 0.5, 1.0)
DELIVERY_TIMEOUT_SECONDS = 10.0
CHECKOUT_LIFETIME = timedelta(hours=1)  # after this the session can no longer be paid


class SandboxOutcome(StrEnum):
    SUCCEED = "succeed"
    FAIL = "fail"
    ABANDON = "abandon"


SESSION_STATUS = {
    SandboxOutcome.SUCCEED: "paid",
    SandboxOutcome.FAIL: "failed",
    SandboxOutcome.ABANDON: "abandoned",
}
EVENT_TYPES = {
    "paid": "checkout.completed",
    "failed": "checkout.failed",
    "abandoned": "checkout.expired",
}
KIND_BY_TYPE = {
    "checkout.completed": PaymentEventKind.SUCCEEDED,
    "checkout.failed": PaymentEventKind.FAILED,
    "checkout.expired": PaymentEventKind.EXPIRED,
}


def sandbox_fee(amount_fen: int) -> int:
    """0.6 % rounded half up to whole fen, in integers."""
    return (amount_fen * FEE_PER_MILLE * 2 + 1000) // 2000


def _unix(moment: datetime) -> int:
    return int(moment.timestamp())


def _money(value: Any) -> Money:
    if not isinstance(value, dict):
        raise MalformedCallback("an amount must be an object")
    try:
        return Money(value["amount"], value["currency"])
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedCallback(f"bad amount: {exc}") from exc


def session_payload(session: Mapping[str, Any]) -> dict[str, Any]:
    """The event the sandbox sends for a finished checkout session."""
    completed = session["completed_at"] or utc_now()
    fee = session["fee_fen"] if session["status"] == "paid" else 0
    return {
        "id": f"sbxevt_{session['public_id']}",
        "type": EVENT_TYPES[session["status"]],
        "created": _unix(completed),
        "data": {
            "session": session["public_id"],
            "donation_id": session["donation_id"],
            "amount": {"amount": session["amount_fen"], "currency": session["currency"]},
            "fee": {"amount": fee, "currency": session["currency"]} if fee else None,
        },
    }


def refund_payload(refund: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": f"sbxevt_{refund['public_id']}",
        "type": "refund.succeeded",
        "created": _unix(refund["created_at"]),
        "data": {
            "session": refund["session_id"],
            "donation_id": refund["donation_id"],
            "refund": refund["public_id"],
            "amount": {"amount": refund["amount_fen"], "currency": refund["currency"]},
        },
    }


def events_from_payload(payload: Any) -> list[PaymentEvent]:
    """What one sandbox event reports, as PaymentEvents (a payment and its fee are two)."""
    try:
        event_id = payload["id"]
        event_type = payload["type"]
        data = payload["data"]
        donation_id = data["donation_id"]
        session = data["session"]
        occurred = callback_moment(payload["created"])
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedCallback(f"not a sandbox event: {exc}") from exc
    if not all(isinstance(v, str) and v for v in (event_id, event_type, donation_id, session)):
        raise MalformedCallback("event ids must be non-empty strings")
    amount = _money(data.get("amount"))
    if event_type == "refund.succeeded":
        refund_ref = data.get("refund")
        if not isinstance(refund_ref, str) or not refund_ref:
            raise MalformedCallback("a refund event names its refund")
        return [
            PaymentEvent(
                event_id,
                PaymentEventKind.REFUNDED,
                donation_id,
                amount,
                occurred,
                session,
                refund_ref,
            )
        ]
    kind = KIND_BY_TYPE.get(event_type)
    if kind is None:
        return []  # an event type this platform does not act on: acknowledged, ignored
    events = [PaymentEvent(event_id, kind, donation_id, amount, occurred, session)]
    fee = data.get("fee")
    if kind is PaymentEventKind.SUCCEEDED and fee is not None:
        events.append(
            PaymentEvent(
                f"{event_id}:fee", PaymentEventKind.FEE, donation_id, _money(fee), occurred, session
            )
        )
    return events


_SESSION_COLUMNS = (
    SandboxSession.public_id,
    SandboxSession.donation_id,
    SandboxSession.project_slug,
    SandboxSession.project_title,
    SandboxSession.amount_fen,
    SandboxSession.currency,
    SandboxSession.fee_fen,
    SandboxSession.success_url,
    SandboxSession.cancel_url,
    SandboxSession.status,
    SandboxSession.created_at,
    SandboxSession.completed_at,
)


async def get_session(session_id: str) -> dict[str, Any] | None:
    row: dict[str, Any] | None = (
        await SandboxSession.select(*_SESSION_COLUMNS)
        .where(SandboxSession.public_id == session_id)
        .first()
    )
    return row


async def finish_session(session_id: str, outcome: SandboxOutcome | None) -> dict[str, Any] | None:
    """The donor pressed a button: the session's outcome is fixed once, first press wins.

    A session past its lifetime ends `abandoned` (expired) whatever was pressed, as a provider's
    expired checkout takes no payment; `outcome` None is the sandbox expiring it by itself.
    """
    async with write_transaction():
        query = SandboxSession.select(
            SandboxSession.id, SandboxSession.status, SandboxSession.created_at
        ).where(SandboxSession.public_id == session_id)
        if is_postgres():
            query = query.lock_rows("UPDATE")
        row = await query.first()
        if row is None:
            return None
        if row["status"] == "open":
            now = utc_now()
            if outcome is None or row["created_at"] <= now - CHECKOUT_LIFETIME:
                outcome = SandboxOutcome.ABANDON  # expired
            status = SESSION_STATUS[outcome]
            await SandboxSession.update(
                {SandboxSession.status: status, SandboxSession.completed_at: now}
            ).where(SandboxSession.id == row["id"])
    return await get_session(session_id)


class SandboxGateway:
    """The PaymentGateway of the sandbox (see the module docstring)."""

    name = SANDBOX
    checkout_lifetime = CHECKOUT_LIFETIME
    checkout_origins: tuple[str, ...] = ()  # its checkout page is ours

    def __init__(self, base_url: str, webhook_secret: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.webhook_secret = webhook_secret

    async def start_checkout(self, request: CheckoutRequest) -> Checkout:
        async with write_transaction():
            existing = (
                await SandboxSession.select(SandboxSession.public_id)
                .where(SandboxSession.idempotency_key == request.idempotency_key)
                .first()
            )
            if existing is not None:
                session_id = existing["public_id"]
            else:
                session_id = "sbx_" + secrets.token_urlsafe(16)[:22]
                await SandboxSession.insert(
                    SandboxSession(
                        public_id=session_id,
                        idempotency_key=request.idempotency_key,
                        donation_id=request.donation_id,
                        project_slug=request.project_slug,
                        project_title=request.project_title,
                        amount_fen=request.amount.amount,
                        currency=request.amount.currency,
                        fee_fen=sandbox_fee(request.amount.amount),
                        success_url=request.success_url,
                        cancel_url=request.cancel_url,
                        status="open",
                        created_at=utc_now(),
                    )
                )
        return Checkout(session_id, f"{self.base_url}/sandbox/checkout/{session_id}")

    async def parse_webhook(
        self, body: bytes, headers: Mapping[str, str]
    ) -> Sequence[PaymentEvent]:
        signatures.verify(body, headers.get(SIGNATURE_HEADER.lower()), self.webhook_secret)
        return events_from_payload(callback_json(body))

    async def refund(self, request: RefundRequest) -> RefundResult:
        async with write_transaction():
            existing = (
                await SandboxRefund.select(SandboxRefund.public_id)
                .where(SandboxRefund.idempotency_key == request.idempotency_key)
                .first()
            )
            if existing is not None:
                return RefundResult(existing["public_id"], confirmed=True)
            session = await get_session(request.provider_ref)
            if session is None or session["status"] != "paid":
                raise GatewayError("the sandbox has no paid checkout for this donation")
            earlier = await SandboxRefund.select(SandboxRefund.amount_fen).where(
                SandboxRefund.session_id == request.provider_ref
            )
            if (
                sum(r["amount_fen"] for r in earlier) + request.amount.amount
                > session["amount_fen"]
            ):
                raise GatewayError("the sandbox refuses to refund more than was paid")
            refund_id = "sbxre_" + secrets.token_urlsafe(16)[:22]
            await SandboxRefund.insert(
                SandboxRefund(
                    public_id=refund_id,
                    idempotency_key=request.idempotency_key,
                    session_id=request.provider_ref,
                    donation_id=request.donation_id,
                    amount_fen=request.amount.amount,
                    currency=request.amount.currency,
                    created_at=utc_now(),
                )
            )
        return RefundResult(refund_id, confirmed=True)

    async def events_since(self, since: datetime) -> Sequence[PaymentEvent]:
        sessions = (
            await SandboxSession.select(*_SESSION_COLUMNS)
            .where((SandboxSession.status != "open") & (SandboxSession.completed_at >= since))
            .order_by(SandboxSession.completed_at)
        )
        refunds = (
            await SandboxRefund.select(
                SandboxRefund.public_id,
                SandboxRefund.session_id,
                SandboxRefund.donation_id,
                SandboxRefund.amount_fen,
                SandboxRefund.currency,
                SandboxRefund.created_at,
            )
            .where(SandboxRefund.created_at >= since)
            .order_by(SandboxRefund.created_at)
        )
        events: list[PaymentEvent] = []
        for session in sessions:
            events.extend(events_from_payload(session_payload(session)))
        for refund in refunds:
            events.extend(events_from_payload(refund_payload(refund)))
        return events

    async def close_checkout(self, provider_ref: str) -> Sequence[PaymentEvent]:
        """Expire the session if it is still open; the event of how it ended (the same event,
        by id, as its webhook and `events_since` report)."""
        session = await finish_session(provider_ref, None)
        if session is None:
            raise GatewayError(f"the sandbox has no checkout session {provider_ref}")
        return events_from_payload(session_payload(session))

    async def deliver(self, payload: Mapping[str, Any]) -> bool:
        """Send one event to the platform's webhook as a provider would, retrying failures.

        Returns whether the platform acknowledged it; a missed event is applied later by
        `linju payments reconcile`. A 4xx other than 408/429 is final (retrying cannot help).
        """
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        url = f"{self.base_url}/webhooks/sandbox"
        async with httpx.AsyncClient(timeout=DELIVERY_TIMEOUT_SECONDS) as client:
            for attempt in range(DELIVERY_ATTEMPTS):
                headers = {
                    "Content-Type": "application/json",
                    SIGNATURE_HEADER: signatures.sign(body, self.webhook_secret),
                }
                try:
                    response = await client.post(url, content=body, headers=headers)
                except httpx.HTTPError as exc:
                    logger.warning("sandbox webhook %s failed: %s", payload.get("id"), exc)
                else:
                    if response.is_success:
                        return True
                    logger.warning(
                        "sandbox webhook %s answered %s", payload.get("id"), response.status_code
                    )
                    if response.status_code < 500 and response.status_code not in (408, 429):
                        return False
                if attempt < len(DELIVERY_BACKOFF_SECONDS):
                    await asyncio.sleep(DELIVERY_BACKOFF_SECONDS[attempt])
        return False
