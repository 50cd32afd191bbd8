"""Running jobs: `linju worker`, the runner inside `linju serve` on SQLite, and `drain`.

On PostgreSQL, `linju worker` runs pgqueuer's queue manager (any number of workers, on any
number of machines; a job is picked by one of them at a time). On SQLite it runs the embedded
runner, which `linju serve` also runs in-process (one runner per database folder, by a lock), so
a fresh clone needs no second process.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from linju.platform.db import is_postgres
from linju.platform.jobs import embedded, schedules
from linju.platform.settings import get_settings

# A running job beats every third of this; a job silent for longer is run again elsewhere.
STALE_AFTER = timedelta(seconds=30)


async def _tick() -> None:
    await schedules.tick()


def _lock() -> embedded.RunnerLock:
    return embedded.RunnerLock(get_settings().var_dir / "jobs-runner.lock")


async def run_worker(
    *, drain: bool = False, stale_after: timedelta = STALE_AFTER, stop: asyncio.Event | None = None
) -> None:
    """Run jobs until stopped (SIGTERM, SIGINT or `stop`); with `drain`, until none is due."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    if is_postgres():
        from linju.platform.jobs import pgq  # pgqueuer is imported only where it runs

        await pgq.run_worker(drain=drain, stale_after=stale_after, stop=stop, tick=_tick)
    elif drain:
        await drain_jobs(stale_after)
    else:
        await embedded.run_forever(_lock(), stop, stale_after=stale_after, tick=_tick)


async def drain_jobs(stale_after: timedelta = STALE_AFTER) -> None:
    """Run the schedules that are due and every job that is due now, then return."""
    if is_postgres():
        from linju.platform.jobs import pgq

        await pgq.run_worker(drain=True, stale_after=stale_after, stop=asyncio.Event(), tick=_tick)
        return
    await _tick()
    await embedded.drain(stale_after)


@asynccontextmanager
async def embedded_runner() -> AsyncIterator[None]:
    """For the app's lifespan: on SQLite (unless LINJU_RUN_JOBS_IN_SERVE is off), run the
    embedded runner beside the requests; on PostgreSQL, `linju worker` runs the jobs."""
    if is_postgres() or not get_settings().run_jobs_in_serve:
        yield
        return
    stop = asyncio.Event()
    task = asyncio.create_task(
        embedded.run_forever(_lock(), stop, stale_after=STALE_AFTER, tick=_tick)
    )
    try:
        yield
    finally:
        stop.set()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
