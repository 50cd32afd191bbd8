"""Enqueue a job in the caller's transaction; list, retry and cancel jobs. Both engines.

`enqueue` must be called inside the write transaction of the change that causes the job (it
opens its own only when called outside one): the job row commits or rolls back with the change,
so nothing is lost if the process dies after the commit and nothing runs if it rolls back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from linju.platform.db import get_engine, is_postgres, write_transaction
from linju.platform.jobs import embedded
from linju.platform.jobs.payloads import pack
from linju.platform.jobs.registry import kind

QUEUED, PICKED, FAILED = "queued", "picked", "failed"


class JobNotFound(LookupError):
    """No job with this id is waiting, running or held as failed."""


class JobStateError(ValueError):
    """The job is not in a state that allows this (retry needs failed; cancel needs not running)."""


@dataclass(frozen=True, slots=True)
class JobRow:
    id: int
    name: str
    status: str  # queued | picked | failed
    attempts: int
    execute_after: datetime
    created_at: datetime
    last_error: str


async def enqueue(
    name: str,
    args: dict[str, Any] | None = None,
    *,
    delay: timedelta | None = None,
    dedupe_key: str | None = None,
) -> int | None:
    """Queue job `name` with JSON-able `args`; its id, or None when `dedupe_key` is already
    waiting or running (the same work is not queued twice)."""
    kind(name)  # an unregistered name is a programming error, found at enqueue, not in a worker
    payload = pack(args or {})
    engine = get_engine()
    if engine.current_transaction.get() is None:
        async with write_transaction():
            return await _enqueue(name, payload, delay, dedupe_key)
    return await _enqueue(name, payload, delay, dedupe_key)


async def _enqueue(
    name: str, payload: bytes, delay: timedelta | None, dedupe_key: str | None
) -> int | None:
    if is_postgres():
        from linju.platform.jobs import pgq  # pgqueuer is imported only where it runs

        connection = get_engine().current_transaction.get().connection  # type: ignore[union-attr]
        return await pgq.enqueue(connection, name, payload, delay, dedupe_key)
    return await embedded.enqueue(name, payload, delay, dedupe_key)


async def list_jobs(status: str | None = None, job_id: int | None = None) -> list[JobRow]:
    """Jobs waiting, running or held as failed, oldest first."""
    if is_postgres():
        from linju.platform.jobs import pgq

        return [JobRow(**row) for row in await pgq.list_jobs(status, job_id)]
    return [JobRow(**row) for row in await embedded.list_jobs(status, job_id)]


async def _one(job_id: int) -> JobRow:
    rows = await list_jobs(job_id=job_id)
    if not rows:
        raise JobNotFound(job_id)
    return rows[0]


async def retry_job(job_id: int) -> None:
    """Put a failed job back in the queue, due now, with its failures forgotten."""
    row = await _one(job_id)
    if row.status != FAILED:
        raise JobStateError(f"job {job_id} is {row.status}, only a failed job can be retried")
    if is_postgres():
        from linju.platform.jobs import pgq

        await pgq.retry(job_id)
    else:
        await embedded.retry(job_id)


async def cancel_job(job_id: int) -> None:
    """Drop a waiting or failed job; a running one is left to finish or fail."""
    row = await _one(job_id)
    if row.status == PICKED:
        raise JobStateError(f"job {job_id} is running; cancel it when it has finished or failed")
    if is_postgres():
        from linju.platform.jobs import pgq

        await pgq.cancel(job_id)
    else:
        await embedded.cancel(job_id)
