"""`linju jobs list|retry|cancel` and `linju worker --drain` on the run's database."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from click.testing import CliRunner

from linju.platform.cli import cli
from linju.platform.jobs import queue
from linju.platform.jobs.tables import QueuedJob


async def _linju(*args: str) -> tuple[int, str, str]:
    """The real command, in a thread of this process (a subprocess costs seconds to start)."""
    result = await asyncio.to_thread(CliRunner().invoke, cli, list(args))
    return result.exit_code, result.stdout, result.stderr


async def _fail_held(job_id: int, engine_name: str) -> None:
    """Make a job held as failed the way the worker leaves it, on either queue's table."""
    if engine_name == "sqlite":
        await QueuedJob.update(
            {QueuedJob.status: "failed", QueuedJob.attempts: 8, QueuedJob.last_error: "boom"}
        ).where(QueuedJob.id == job_id)
        return
    from linju.platform.jobs import pgq

    connection = await pgq.connect()
    try:
        await connection.execute("UPDATE pgqueuer SET status = 'failed' WHERE id = $1", job_id)
    finally:
        await connection.close()


async def test_list_retry_cancel_and_their_refusals(db: str, engine_name: str) -> None:
    later = await queue.enqueue("accounts.mail", {"mails": []}, delay=timedelta(hours=1))
    held = await queue.enqueue("accounts.mail", {"mails": []}, delay=timedelta(hours=1))
    assert later is not None
    assert held is not None
    await _fail_held(held, engine_name)

    code, out, _ = await _linju("jobs", "list")
    assert code == 0
    lines = out.strip().splitlines()
    assert [line.split("\t")[:2] for line in lines] == [
        [str(later), "queued"],
        [str(held), "failed"],
    ]
    code, out, _ = await _linju("jobs", "list", "--status", "failed")
    assert [line.split("\t")[0] for line in out.strip().splitlines()] == [str(held)]

    code, _, err = await _linju("jobs", "retry", str(later))
    assert code == 2
    assert err.strip() == f"linju: job {later} is queued, only a failed job can be retried"

    code, out, _ = await _linju("jobs", "retry", str(held))
    assert (code, out.strip()) == (0, f"job {held}: queued again")
    [row] = await queue.list_jobs(job_id=held)
    assert row.status == "queued"

    code, out, _ = await _linju("worker", "--drain")
    assert code == 0
    assert [j.id for j in await queue.list_jobs() if j.name == "accounts.mail"] == [later]

    code, out, _ = await _linju("jobs", "cancel", str(later))
    assert (code, out.strip()) == (0, f"job {later}: cancelled")
    code, _, err = await _linju("jobs", "cancel", str(later))
    assert code == 2
    assert err.strip() == f"linju: no job {later} is waiting, running or failed"
    code, _, err = await _linju("jobs", "retry", "zero")
    assert code == 2
    assert "'zero' is not a valid integer" in err
