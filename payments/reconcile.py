"""Reconciliation: ask the provider what happened and apply what the webhooks missed.

A provider outage, a crashed worker or a refused delivery leaves events unapplied; this reads
the provider's own list (`events_since`) and applies every event through `services.apply_event`,
the webhooks' own code path, so an event applied before is recognised and nothing posts twice.

The `payments.reconcile` job (payments/jobs.py, every LINJU_RECONCILE_EVERY) runs
`reconcile_since_watermark`: it asks from the start of the last successful run, less
`OVERLAP` (events the provider lists a little late, clocks a little apart), and moves the
watermark only when the provider answered; a provider that cannot be reached raises
GatewayError, and the job is retried with backoff. `linju payments reconcile` asks by hand.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from linju.payments import services
from linju.payments.gateway import PaymentGateway
from linju.payments.registry import configured_gateway
from linju.payments.tables import ReconcileWatermark
from linju.platform.db import write_transaction
from linju.platform.kernel.clock import utc_now
from linju.platform.kernel.errors import DomainError, NotFound

logger = logging.getLogger("linju.payments.reconcile")

DEFAULT_WINDOW = timedelta(days=3)  # the first scheduled run, and `reconcile` without `since`
OVERLAP = timedelta(minutes=15)  # a scheduled run asks again for this much before its watermark


@dataclass
class Summary:
    gateway: str
    since: datetime
    seen: int = 0
    applied: int = 0
    unchanged: int = 0
    unknown: int = 0
    refused: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"reconcile {self.gateway} since {self.since.isoformat()}: {self.seen} events, "
            f"{self.applied} applied, {self.unchanged} already applied, "
            f"{self.unknown} about unknown donations, {len(self.refused)} refused"
        )


async def reconcile(since: datetime | None, gateway: PaymentGateway | None = None) -> Summary:
    gateway = gateway or configured_gateway()
    start = since or utc_now() - DEFAULT_WINDOW
    summary = Summary(gateway=gateway.name, since=start)
    for event in await gateway.events_since(start):
        summary.seen += 1
        try:
            applied = await services.apply_event(gateway.name, event)
        except NotFound:
            summary.unknown += 1
            logger.warning("reconcile: %s names an unknown donation", event.event_id)
            continue
        except DomainError as exc:
            summary.refused.append(f"{event.event_id}: {exc}")
            logger.warning("reconcile: %s refused: %s", event.event_id, exc)
            continue
        if applied.outcome == "applied":
            summary.applied += 1
        else:
            summary.unchanged += 1
    return summary


async def watermark(gateway_name: str) -> datetime | None:
    """The start of the last successful scheduled reconciliation of this gateway, if any."""
    row = (
        await ReconcileWatermark.select(ReconcileWatermark.reconciled_until)
        .where(ReconcileWatermark.gateway == gateway_name)
        .first()
    )
    return row["reconciled_until"] if row else None


async def _advance_watermark(gateway_name: str, until: datetime) -> None:
    """Move the watermark to `until`, never back (runs that overlap may finish in any order)."""
    async with write_transaction():
        now = utc_now()
        await ReconcileWatermark.insert(
            ReconcileWatermark(gateway=gateway_name, reconciled_until=until, updated_at=now)
        ).on_conflict(target=ReconcileWatermark.gateway, action="DO NOTHING")
        await ReconcileWatermark.update(
            {ReconcileWatermark.reconciled_until: until, ReconcileWatermark.updated_at: now}
        ).where(
            (ReconcileWatermark.gateway == gateway_name)
            & (ReconcileWatermark.reconciled_until < until)
        )


async def reconcile_since_watermark(gateway: PaymentGateway | None = None) -> Summary:
    """Reconcile from the last successful run (less OVERLAP; the last DEFAULT_WINDOW the first
    time), then record this run's start as the watermark. A GatewayError leaves it where it was."""
    gateway = gateway or configured_gateway()
    started = utc_now()
    last = await watermark(gateway.name)
    summary = await reconcile(last - OVERLAP if last is not None else None, gateway)
    await _advance_watermark(gateway.name, started)
    return summary
