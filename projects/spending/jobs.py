"""Spending's job, registered by the composition root (`linju.platform.app.wire`).

- `projects.settle`, queued by the vote that cancels a project, in that vote's transaction:
  returns what the cancelled project holds (`services.cancellation.settle`: reverses its
  matches, asks once for every online refund still owed). While a refund could not be asked or
  waits to be taken by its provider, it queues its next round (`round` + 1, after the kind's
  backoff: doubling from a minute to an hour), which asks again only what is still owed (a
  refund that failed for good is asked anew); one round per project waits at a time (the
  dedupe key `settle:<slug>:<round>`). A refund that fails for good while a round runs (its job
  runs beside this one) leaves its gift's rest not asked, which also brings the next round.
  The last round, still unfinished, fails: it is retried with the same backoff and then held as
  failed (`linju jobs list`). `linju projects settle SLUG` resumes the settlement by hand at
  any time.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from linju.platform.jobs import queue
from linju.platform.jobs.registry import JobContext, JobKind, kind, register
from linju.projects.spending.services.cancellation import SETTLE_JOB, settle, settle_key

logger = logging.getLogger("linju.spending.jobs")


class SettlementUnfinished(RuntimeError):
    """The settlement must be run again later (the job is retried)."""


async def settle_job(args: dict[str, Any], ctx: JobContext) -> None:
    slug = str(args["project"])
    round_ = int(args.get("round", 0))
    result = await settle(slug)
    progress = result.progress
    assert progress is not None
    logger.info(
        "settlement of %s, round %d: %d refunds asked, %d matches reversed, %d/%d given back, "
        "fund %d fen",
        slug,
        round_,
        len(result.refunds_requested),
        len(result.reversed_seqs),
        progress.done,
        progress.total,
        progress.balance,
    )
    if not result.unfinished:
        return
    settling = kind(SETTLE_JOB)
    if round_ + 1 >= settling.max_attempts:
        raise SettlementUnfinished(
            f"settlement of {slug} unfinished after {round_ + 1} rounds: "
            f"{progress.waiting_to_be_sent} refunds wait to be sent to their provider, "
            f"{progress.not_asked} gifts wait to be asked again; "
            f"could not ask: {'; '.join(result.failures) or 'none'}"
        )
    await queue.enqueue(
        SETTLE_JOB,
        {"project": slug, "round": round_ + 1},
        delay=settling.retry_delay(round_ + 1),
        dedupe_key=settle_key(slug, round_ + 1),
    )


# Doubling from a minute to an hour: twelve rounds span about six hours, several times the
# refund job's own 45 minutes, so a refund that failed for good is asked again meanwhile.
SETTLE = JobKind(
    SETTLE_JOB,
    settle_job,
    max_attempts=12,
    first_retry=timedelta(minutes=1),
    max_retry=timedelta(hours=1),
)


def register_jobs() -> None:
    register(SETTLE)
