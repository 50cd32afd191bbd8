"""The one gateway protocol every payment provider implements.

The domain never imports a gateway: `payments.services` turns what a gateway reports into
calls to the domain's donation and ledger services, and the gateway is chosen by settings
(`LINJU_PAYMENT_GATEWAY`). Adding a provider means one new module implementing this protocol.

Every write a gateway makes to a provider carries an idempotency key, and every callback is
verified before it is believed: a gateway's `parse_webhook` raises `InvalidSignature` for
anything it cannot verify, and returns the events the callback reports. A gateway gives each
PaymentEvent an `event_id` unique across its events (a provider event that reports a payment
and its fee becomes two PaymentEvents with two ids), so each is applied exactly once.

A checkout lives at the provider for the gateway's `checkout_lifetime`; a donation still pending
after that (and a margin) is an abandoned checkout, which the `payments.expire_checkouts` job
closes through `close_checkout` (payments/expiry.py).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from linju.platform.kernel.errors import N_, Unavailable
from linju.platform.kernel.inputs import InputRefused, read_json, unix_moment, unreadable
from linju.platform.kernel.money import MAX_FEN, Money


class InvalidSignature(Exception):
    """A callback's signature is missing, wrong or stale: nothing in it may be believed."""


class MalformedCallback(Exception):
    """A verified callback whose content cannot be understood."""


def callback_json(body: bytes) -> Any:
    """A verified callback's body as JSON, by the edge's one JSON rule (strict UTF-8, bounded
    depth, 64-bit integers, readable strings); MalformedCallback otherwise."""
    try:
        return read_json(body)
    except InputRefused as exc:
        raise MalformedCallback(f"the body is not acceptable JSON: {exc}") from None


def callback_moment(value: Any) -> datetime:
    """When a provider says an event happened (whole Unix seconds, 2000 to 2100)."""
    try:
        return unix_moment(value)
    except InputRefused as exc:
        raise MalformedCallback(f"not a time: {exc}") from None


MAX_REF_LENGTH = 255  # an id from a provider, as stored (event, donation, session, refund)


class GatewayError(Exception):
    """The provider refused a request or could not be reached."""


# What people and API clients are told when a GatewayError stops their request (503).
UNREACHABLE = N_("The payment service cannot be reached; please try again")


@contextmanager
def provider_reachable(what: str) -> Iterator[None]:
    """Around a call that asks the provider for something a person waits for (a checkout, a
    refund): a GatewayError is logged with `what` and becomes a 503 in the person's language."""
    try:
        yield
    except GatewayError as exc:
        logging.getLogger("linju.payments").error("%s: %s", what, exc)
        raise Unavailable(UNREACHABLE) from exc


class PaymentEventKind(StrEnum):
    SUCCEEDED = "succeeded"  # the money was received
    FAILED = "failed"  # the payment was attempted and failed
    EXPIRED = "expired"  # the checkout was abandoned or timed out
    REFUNDED = "refunded"  # (part of) the money went back to the donor
    FEE = "fee"  # the processor's fee for a succeeded payment became known


@dataclass(frozen=True, slots=True)
class CheckoutRequest:
    donation_id: str
    project_slug: str
    project_title: str
    amount: Money
    success_url: str
    cancel_url: str
    idempotency_key: str
    customer_email: str | None = None


@dataclass(frozen=True, slots=True)
class Checkout:
    """Where to send the donor, and the provider's reference for the checkout."""

    provider_ref: str
    checkout_url: str


@dataclass(frozen=True, slots=True)
class PaymentEvent:
    """Something a provider reports about one donation.

    `event_id` is unique per provider event (for exactly-once handling); `amount` is what
    moved (the paid amount, the refunded amount, or the fee).
    """

    event_id: str
    kind: PaymentEventKind
    donation_id: str
    amount: Money
    occurred_at: datetime
    provider_ref: str = ""
    refund_ref: str = ""

    def __post_init__(self) -> None:
        """Whatever a gateway read from a provider is refused here, before it is applied,
        unless it can be stored: ids of readable text and bounded length, an amount of at
        most MAX_FEN and not negative."""
        for ref in (self.event_id, self.donation_id, self.provider_ref, self.refund_ref):
            if not isinstance(ref, str) or len(ref) > MAX_REF_LENGTH or unreadable(ref):
                raise MalformedCallback(f"not an id: {ref!r:.80}")
        if not 0 <= self.amount.amount <= MAX_FEN:
            raise MalformedCallback(f"not an amount: {self.amount.amount!r:.80}")


@dataclass(frozen=True, slots=True)
class RefundRequest:
    donation_id: str
    provider_ref: str
    amount: Money
    reason: str
    idempotency_key: str


@dataclass(frozen=True, slots=True)
class RefundResult:
    refund_ref: str
    confirmed: bool  # True when the provider says the refund already succeeded


@runtime_checkable
class PaymentGateway(Protocol):
    name: str
    # Where the donor's browser is sent to pay (the site's CSP form-action must allow it).
    checkout_origins: tuple[str, ...]
    checkout_lifetime: timedelta  # how long a checkout can be paid at the provider

    async def start_checkout(self, request: CheckoutRequest) -> Checkout:
        """Create a checkout for a pending donation; the donor is sent to `checkout_url`."""
        ...

    async def parse_webhook(
        self, body: bytes, headers: Mapping[str, str]
    ) -> Sequence[PaymentEvent]:
        """Verify a callback (InvalidSignature otherwise) and return what it reports.

        Async because a report may need a question back to the provider before it is complete
        (Stripe's fee is on the charge's balance transaction, not in the event).
        """
        ...

    async def refund(self, request: RefundRequest) -> RefundResult:
        """Refund (part of) a succeeded donation through the provider."""
        ...

    async def events_since(self, since: datetime) -> Sequence[PaymentEvent]:
        """What the provider knows happened since `since`, for reconciliation."""
        ...

    async def close_checkout(self, provider_ref: str) -> Sequence[PaymentEvent]:
        """A checkout past its lifetime: make sure it can no longer be paid (expire it at the
        provider if it is still open) and report how it ended, as its events would: `expired`,
        or what it ended in otherwise (paid with its fee, failed); nothing while the provider
        still waits for the money (an asynchronous payment in flight)."""
        ...
