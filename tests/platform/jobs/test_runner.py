"""The embedded runner (SQLite): one per database folder, whatever the number of processes."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from linju.platform.jobs import embedded, queue
from linju.platform.jobs.registry import JobContext, JobKind, register

DONE: list[int] = []


async def _note(args: dict[str, Any], ctx: JobContext) -> None:
    DONE.append(ctx.job_id)


HOLD_LOCK = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from linju.platform.jobs.embedded import RunnerLock
    lock = RunnerLock(Path(sys.argv[1]))
    print("held" if lock.acquire() else "refused", flush=True)
    time.sleep(30)
    """
)


def test_the_runner_lock_admits_one_process_and_passes_on_when_it_dies(tmp_path: Path) -> None:
    path = tmp_path / "jobs-runner.lock"
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(path)], stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == b"held"
        mine = embedded.RunnerLock(path)
        assert not mine.acquire()  # another process runs the jobs
    finally:
        holder.kill()
        holder.wait()
    assert mine.acquire()  # the lock went with its process
    other = embedded.RunnerLock(path)
    assert not other.acquire()  # one runner in this process too
    mine.release()
    assert other.acquire()
    other.release()


@pytest.mark.usefixtures("db")
async def test_of_two_runners_only_the_lock_holder_runs_jobs(
    tmp_path: Path, engine_name: str
) -> None:
    if engine_name != "sqlite":
        pytest.skip("the embedded runner is the SQLite queue")
    register(JobKind("test.note", _note))
    DONE.clear()
    first, second = embedded.RunnerLock(tmp_path / "l"), embedded.RunnerLock(tmp_path / "l")
    stop = asyncio.Event()
    ticks: list[str] = []

    async def tick(label: str) -> None:
        ticks.append(label)

    runners = [
        asyncio.create_task(
            embedded.run_forever(
                lock,
                stop,
                stale_after=timedelta(seconds=5),
                tick=lambda label=label: tick(label),
                poll_seconds=0.05,
                lock_retry_seconds=0.05,
            )
        )
        for lock, label in ((first, "first"), (second, "second"))
    ]
    job_id = await queue.enqueue("test.note", {})
    for _ in range(100):
        if DONE:
            break
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.gather(*runners)
    assert [job_id] == DONE
    assert set(ticks) == {"first"}  # the second never held the lock while the first ran
