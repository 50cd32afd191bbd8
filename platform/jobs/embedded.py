"""The embedded runner: the job queue on SQLite, ours because no kept queue library runs there.

Jobs sit in `linju_job` in the application's own database. A runner claims the oldest due job
under `BEGIN IMMEDIATE` (SQLite's one writer, so two runners never claim the same job), marks it
picked and keeps a heartbeat while it runs; a job whose heartbeat is older than `stale_after`
(its process died) is claimed again. Success or cancellation removes the row; a failure queues
the job again after the kind's backoff, and its last failure holds it as `failed`.

`linju serve` runs one runner in-process; with `--workers N` the processes race for an exclusive
lock on `var/jobs-runner.lock` and only the holder runs jobs (the lock goes with its process).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import traceback
from datetime import timedelta
from pathlib import Path
from typing import Any

from linju.platform.db import write_transaction
from linju.platform.jobs import payloads
from linju.platform.jobs.registry import JobContext, kind, kinds
from linju.platform.jobs.tables import QueuedJob
from linju.platform.kernel.clock import utc_now

logger = logging.getLogger("linju.jobs")

QUEUED, PICKED, FAILED = "queued", "picked", "failed"


async def enqueue(
    name: str, payload: bytes, delay: timedelta | None, dedupe_key: str | None
) -> int | None:
    """Insert in the caller's transaction (SQLite has one writer: the check and the insert are
    serialised with every other writer's)."""
    now = utc_now()
    if dedupe_key is not None and await QueuedJob.exists().where(
        (QueuedJob.dedupe_key == dedupe_key) & QueuedJob.status.is_in([QUEUED, PICKED])
    ):
        return None
    rows = await QueuedJob.insert(
        QueuedJob(
            name=name,
            payload=payload.decode("utf-8"),
            status=QUEUED,
            attempts=0,
            execute_after=now + (delay or timedelta(0)),
            dedupe_key=dedupe_key,
            last_error="",
            created_at=now,
        )
    ).returning(QueuedJob.id)
    return int(rows[0]["id"])


async def list_jobs(status: str | None, job_id: int | None) -> list[dict[str, Any]]:
    query = QueuedJob.select(
        QueuedJob.id,
        QueuedJob.name,
        QueuedJob.status,
        QueuedJob.attempts,
        QueuedJob.execute_after,
        QueuedJob.created_at,
        QueuedJob.last_error,
    ).order_by(QueuedJob.id)
    if status is not None:
        query = query.where(QueuedJob.status == status)
    if job_id is not None:
        query = query.where(QueuedJob.id == job_id)
    return list(await query)


async def retry(job_id: int) -> None:
    async with write_transaction():
        await QueuedJob.update(
            {QueuedJob.status: QUEUED, QueuedJob.attempts: 0, QueuedJob.execute_after: utc_now()}
        ).where((QueuedJob.id == job_id) & (QueuedJob.status == FAILED))


async def cancel(job_id: int) -> None:
    async with write_transaction():
        await QueuedJob.delete().where(
            (QueuedJob.id == job_id) & QueuedJob.status.is_in([QUEUED, FAILED])
        )


async def claim(stale_after: timedelta) -> dict[str, Any] | None:
    """Take the oldest due job (or one whose runner died) for this runner, or None."""
    names = [k.name for k in kinds()]
    if not names:
        return None
    async with write_transaction():
        now = utc_now()
        row = (
            await QueuedJob.select(
                QueuedJob.id, QueuedJob.name, QueuedJob.payload, QueuedJob.attempts
            )
            .where(
                QueuedJob.name.is_in(names)
                & (
                    ((QueuedJob.status == QUEUED) & (QueuedJob.execute_after <= now))
                    | ((QueuedJob.status == PICKED) & (QueuedJob.heartbeat < now - stale_after))
                )
            )
            .order_by(QueuedJob.execute_after)
            .order_by(QueuedJob.id)
            .first()
        )
        if row is None:
            return None
        await QueuedJob.update({QueuedJob.status: PICKED, QueuedJob.heartbeat: now}).where(
            QueuedJob.id == row["id"]
        )
        return dict(row)


async def _beat(job_id: int, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        async with write_transaction():
            await QueuedJob.update({QueuedJob.heartbeat: utc_now()}).where(
                (QueuedJob.id == job_id) & (QueuedJob.status == PICKED)
            )


async def run_claimed(row: dict[str, Any], stale_after: timedelta) -> bool:
    """Run one claimed job and record what became of it; True when it succeeded."""
    job_id = int(row["id"])
    job_kind = kind(row["name"])
    key, args = payloads.unpack(row["payload"])
    beat = asyncio.create_task(_beat(job_id, max(stale_after.total_seconds() / 3, 0.05)))
    try:
        attempt = int(row["attempts"])
        final = attempt + 1 >= job_kind.max_attempts
        await job_kind.run(args, JobContext(job_id, key, attempt, final))
    except asyncio.CancelledError:
        # The runner is stopping: hand the job back now rather than after `stale_after`.
        async with write_transaction():
            await QueuedJob.update({QueuedJob.status: QUEUED}).where(QueuedJob.id == job_id)
        raise
    except Exception as exc:
        failures = int(row["attempts"]) + 1
        final = failures >= job_kind.max_attempts
        logger.warning(
            "job %s (%s) failed, attempt %d of %d: %r",
            job_id,
            row["name"],
            failures,
            job_kind.max_attempts,
            exc,
            exc_info=final,
        )
        error = "".join(traceback.format_exception_only(exc)).strip()[:2000]
        async with write_transaction():
            await QueuedJob.update(
                {
                    QueuedJob.status: FAILED if final else QUEUED,
                    QueuedJob.attempts: failures,
                    QueuedJob.execute_after: utc_now() + job_kind.retry_delay(failures),
                    QueuedJob.last_error: error,
                }
            ).where(QueuedJob.id == job_id)
        return False
    finally:
        beat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beat
    async with write_transaction():
        await QueuedJob.delete().where(QueuedJob.id == job_id)
    return True


async def drain(stale_after: timedelta, stop: asyncio.Event | None = None) -> int:
    """Run every due job, one after another, until none is due (or `stop` is set between two
    jobs: a running job is finished, not abandoned); how many ran."""
    count = 0
    while not (stop and stop.is_set()) and (row := await claim(stale_after)) is not None:
        await run_claimed(row, stale_after)
        count += 1
    return count


class RunnerLock:
    """An exclusive lock on a file, held while this process runs the embedded jobs."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> bool:
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


async def run_forever(
    lock: RunnerLock,
    stop: asyncio.Event,
    *,
    stale_after: timedelta,
    tick: Any,
    poll_seconds: float = 1.0,
    lock_retry_seconds: float = 5.0,
) -> None:
    """Run due jobs and schedules until `stop` is set, while holding `lock`."""
    try:
        while not stop.is_set():
            if not lock.acquire():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=lock_retry_seconds)
                continue
            try:
                await tick()
                await drain(stale_after, stop)
            except asyncio.CancelledError:
                raise
            except Exception:  # a broken database must not end the runner for good
                logger.exception("the job runner could not run jobs; trying again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=poll_seconds)
    finally:
        lock.release()
