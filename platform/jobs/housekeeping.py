"""Housekeeping: deleting, in small batches, the rows that are of no further use.

Each area prunes its own tables: it registers a `Pruner` from the composition root
(`linju.platform.app.wire`), and the platform runs every registered pruner, by schedule (the
`platform.housekeeping` job, every LINJU_HOUSEKEEPING_EVERY, default daily) or by hand
(`linju housekeeping run`). A pruner deletes in batches of at most `BATCH` rows, each batch its
own short transaction: no long transaction, no table lock, and a web request or a job waits at
most one batch for it. What is pruned, what never is and why: docs/adr/0039-housekeeping.md.

The platform's own: pgqueuer's job log and statistics on PostgreSQL, older than
LINJU_KEEP_JOB_LOG, except the log of a job still in the queue (a failed job's last error is
read from it). The SQLite queue keeps nothing finished (a job that succeeds or is cancelled
leaves `linju_job`; a failed one is held until retried or cancelled), so there is nothing to
prune there.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from piccolo.custom_types import Combinable
from piccolo.table import Table

from linju.platform.db import is_postgres, write_transaction
from linju.platform.jobs.registry import JobContext, JobKind, Schedule, register, register_schedule
from linju.platform.kernel.clock import utc_now
from linju.platform.settings import Settings, get_settings

logger = logging.getLogger("linju.housekeeping")

HOUSEKEEPING_JOB = "platform.housekeeping"
BATCH = 1000  # rows deleted per statement and transaction


@dataclass(frozen=True, slots=True)
class Pruner:
    """Delete one kind of row past its retention; `prune(settings, batch)` returns how many.

    `name` is what the counts line calls the rows (`job log 12, sessions 3, …`).
    """

    name: str
    prune: Callable[[Settings, int], Awaitable[int]]


_pruners: dict[str, Pruner] = {}


def register_pruner(pruner: Pruner) -> None:
    """Idempotent for the same function; a second function under one name is a programming
    error."""
    known = _pruners.get(pruner.name)
    if known is not None and known.prune is not pruner.prune:
        raise RuntimeError(f"two pruners are registered as {pruner.name!r}")
    _pruners[pruner.name] = pruner


def pruners() -> list[Pruner]:
    return list(_pruners.values())


async def delete_in_batches(table: type[Table], where: Combinable, batch: int = BATCH) -> int:
    """Delete the rows of `table` that `where` selects, `batch` at a time, each batch in its
    own write transaction; how many were deleted. `where` is checked again by the delete, so a
    row changed between the two statements (a session renewed…) is left alone."""
    key = table._meta.primary_key
    deleted = 0
    while True:
        async with write_transaction():
            rows = await table.select(key).where(where).order_by(key).limit(batch)
            ids = [row[key._meta.name] for row in rows]
            if not ids:
                return deleted
            gone = await table.delete().where(key.is_in(ids) & where).returning(key)
        deleted += len(gone)
        if len(ids) < batch or not gone:
            return deleted


async def run_housekeeping(batch: int = BATCH) -> dict[str, int]:
    """Run every registered pruner, in the order registered; rows deleted, by pruner."""
    settings = get_settings()
    counts: dict[str, int] = {}
    for pruner in pruners():
        counts[pruner.name] = await pruner.prune(settings, batch)
    return counts


def counts_line(counts: dict[str, int]) -> str:
    """The one line both the job and `linju housekeeping run` say."""
    return "housekeeping: deleted " + ", ".join(f"{name} {n}" for name, n in counts.items())


async def housekeeping_job(args: dict[str, Any], ctx: JobContext) -> None:
    logger.info("%s", counts_line(await run_housekeeping()))


async def _prune_job_log(settings: Settings, batch: int) -> int:
    if settings.keep_job_log is None or not is_postgres():
        return 0  # kept for ever; or SQLite, whose queue keeps no finished job
    from linju.platform.jobs import pgq  # pgqueuer is imported only where it runs

    return await pgq.prune_log(utc_now() - settings.keep_job_log, batch)


async def _prune_job_statistics(settings: Settings, batch: int) -> int:
    if settings.keep_job_log is None or not is_postgres():
        return 0
    from linju.platform.jobs import pgq

    return await pgq.prune_statistics(utc_now() - settings.keep_job_log, batch)


def _every(settings: Settings) -> timedelta | None:
    return settings.housekeeping_every


HOUSEKEEPING = JobKind(
    HOUSEKEEPING_JOB,
    housekeeping_job,
    max_attempts=4,
    first_retry=timedelta(minutes=1),
    max_retry=timedelta(minutes=30),
)


def register_jobs() -> None:
    """The housekeeping job, its schedule and the platform's own pruners (the job queue's)."""
    register(HOUSEKEEPING)
    register_schedule(Schedule(HOUSEKEEPING_JOB, _every))
    register_pruner(Pruner("job log", _prune_job_log))
    register_pruner(Pruner("job statistics", _prune_job_statistics))
