"""The queue on PostgreSQL: pgqueuer's tables, enqueued on the caller's own connection.

pgqueuer keeps jobs in `pgqueuer` (queued, picked, failed) and what became of them in
`pgqueuer_log`. A job whose worker stops sending heartbeats is picked again by another worker
after `stale_after`; a failing job is retried with backoff by pgqueuer's
`DatabaseRetryEntrypointExecutor` and, after its last attempt, held with status `failed` for
`linju jobs retry` (docs/adr/0014-jobs.md). Housekeeping deletes the log and pgqueuer's
statistics past LINJU_KEEP_JOB_LOG, never a queued or held job's log (docs/adr/0039).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from pgqueuer.db import AsyncpgDriver
from pgqueuer.domain.settings import DBSettings
from pgqueuer.executors import DatabaseRetryEntrypointExecutor
from pgqueuer.models import Job
from pgqueuer.qm import QueueManager
from pgqueuer.queries import Queries
from pgqueuer.types import JobId
from piccolo.engine.postgres import PostgresEngine

from linju.platform.db import get_engine
from linju.platform.jobs import payloads
from linju.platform.jobs.registry import JobContext, JobKind, kinds

logger = logging.getLogger("linju.jobs")


def _tables() -> tuple[str, str]:
    names = DBSettings()
    return names.queue_table, names.queue_table_log


async def connect() -> asyncpg.Connection:
    """A connection of its own (the queue manager LISTENs on it; commands use it briefly)."""
    engine = get_engine()
    assert isinstance(engine, PostgresEngine)
    return await asyncpg.connect(**engine.config)


@asynccontextmanager
async def _queries() -> AsyncIterator[Queries]:
    """pgqueuer's queries on a connection of their own, closed after the block."""
    connection = await connect()
    try:
        yield Queries(AsyncpgDriver(connection))
    finally:
        await connection.close()


async def install() -> None:
    """Create pgqueuer's tables, or bring them up to this pgqueuer's version (idempotent).

    Called by `apply_migrations` under its advisory lock, so concurrent starts install once.
    """
    async with _queries() as queries:
        if await queries.schema_is_installed():
            await queries.apply_upgrade()
        else:
            await queries.install()


async def needs_install() -> bool:
    """Whether `install` has anything to do, found by reading the catalogs only (a role that
    owns nothing can ask; docs/adr/0016-database-roles.md)."""
    async with _queries() as queries:
        if not await queries.schema_is_installed():
            return True
        return bool((await queries.plan_upgrade()).statements)


async def enqueue(
    connection: asyncpg.Connection,
    name: str,
    payload: bytes,
    delay: timedelta | None,
    dedupe_key: str | None,
) -> int | None:
    """Insert on `connection`, the transaction's own: the job commits or rolls back with it."""
    ids = await Queries(AsyncpgDriver(connection)).enqueue(
        name, payload, 0, delay, dedupe_key, on_conflict="skip"
    )
    return int(ids[0]) if ids[0] is not None else None


async def list_jobs(status: str | None, job_id: int | None) -> list[dict[str, Any]]:
    queue, log = _tables()
    connection = await connect()
    try:
        rows = await connection.fetch(
            f"""
            SELECT q.id, q.entrypoint AS name, q.status::text AS status, q.attempts,
                   q.execute_after, q.created AS created_at,
                   COALESCE((
                       SELECT l.traceback ->> 'exception_type' || ': ' ||
                              (l.traceback ->> 'exception_message')
                       FROM {log} l
                       WHERE l.job_id = q.id AND l.traceback IS NOT NULL
                       ORDER BY l.id DESC LIMIT 1
                   ), '') AS last_error
            FROM {queue} q
            WHERE ($1::text IS NULL OR q.status::text = $1)
              AND ($2::bigint IS NULL OR q.id = $2)
            ORDER BY q.id
            """,
            status,
            job_id,
        )
    finally:
        await connection.close()
    return [dict(row) for row in rows]


async def retry(job_id: int) -> None:
    async with _queries() as queries:
        await queries.requeue_jobs([JobId(job_id)])


async def cancel(job_id: int) -> None:
    async with _queries() as queries:
        await queries.mark_job_as_cancelled([JobId(job_id)])


async def _delete_batches(sql: str, before: datetime, batch: int) -> int:
    """Run a `DELETE … LIMIT $2` until it deletes fewer than `batch` rows, each statement its
    own transaction (housekeeping: no long transaction, no table lock); how many in all."""
    connection = await connect()
    deleted = 0
    try:
        while True:
            status = await connection.execute(sql, before, batch)
            count = int(status.rsplit(" ", 1)[1])  # "DELETE n"
            deleted += count
            if count < batch:
                return deleted
    finally:
        await connection.close()


async def prune_log(before: datetime, batch: int) -> int:
    """Delete the job log's rows older than `before`, except those of a job still in the queue
    (waiting, running or held as failed: `list_jobs` reads a failed job's last error here)."""
    queue, log = _tables()
    return await _delete_batches(
        f"""
        DELETE FROM {log} WHERE id IN (
            SELECT l.id FROM {log} l
            WHERE l.created < $1
              AND NOT EXISTS (SELECT 1 FROM {queue} q WHERE q.id = l.job_id)
            ORDER BY l.id LIMIT $2
        )
        """,
        before,
        batch,
    )


async def prune_statistics(before: datetime, batch: int) -> int:
    """Delete pgqueuer's statistics (per-second counts folded from the log) older than `before`."""
    statistics = DBSettings().statistics_table
    return await _delete_batches(
        f"""
        DELETE FROM {statistics} WHERE id IN (
            SELECT id FROM {statistics} WHERE created < $1 ORDER BY id LIMIT $2
        )
        """,
        before,
        batch,
    )


def _handler(kind: JobKind) -> Callable[[Job], Awaitable[None]]:
    async def run(job: Job) -> None:
        key, args = payloads.unpack(job.payload)
        # pgqueuer fails the job for good once it has been retried max_attempts - 1 times.
        final = job.attempts + 1 >= kind.max_attempts
        await kind.run(args, JobContext(int(job.id), key, job.attempts, final))

    return run


def _executor(kind: JobKind, parameters: Any) -> DatabaseRetryEntrypointExecutor:
    # pgqueuer fails a job for good once it has been retried `max_attempts` times, so it runs
    # max_attempts + 1 times in all; ours counts every run.
    return DatabaseRetryEntrypointExecutor(
        parameters=parameters,
        max_attempts=kind.max_attempts - 1,
        initial_delay=kind.first_retry,
        max_delay=kind.max_retry,
    )


async def run_worker(
    *,
    drain: bool,
    stale_after: timedelta,
    stop: asyncio.Event,
    tick: Callable[[], Awaitable[None]],
) -> None:
    """Run jobs until `stop` is set (or, with `drain`, until none is due)."""
    connection = await connect()
    try:
        manager = QueueManager(Queries(AsyncpgDriver(connection)))
        for kind in kinds():
            manager.entrypoint(
                kind.name,
                on_failure="hold",
                executor_factory=functools.partial(_executor, kind),
            )(_handler(kind))
        await tick()

        async def ticking() -> None:
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=5)
                if not stop.is_set():
                    await tick()
            manager.shutdown.set()

        queue_table, _ = _tables()
        due_sql = (
            f"SELECT count(*) FROM {queue_table} WHERE entrypoint = ANY($1::text[]) AND ("
            "(status = 'queued' AND execute_after <= now()) OR "
            "(status = 'picked' AND heartbeat < now() - $2::interval))"
        )

        async def idle() -> None:
            """Drain: stop once nothing runs here and nothing is due, counting jobs whose worker
            died (pgqueuer's own drain mode also waits for jobs deferred to later)."""
            names = list(manager.entrypoint_registry)
            while not manager.shutdown.is_set():
                await asyncio.sleep(0.1)
                if manager.job_context:
                    continue
                rows = await manager.queries.driver.fetch(due_sql, names, stale_after)
                if not rows[0]["count"]:
                    manager.shutdown.set()

        helper = asyncio.create_task(idle() if drain else ticking())
        try:
            await manager.run(
                dequeue_timeout=timedelta(seconds=1 if drain else 5),
                heartbeat_timeout=stale_after,
                batch_size=4,
            )
        finally:
            stop.set()
            manager.shutdown.set()
            helper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await helper
    finally:
        await connection.close()
