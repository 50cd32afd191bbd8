"""The Stripe gateway: Checkout Sessions (card, Alipay, WeChat Pay) in CNY, signed webhooks.

One `stripe.StripeClient` per gateway instance (never the global `stripe.api_key`), on HTTPX,
async methods only, `STRIPE_API_BASE` honoured (a proxy, or the tests' fake Stripe). Every write
carries an idempotency key. A webhook is verified with the shared signature code (Stripe's
scheme, 300 s tolerance) before anything in it is believed, then read by `_events_from`, which
`events_since` uses too, so reconciliation applies exactly what a webhook would have.

The fee is not in Stripe's events: it is read from the charge's balance transaction, asked for
when a payment is reported (a failure to ask is a GatewayError, so the webhook answers 503
and Stripe redelivers).

A Checkout Session lives 24 hours, Stripe's default (`CHECKOUT_LIFETIME`): no `expires_at` is
sent, because Stripe refuses one more than 24 hours after its own clock's now, so a clock here
a little ahead would refuse every checkout. `close_checkout` asks Stripe for the session before
a pending donation is expired, expires it there if it is somehow still open, and reports a
session that was paid after all as paid.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

import stripe

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
from linju.payments.registry import STRIPE
from linju.platform.kernel.clock import utc_now
from linju.platform.kernel.money import Money

logger = logging.getLogger("linju.payments.stripe")

SIGNATURE_HEADER = "Stripe-Signature"
CHECKOUT_LIFETIME = timedelta(hours=24)  # Stripe's default for a Checkout Session's expires_at
PAYMENT_METHOD_TYPES = ["card", "alipay", "wechat_pay"]
PAID_STATUSES = frozenset({"paid", "no_payment_required"})
HANDLED_TYPES = [
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "checkout.session.expired",
    "charge.refunded",
    "charge.refund.updated",
    "refund.created",
    "refund.updated",
]
REFUND_OBJECT_TYPES = frozenset({"charge.refund.updated", "refund.created", "refund.updated"})


def _plain(obj: Any) -> dict[str, Any]:
    """A Stripe object as a plain dict, as a webhook's JSON would give it."""
    if isinstance(obj, stripe.StripeObject):
        return obj.to_dict()
    if isinstance(obj, dict):
        return obj
    raise GatewayError(f"unexpected answer from Stripe: {type(obj).__name__}")


def _ident(value: Any) -> str | None:
    """An expandable field: an id, an object with an id, or nothing."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and isinstance(value.get("id"), str):
        return str(value["id"])
    return None


class StripeGateway:
    """The PaymentGateway for Stripe (see the module docstring)."""

    name = STRIPE
    checkout_lifetime = CHECKOUT_LIFETIME
    checkout_origins: tuple[str, ...] = ("https://checkout.stripe.com",)

    def __init__(
        self,
        api_key: str,
        webhook_secret: str,
        api_base: str | None = None,
        tolerance: int = signatures.DEFAULT_TOLERANCE_SECONDS,
    ) -> None:
        options: dict[str, Any] = {"http_client": stripe.HTTPXClient(), "max_network_retries": 2}
        if api_base:
            options["base_addresses"] = {"api": api_base}
        self.client = stripe.StripeClient(api_key, **options)
        self.webhook_secret = webhook_secret
        self.tolerance = tolerance

    # --- writes -------------------------------------------------------------------------

    async def start_checkout(self, request: CheckoutRequest) -> Checkout:
        params: dict[str, Any] = {
            "mode": "payment",
            "currency": request.amount.currency.lower(),
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": request.amount.currency.lower(),
                        "unit_amount": request.amount.amount,
                        "product_data": {"name": f"捐款：{request.project_title}"[:250]},
                    },
                }
            ],
            "payment_method_types": PAYMENT_METHOD_TYPES,
            "payment_method_options": {"wechat_pay": {"client": "web"}},
            "client_reference_id": request.donation_id,
            "metadata": {"donation_id": request.donation_id, "project": request.project_slug},
            "payment_intent_data": {"metadata": {"donation_id": request.donation_id}},
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
        }
        if request.customer_email:
            params["customer_email"] = request.customer_email
        try:
            session = await self.client.v1.checkout.sessions.create_async(
                params=cast(Any, params), options={"idempotency_key": request.idempotency_key}
            )
        except stripe.StripeError as exc:
            raise GatewayError(f"Stripe refused the checkout: {exc}") from exc
        data = _plain(session)
        if not data.get("id") or not data.get("url"):
            raise GatewayError("Stripe returned a checkout session without an id or url")
        return Checkout(provider_ref=data["id"], checkout_url=data["url"])

    async def refund(self, request: RefundRequest) -> RefundResult:
        try:
            session = _plain(
                await self.client.v1.checkout.sessions.retrieve_async(request.provider_ref)
            )
            payment_intent = _ident(session.get("payment_intent"))
            if payment_intent is None:
                raise GatewayError("this checkout session has no payment to refund")
            refund = _plain(
                await self.client.v1.refunds.create_async(
                    params={
                        "payment_intent": payment_intent,
                        "amount": request.amount.amount,
                        "reason": "requested_by_customer",
                        "metadata": {"donation_id": request.donation_id},
                    },
                    options={"idempotency_key": request.idempotency_key},
                )
            )
        except stripe.StripeError as exc:
            raise GatewayError(f"Stripe refused the refund: {exc}") from exc
        return RefundResult(refund_ref=refund["id"], confirmed=refund.get("status") == "succeeded")

    async def close_checkout(self, provider_ref: str) -> Sequence[PaymentEvent]:
        sessions = self.client.v1.checkout.sessions
        try:
            session = _plain(await sessions.retrieve_async(provider_ref))
            if session.get("status") == "open":
                try:
                    session = _plain(
                        await sessions.expire_async(
                            provider_ref, options={"idempotency_key": f"expire:{provider_ref}"}
                        )
                    )
                except stripe.InvalidRequestError:
                    # It stopped being open meanwhile (paid, or expired by Stripe): read what
                    # it became.
                    session = _plain(await sessions.retrieve_async(provider_ref))
        except stripe.StripeError as exc:
            raise GatewayError(f"Stripe could not close the checkout: {exc}") from exc
        status = session.get("status")
        if status == "expired":
            event_type = "checkout.session.expired"
        elif status == "complete":  # paid (or an asynchronous payment still under way)
            event_type = "checkout.session.completed"
        else:
            return []
        # The ids are ours (Stripe's own events about the session have others): whichever is
        # applied first decides, the other changes nothing.
        return await self._session_events(
            f"{provider_ref}:{status}", event_type, session, utc_now()
        )

    # --- reading what happened ------------------------------------------------------------

    async def parse_webhook(
        self, body: bytes, headers: Mapping[str, str]
    ) -> Sequence[PaymentEvent]:
        signatures.verify(
            body, headers.get(SIGNATURE_HEADER.lower()), self.webhook_secret, self.tolerance
        )
        return await self._events_from(callback_json(body))

    async def events_since(self, since: datetime) -> Sequence[PaymentEvent]:
        found: list[dict[str, Any]] = []
        params: dict[str, Any] = {
            "created": {"gte": int(since.timestamp())},
            "types": HANDLED_TYPES,
            "limit": 100,
        }
        try:
            while True:
                page = _plain(await self.client.v1.events.list_async(params=cast(Any, params)))
                batch = page.get("data") or []
                found.extend(batch)
                if not page.get("has_more") or not batch:
                    break
                params["starting_after"] = batch[-1]["id"]
        except stripe.StripeError as exc:
            raise GatewayError(f"Stripe could not list events: {exc}") from exc
        found.sort(key=lambda e: (e.get("created", 0), e.get("id", "")))  # oldest first
        events: list[PaymentEvent] = []
        for event in found:
            try:
                events.extend(await self._events_from(event))
            except MalformedCallback as exc:
                logger.warning("skipping Stripe event %s: %s", event.get("id"), exc)
        return events

    async def _events_from(self, event: Any) -> list[PaymentEvent]:
        try:
            event_id = event["id"]
            event_type = event["type"]
            obj = event["data"]["object"]
            occurred = callback_moment(event["created"])
        except (KeyError, TypeError, ValueError) as exc:
            raise MalformedCallback(f"not a Stripe event: {exc}") from exc
        if not isinstance(event_id, str) or not isinstance(obj, dict):
            raise MalformedCallback("not a Stripe event")
        if event_type.startswith("checkout.session."):
            return await self._session_events(event_id, event_type, obj, occurred)
        if event_type == "charge.refunded":
            return await self._charge_refund_events(event_id, obj, occurred)
        if event_type in REFUND_OBJECT_TYPES:
            return await self._refund_events(event_id, [obj], occurred, None)
        return []  # not an event this platform acts on: acknowledged and ignored

    async def _session_events(
        self, event_id: str, event_type: str, session: dict[str, Any], occurred: datetime
    ) -> list[PaymentEvent]:
        metadata = session.get("metadata") or {}
        donation_id = session.get("client_reference_id") or metadata.get("donation_id")
        if not isinstance(donation_id, str) or not donation_id:
            raise MalformedCallback("a checkout session without a donation id")
        session_id = str(session.get("id", ""))
        if event_type in ("checkout.session.expired", "checkout.session.async_payment_failed"):
            # No money moved: the amount is informative only, and may be absent.
            total, currency = session.get("amount_total"), session.get("currency") or "cny"
            amount = self._money(total if isinstance(total, int) else 0, currency)
        else:
            amount = self._money(session.get("amount_total"), session.get("currency"))
        if event_type == "checkout.session.expired":
            return [
                PaymentEvent(
                    event_id, PaymentEventKind.EXPIRED, donation_id, amount, occurred, session_id
                )
            ]
        if event_type == "checkout.session.async_payment_failed":
            return [
                PaymentEvent(
                    event_id, PaymentEventKind.FAILED, donation_id, amount, occurred, session_id
                )
            ]
        paid = event_type == "checkout.session.async_payment_succeeded" or (
            event_type == "checkout.session.completed"
            and session.get("payment_status") in PAID_STATUSES
        )
        if (
            event_type
            not in (
                "checkout.session.completed",
                "checkout.session.async_payment_succeeded",
            )
            or not paid
        ):
            return []  # completed but unpaid (an async method still running): stays pending
        events = [
            PaymentEvent(
                event_id, PaymentEventKind.SUCCEEDED, donation_id, amount, occurred, session_id
            )
        ]
        fee = await self._fee(_ident(session.get("payment_intent")), amount.currency)
        if fee is not None and fee.amount > 0:
            events.append(
                PaymentEvent(
                    f"{event_id}:fee", PaymentEventKind.FEE, donation_id, fee, occurred, session_id
                )
            )
        return events

    async def _charge_refund_events(
        self, event_id: str, charge: dict[str, Any], occurred: datetime
    ) -> list[PaymentEvent]:
        refunds = (charge.get("refunds") or {}).get("data")
        if refunds is None:  # recent API versions leave the list out of the charge
            try:
                listed = _plain(
                    await self.client.v1.refunds.list_async(
                        params={"charge": charge["id"], "limit": 100}
                    )
                )
            except stripe.StripeError as exc:
                raise GatewayError(f"Stripe could not list refunds: {exc}") from exc
            refunds = listed.get("data") or []
        donation_id = await self._donation_of(charge)
        return await self._refund_events(event_id, refunds, occurred, donation_id)

    async def _refund_events(
        self,
        event_id: str,
        refunds: Sequence[Any],
        occurred: datetime,
        donation_id: str | None,
    ) -> list[PaymentEvent]:
        events = []
        for refund in refunds:
            if not isinstance(refund, dict) or refund.get("status") != "succeeded":
                continue  # pending, failed or cancelled refunds move no money
            owner = donation_id or await self._donation_of(refund)
            events.append(
                PaymentEvent(
                    event_id=f"{event_id}:{refund['id']}",
                    kind=PaymentEventKind.REFUNDED,
                    donation_id=owner,
                    amount=self._money(refund.get("amount"), refund.get("currency")),
                    occurred_at=occurred,
                    provider_ref=_ident(refund.get("payment_intent")) or "",
                    refund_ref=str(refund["id"]),
                )
            )
        return events

    async def _donation_of(self, obj: dict[str, Any]) -> str:
        """The donation a charge or refund belongs to: its metadata, else its PaymentIntent's."""
        donation_id = (obj.get("metadata") or {}).get("donation_id")
        if isinstance(donation_id, str) and donation_id:
            return donation_id
        intent_id = _ident(obj.get("payment_intent"))
        if intent_id:
            try:
                intent = _plain(await self.client.v1.payment_intents.retrieve_async(intent_id))
            except stripe.StripeError as exc:
                raise GatewayError(f"Stripe could not give the payment: {exc}") from exc
            donation_id = (intent.get("metadata") or {}).get("donation_id")
            if isinstance(donation_id, str) and donation_id:
                return donation_id
        raise MalformedCallback("a Stripe object that names no donation")

    async def _fee(self, payment_intent: str | None, currency: str) -> Money | None:
        """The processor's fee from the charge's balance transaction; None when not known yet."""
        if payment_intent is None:
            return None
        try:
            intent = _plain(await self.client.v1.payment_intents.retrieve_async(payment_intent))
            charge_id = _ident(intent.get("latest_charge"))
            if charge_id is None:
                return None
            charge = _plain(await self.client.v1.charges.retrieve_async(charge_id))
            txn_id = _ident(charge.get("balance_transaction"))
            if txn_id is None:
                return None
            txn = _plain(await self.client.v1.balance_transactions.retrieve_async(txn_id))
        except stripe.StripeError as exc:
            raise GatewayError(f"Stripe could not give the fee: {exc}") from exc
        fee_currency = str(txn.get("currency", "")).upper()
        if fee_currency != currency:
            logger.warning("fee in %s for a %s payment is not posted", fee_currency, currency)
            return None
        return self._money(txn.get("fee"), fee_currency)

    @staticmethod
    def _money(amount: Any, currency: Any) -> Money:
        if isinstance(amount, bool) or not isinstance(amount, int) or not isinstance(currency, str):
            raise MalformedCallback("an amount without a whole number or a currency")
        try:
            return Money(amount, currency.upper())
        except ValueError as exc:
            raise MalformedCallback(str(exc)) from exc
