"""Reconciliation: ask the provider what happened and apply what the webhooks missed.

A provider outage, a crashed worker or a refused delivery leaves events unapplied; this reads
the provider's own list (`events_since`) and applies every event through `services.apply_event`,
the webhooks' own code path, so an event applied before is recognised and nothing posts twice.
Meant to run from a scheduler (`linju payments reconcile`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from linju.payments import services
from linju.payments.gateway import PaymentGateway
from linju.payments.registry import configured_gateway
from linju.platform.kernel.clock import utc_now
from linju.platform.kernel.errors import DomainError, NotFound

logger = logging.getLogger("linju.payments.reconcile")

DEFAULT_WINDOW = timedelta(days=3)


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
