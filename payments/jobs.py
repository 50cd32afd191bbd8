"""The payment adapter's jobs and schedules, registered by the composition root
(`linju.platform.app.wire`).

- `payments.expire_checkouts`, every `expiry.EXPIRE_EVERY` (10 minutes): closes the checkouts
  left pending past their provider's lifetime (payments/expiry.py).
- `payments.reconcile`, every LINJU_RECONCILE_EVERY (default 1 h; `off`: never by schedule):
  applies what the webhooks missed since the last successful run (payments/reconcile.py).

Both fail, and are retried with backoff, when the provider cannot be reached; after their last
attempt they are held as failed (`linju jobs list`, `linju jobs retry ID`). Both are idempotent:
every event goes through `services.apply_events`, which applies an event id once.

- `payments.refund`, queued by `services.refund_donation` in the refund's own transaction:
  sends one requested refund to its provider (`services.send_refund`, with the idempotency key
  `refund:<refund id>`). Retried with backoff while the provider refuses or cannot be reached;
  its last attempt marks the refund failed (its amount can be refunded again) before the job is
  held as failed. A refund already sent, confirmed or failed is left alone: the job, run again,
  refunds nothing twice.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from linju.payments.expiry import EXPIRE_EVERY, expire_abandoned_checkouts
from linju.payments.reconcile import reconcile_since_watermark
from linju.payments.services import REFUND_JOB, send_refund
from linju.platform.jobs.registry import JobContext, JobKind, Schedule, register, register_schedule
from linju.platform.settings import Settings

logger = logging.getLogger("linju.payments.jobs")

EXPIRE_CHECKOUTS_JOB = "payments.expire_checkouts"
RECONCILE_JOB = "payments.reconcile"


async def expire_checkouts_job(args: dict[str, Any], ctx: JobContext) -> None:
    await expire_abandoned_checkouts()


async def reconcile_job(args: dict[str, Any], ctx: JobContext) -> None:
    summary = await reconcile_since_watermark()
    logger.info("%s", summary.line())  # each refused event was logged as it was met


async def refund_job(args: dict[str, Any], ctx: JobContext) -> None:
    sent = await send_refund(str(args["refund"]), final=ctx.final)
    logger.info("refund %s: %s %s", sent.refund_id, sent.outcome, sent.refund_ref)


def _expire_every(settings: Settings) -> timedelta | None:
    return EXPIRE_EVERY


def _reconcile_every(settings: Settings) -> timedelta | None:
    return settings.reconcile_every


EXPIRE_CHECKOUTS = JobKind(
    EXPIRE_CHECKOUTS_JOB,
    expire_checkouts_job,
    max_attempts=4,
    first_retry=timedelta(minutes=1),
    max_retry=timedelta(minutes=10),
)
RECONCILE = JobKind(
    RECONCILE_JOB,
    reconcile_job,
    max_attempts=6,
    first_retry=timedelta(minutes=1),
    max_retry=timedelta(minutes=30),
)

# Doubling from 30 s to at most 15 minutes: eight attempts span about 45 minutes, well within
# the day a provider keeps an idempotency key (Stripe: 24 hours).
REFUND = JobKind(
    REFUND_JOB,
    refund_job,
    max_attempts=8,
    first_retry=timedelta(seconds=30),
    max_retry=timedelta(minutes=15),
)


def register_jobs() -> None:
    register(EXPIRE_CHECKOUTS)
    register(RECONCILE)
    register(REFUND)
    register_schedule(Schedule(EXPIRE_CHECKOUTS_JOB, _expire_every))
    register_schedule(Schedule(RECONCILE_JOB, _reconcile_every))
