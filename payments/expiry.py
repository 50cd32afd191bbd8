"""Expiring abandoned checkouts: a donation still pending after its provider's checkout lifetime.

A donor who closes the checkout page leaves a `pending` donation behind for good unless the
provider reports the expiry and the report arrives. The `payments.expire_checkouts` job
(payments/jobs.py, every `EXPIRE_EVERY`) takes every donation of the configured gateway still
pending `checkout_lifetime` + `MARGIN` after it started, asks the gateway to close its checkout
(`close_checkout`: expired at the provider if it was somehow still open, so it cannot be paid
later), and applies what the gateway reports through `services.apply_events`, the webhooks' own
path: `expired` as an `expired` event would (nothing posts), and a checkout that was paid after
all, its webhook lost, as a confirmation with its fee. Event ids are the gateway's, so the
provider's own report of the same ending, before or after, changes nothing.

Money received still wins afterwards: a late `succeeded` report confirms an expired donation
and posts it (`rules.next_status`), so a payment the provider took is never dropped.

A donation whose checkout was never created (the provider failed while the donor waited) has
nothing to close: it is expired under an event id of ours, `checkout-never-opened:<id>`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from linju.payments import services
from linju.payments.gateway import GatewayError, PaymentEvent, PaymentEventKind, PaymentGateway
from linju.payments.registry import configured_gateway
from linju.platform.kernel.clock import utc_now
from linju.platform.kernel.errors import DomainError
from linju.projects.donations import services as donations
from linju.projects.donations.services import PendingCheckout

logger = logging.getLogger("linju.payments.expiry")

EXPIRE_EVERY = timedelta(minutes=10)
# Past the provider's own lifetime: time for its expiry and its report to arrive first.
MARGIN = timedelta(minutes=15)
PAGE = 100


@dataclass
class ExpirySummary:
    gateway: str
    checked: int = 0
    expired: int = 0  # ended unpaid: expired (or failed, its report missed)
    confirmed: int = 0  # paid after all: the provider's report had been missed
    unchanged: int = 0  # the provider still waits for the money, or the report was applied
    failed: list[str] = field(default_factory=list)  # the provider could not be asked

    def line(self) -> str:
        return (
            f"expire checkouts of {self.gateway}: {self.checked} checked, {self.expired} expired,"
            f" {self.confirmed} paid after all, {self.unchanged} unchanged,"
            f" {len(self.failed)} not answered"
        )


async def _ending(gateway: PaymentGateway, pending: PendingCheckout) -> list[PaymentEvent]:
    if not pending.provider_ref:
        return [
            PaymentEvent(
                event_id=f"checkout-never-opened:{pending.donation_id}",
                kind=PaymentEventKind.EXPIRED,
                donation_id=pending.donation_id,
                amount=pending.amount,
                occurred_at=utc_now(),
            )
        ]
    events = list(await gateway.close_checkout(pending.provider_ref))
    strays = [e for e in events if e.donation_id != pending.donation_id]
    if strays:
        logger.warning(
            "checkout %s of %s reports donation %s; not applied",
            pending.provider_ref,
            pending.donation_id,
            strays[0].donation_id,
        )
        return []
    return events


async def expire_abandoned_checkouts(gateway: PaymentGateway | None = None) -> ExpirySummary:
    """Close every checkout of `gateway` left pending past its lifetime (module docstring).

    A provider that cannot be asked about one checkout does not stop the others; the run then
    raises GatewayError at the end, so the job is retried for those left.
    """
    gateway = gateway or configured_gateway()
    summary = ExpirySummary(gateway.name)
    before = utc_now() - gateway.checkout_lifetime - MARGIN
    after = 0
    while page := await donations.pending_started_before(gateway.name, before, after, PAGE):
        after = page[-1].seq
        for pending in page:
            summary.checked += 1
            try:
                events = await _ending(gateway, pending)
                applied = await services.apply_events(gateway.name, events)
            except GatewayError as exc:
                summary.failed.append(f"{pending.donation_id}: {exc}")
                logger.warning(
                    "expire %s: the provider was not asked: %s", pending.donation_id, exc
                )
                continue
            except DomainError as exc:  # e.g. the provider reports another amount: for people
                summary.unchanged += 1
                logger.warning("expire %s refused: %s", pending.donation_id, exc)
                continue
            changed = [a for a in applied if a.outcome == "applied"]
            kinds = {e.kind for e in events}
            if not changed:
                summary.unchanged += 1
            elif PaymentEventKind.SUCCEEDED in kinds:
                summary.confirmed += 1
            else:
                summary.expired += 1
    logger.info("%s", summary.line())
    if summary.failed:
        raise GatewayError(
            f"{len(summary.failed)} checkouts could not be closed: {summary.failed[0]}"
        )
    return summary
