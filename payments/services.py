"""The payment adapter's use cases: the only place where gateways and the domain meet.

`begin_donation` creates the pending donation and its checkout; `apply_events` turns what a
gateway reports (from a webhook or from reconciliation, the same code path) into the domain's
calls; `refund_donation` records a refund and queues the job that asks the provider for it
(`send_refund`, the `payments.refund` job), so no request waits on the provider. Each reported
event is applied in ONE write transaction with its record in ProcessedEvent (inserted first, so a
concurrent delivery of the same event waits on the unique key and then finds it processed),
and the domain locks the donation's row before changing it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from piccolo.querystring import QueryString

from linju.payments import sandbox
from linju.payments.gateway import (
    CheckoutRequest,
    GatewayError,
    PaymentEvent,
    PaymentEventKind,
    PaymentGateway,
    RefundRequest,
)
from linju.payments.registry import SANDBOX, configured_gateway, gateway_named
from linju.payments.tables import ProcessedEvent, SandboxSession
from linju.platform.db import get_engine, write_transaction
from linju.platform.jobs import queue
from linju.platform.kernel.clock import utc_now
from linju.platform.settings import get_settings
from linju.projects.donations import services as donations
from linju.projects.donations.rules import (
    DonationInput,
    ProviderOutcome,
    RefundStatus,
    receipt_path,
)
from linju.projects.donations.services import DonationView

logger = logging.getLogger("linju.payments")

# The job that sends a requested refund to its provider (registered in payments/jobs.py).
REFUND_JOB = "payments.refund"
# The reason recorded (and shown to the project's stewards) on a payment given back because it
# arrived after its project stopped taking money.
UNWANTED_REFUND_REASON = "项目已不再接受捐款，到账后自动退款"

OUTCOMES = {
    PaymentEventKind.SUCCEEDED: ProviderOutcome.SUCCEEDED,
    PaymentEventKind.FAILED: ProviderOutcome.FAILED,
    PaymentEventKind.EXPIRED: ProviderOutcome.EXPIRED,
}


@dataclass(frozen=True, slots=True)
class Started:
    donation: DonationView
    checkout_url: str


async def begin_donation(
    project_slug: str, data: DonationInput, gateway: PaymentGateway | None = None
) -> Started:
    """A pending donation and the provider's checkout the donor is sent to."""
    settings = get_settings()
    gateway = gateway or configured_gateway(settings)
    donation = await donations.create_donation(
        project_slug, data, gateway.name, settings.max_donation_fen
    )
    receipt = settings.base_url + receipt_path(donation.receipt_token)  # the donor's secret
    checkout = await gateway.start_checkout(
        CheckoutRequest(
            donation_id=donation.id,
            project_slug=donation.project_slug,
            project_title=donation.project_title,
            amount=donation.amount,
            success_url=receipt,
            cancel_url=receipt,
            idempotency_key=f"checkout:{donation.id}",
            customer_email=data.email or None,
        )
    )
    await donations.record_checkout(donation.id, checkout.provider_ref, checkout.checkout_url)
    return Started(donation, checkout.checkout_url)


async def paid_in_sandbox(project_slug: str, data: DonationInput) -> str:
    """A donation paid through the sandbox's own checkout, as a donor pressing 支付成功 pays it
    (the demo's gifts, `projects.demo.register_demo_payment`): a real sandbox session, its
    event applied through the webhooks' code path; so the gift can be refunded like any other.
    Returns the donation's id."""
    gateway = gateway_named(SANDBOX)
    started = await begin_donation(project_slug, data, gateway)
    session = (
        await SandboxSession.select(SandboxSession.public_id)
        .where(SandboxSession.donation_id == started.donation.id)
        .first()
    )
    assert session is not None, started.donation.id
    finished = await sandbox.finish_session(session["public_id"], sandbox.SandboxOutcome.SUCCEED)
    assert finished is not None
    await apply_events(SANDBOX, sandbox.events_from_payload(sandbox.session_payload(finished)))
    return started.donation.id


@dataclass(frozen=True, slots=True)
class Applied:
    event_id: str
    donation_id: str
    outcome: str  # "applied", "no-op" or "duplicate"


async def _first_deliveries(gateway_name: str, events: Sequence[PaymentEvent]) -> set[str]:
    """Record the events as processed; the ids of those that were not yet (one statement).

    On PostgreSQL a concurrent transaction inserting the same event id makes this one wait on
    the unique index until it commits (then: a duplicate) or rolls back (then: ours), so
    concurrent deliveries of one event are applied once, and a crash rolls the record back
    with everything else.
    """
    row = "({}, {}, {}, {}, {}, {})"
    values: list[object] = []
    for event in events:
        values += [gateway_name, event.event_id, event.kind.value, event.donation_id, "applied"]
        values.append(utc_now())
    rows = await get_engine().run_querystring(
        QueryString(
            "INSERT INTO payment_processed_event "
            "(gateway, event_id, kind, donation_id, outcome, processed_at) "
            f"VALUES {', '.join([row] * len(events))} "
            "ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
            *values,
        )
    )
    return {r["event_id"] for r in rows}


def _units(
    events: Sequence[PaymentEvent], fresh: set[str]
) -> list[tuple[PaymentEvent, PaymentEvent | None]]:
    """The events in order, a payment's confirmation paired with the fee event that follows it
    for the same donation when both are new: the two are applied as one, under one lock of the
    ledger's head for both entries."""
    units: list[tuple[PaymentEvent, PaymentEvent | None]] = []
    index = 0
    while index < len(events):
        event = events[index]
        following = events[index + 1] if index + 1 < len(events) else None
        if (
            following is not None
            and event.kind is PaymentEventKind.SUCCEEDED
            and following.kind is PaymentEventKind.FEE
            and following.donation_id == event.donation_id
            and {event.event_id, following.event_id} <= fresh
        ):
            units.append((event, following))
            index += 2
        else:
            units.append((event, None))
            index += 1
    return units


async def _apply(gateway_name: str, event: PaymentEvent, fee: PaymentEvent | None) -> bool:
    """Apply one fresh event (with the fee that came with it); whether it changed anything."""
    if event.kind in OUTCOMES:
        paid = event.amount if event.kind is PaymentEventKind.SUCCEEDED else None
        result = await donations.apply_outcome(
            event.donation_id,
            OUTCOMES[event.kind],
            paid,
            gateway_name,
            fee.amount if fee is not None else None,
        )
    elif event.kind is PaymentEventKind.FEE:
        result = await donations.record_fee(event.donation_id, event.amount, gateway_name)
    else:
        result = await donations.record_refund(
            event.donation_id, event.refund_ref or event.event_id, event.amount, gateway_name
        )
    if result.unwanted:
        # Paid after the project stopped taking money (a checkout started before it was
        # cancelled, completed or closed): the money is on the ledger, and goes back through
        # its gateway by the refund job, asked for in this same transaction.
        await refund_remaining(event.donation_id, UNWANTED_REFUND_REASON, "platform")
    return result.changed


async def apply_event(gateway_name: str, event: PaymentEvent) -> Applied:
    """Apply one reported event exactly once (see the module docstring)."""
    return (await apply_events(gateway_name, (event,)))[0]


async def apply_events(gateway_name: str, events: Sequence[PaymentEvent]) -> list[Applied]:
    """Apply what one callback reports, in one transaction: all of it, or none of it."""
    if not events:
        return []
    results: list[Applied] = []
    async with write_transaction():
        fresh = await _first_deliveries(gateway_name, events)
        no_ops = []
        for event, fee in _units(events, fresh):
            together = [event] if fee is None else [event, fee]
            if event.event_id not in fresh:
                results.append(Applied(event.event_id, event.donation_id, "duplicate"))
                continue
            fresh.difference_update(e.event_id for e in together)  # once, even if repeated here
            outcome = "applied" if await _apply(gateway_name, event, fee) else "no-op"
            results += [Applied(e.event_id, e.donation_id, outcome) for e in together]
            if outcome == "no-op":
                no_ops += [e.event_id for e in together]
        if no_ops:
            await ProcessedEvent.update({ProcessedEvent.outcome: "no-op"}).where(
                ProcessedEvent.event_id.is_in(no_ops)
            )
    logger.info(  # one line per report: the hot path logs once
        "payment events: %s",
        "; ".join(
            f"{event.event_id} ({event.kind.value}) for {event.donation_id}: {applied.outcome}"
            for event, applied in zip(events, results, strict=True)
        ),
    )
    return results


async def refund_donation(
    donation_id: str,
    amount_fen: int,
    reason: str,
    actor: str,
    audit: Callable[[donations.RefundPlan], Awaitable[None]] | None = None,
) -> str:
    """Ask for a refund of (part of) a confirmed donation; returns the refund's id at once.

    The refund is recorded as `requested` (checked against the donation and the fund), with
    its audit record and the `payments.refund` job that sends it, in ONE transaction: all three
    or none. Nothing here talks to the provider; the job does (`send_refund`).
    """
    async with write_transaction():
        plan = await donations.request_refund(donation_id, amount_fen, reason, actor)
        if audit is not None:
            await audit(plan)
        await queue.enqueue(REFUND_JOB, {"refund": plan.refund_id})
    return plan.refund_id


async def refund_remaining(donation_id: str, reason: str, actor: str) -> str | None:
    """Ask for the rest of what a donation gave the fund (the donation less its processor's
    fee, less refunds posted or open), with its `payments.refund` job, in ONE transaction;
    the refund's id, or None when nothing is left to ask. Asked again, it asks nothing twice
    (`donations.request_full_refund` computes the rest under the donation's lock)."""
    async with write_transaction():
        plan = await donations.request_full_refund(donation_id, reason, actor)
        if plan is None:
            return None
        await queue.enqueue(
            REFUND_JOB, {"refund": plan.refund_id}, dedupe_key=f"refund:{plan.refund_id}"
        )
    return plan.refund_id


@dataclass(frozen=True, slots=True)
class Sent:
    refund_id: str
    outcome: str  # "sent", "confirmed", "already <status>" or "unknown"
    refund_ref: str = ""


async def send_refund(refund_id: str, *, final: bool = False) -> Sent:
    """Ask the provider for a requested refund (the `payments.refund` job's work).

    A refund no longer `requested` (sent, confirmed, failed) is left alone, so running the job
    again does nothing. The request carries the idempotency key `refund:<refund id>`: after a
    crash between the provider's answer and our commit, the retry gets the same refund back
    instead of a second one. The provider's name for the refund and, when it confirmed at once,
    the confirmation (the ledger's `refund` entry) are committed together; a later confirmation
    comes by webhook or reconciliation, applied once either way.

    A provider that refuses or cannot be reached raises GatewayError, so the job is retried;
    on its `final` attempt the refund is marked failed first, which frees its amount.
    """
    state = await donations.refund_state(refund_id)
    if state is None:
        logger.warning("refund %s: no such refund; nothing sent", refund_id)
        return Sent(refund_id, "unknown")
    if state.status is not RefundStatus.REQUESTED:
        return Sent(refund_id, f"already {state.status.value}")
    plan = state.plan
    try:
        gateway = gateway_named(state.gateway)
        result = await gateway.refund(
            RefundRequest(
                donation_id=plan.donation_id,
                provider_ref=plan.provider_ref,
                amount=plan.amount,
                reason=plan.reason,
                idempotency_key=f"refund:{plan.refund_id}",
            )
        )
    except GatewayError as exc:
        if final:
            await donations.refund_failed(refund_id)
            logger.error("refund %s failed for good: %s", refund_id, exc)
        raise
    async with write_transaction():
        await donations.attach_refund_ref(refund_id, result.refund_ref)
        if result.confirmed:
            await apply_event(
                gateway.name,
                PaymentEvent(
                    event_id=f"refund-confirmed:{result.refund_ref}",
                    kind=PaymentEventKind.REFUNDED,
                    donation_id=plan.donation_id,
                    amount=plan.amount,
                    occurred_at=utc_now(),
                    provider_ref=plan.provider_ref,
                    refund_ref=result.refund_ref,
                ),
            )
    return Sent(refund_id, "confirmed" if result.confirmed else "sent", result.refund_ref)
