"""The transparency log's jobs, registered by the composition root (`wire()`).

- `ledger.integrate`: runs the integrator (`services.integrate`). A schedule enqueues it every
  3 seconds (the worker ticks its schedules every few seconds), so a committed entry is in a
  signed checkpoint within 10 seconds while the platform runs; the integrator finds the new
  entries itself, so nothing is lost if a run is skipped. A refused entry is recorded in
  `log_refusal` and logged; the job does not fail for it (a job that failed every 3 seconds
  would only bury the refusal in copies of itself).
- `ledger.witness`: submits the latest checkpoint to every witness of `LINJU_WITNESSES` that
  has not cosigned it yet (`witnessing.submit_all`); queued by the integrator after each
  checkpoint it signs, retried with backoff while a witness is down. One witness that is down
  fails only its own submission; the others' cosignatures are stored at once. When a run of
  the integrator signs nothing, it still queues this job if a witness has no cosignature on
  the latest checkpoint and has not failed (one added to `LINJU_WITNESSES` since): it
  catches up at once rather than at the next entry.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from linju.platform.jobs import queue
from linju.platform.jobs.registry import JobContext, JobKind, Schedule, register, register_schedule
from linju.platform.settings import SettingsError
from linju.projects.ledger.log.services import INTEGRATE_JOB, WITNESS_JOB, integrate

logger = logging.getLogger("linju.log")

INTEGRATE_EVERY = timedelta(seconds=3)


class WitnessesBehind(RuntimeError):
    """Some witness has not cosigned the latest checkpoint yet: the job is retried."""


async def integrate_job(args: dict[str, Any], ctx: JobContext) -> None:
    try:
        result = await integrate()
    except SettingsError as error:  # a key that is not the origin's: nothing is signed
        logger.error("log: not integrating: %s", error)
        return
    if result.added:
        logger.info("log: %d entries integrated, size %d", result.added, result.size)
    if not result.signed:
        from linju.projects.ledger.log.witnessing import witnesses_waiting

        if await witnesses_waiting():  # e.g. one added since the latest checkpoint was signed
            await queue.enqueue(WITNESS_JOB, {}, dedupe_key=WITNESS_JOB)


async def witness_job(args: dict[str, Any], ctx: JobContext) -> None:
    from linju.projects.ledger.log.witnessing import submit_all

    behind = await submit_all()
    if behind:
        raise WitnessesBehind("; ".join(behind))


def register_jobs() -> None:
    register(JobKind(INTEGRATE_JOB, integrate_job, max_attempts=3))
    register_schedule(Schedule(INTEGRATE_JOB, lambda settings: INTEGRATE_EVERY))
    register(
        JobKind(
            WITNESS_JOB,
            witness_job,
            max_attempts=30,
            first_retry=timedelta(seconds=2),
            max_retry=timedelta(minutes=5),
        )
    )
