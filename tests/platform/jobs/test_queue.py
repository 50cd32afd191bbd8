"""The job queue on both engines: enqueued with the change, retried with backoff, held as
failed, retried or cancelled by hand, run once."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from linju.platform.db import write_transaction
from linju.platform.jobs import queue, registry
from linju.platform.jobs.registry import JobContext, JobKind
from linju.platform.jobs.worker import drain_jobs

RUNS: list[tuple[str, dict[str, Any], JobContext]] = []
FAILURES_LEFT: dict[str, int] = {}


async def _record(args: dict[str, Any], ctx: JobContext) -> None:
    RUNS.append(("record", args, ctx))


async def _flaky(args: dict[str, Any], ctx: JobContext) -> None:
    RUNS.append(("flaky", args, ctx))
    left = FAILURES_LEFT.get(args["name"], 0)
    if left:
        FAILURES_LEFT[args["name"]] = left - 1
        raise RuntimeError(f"not yet ({left} to go)")


RECORD = JobKind("test.record", _record)
FLAKY = JobKind(
    "test.flaky",
    _flaky,
    max_attempts=3,
    first_retry=timedelta(milliseconds=1),
    max_retry=timedelta(milliseconds=1),
)


@pytest.fixture(autouse=True)
def kinds() -> None:
    registry.register(RECORD)
    registry.register(FLAKY)
    RUNS.clear()
    FAILURES_LEFT.clear()


async def _drain_until_quiet() -> None:
    """Run what is due, again after the (one-millisecond) backoffs, until nothing is queued."""
    for _ in range(10):
        await drain_jobs()
        if not await queue.list_jobs("queued"):
            return
        await asyncio.sleep(0.05)


async def test_a_job_commits_with_its_change_and_runs_once(db: str) -> None:
    async with write_transaction():
        job_id = await queue.enqueue("test.record", {"n": 1})
    assert job_id is not None
    [row] = await queue.list_jobs()
    assert (row.id, row.name, row.status, row.attempts) == (job_id, "test.record", "queued", 0)
    await drain_jobs()
    await drain_jobs()
    assert [(name, args) for name, args, _ in RUNS] == [("record", {"n": 1})]
    assert RUNS[0][2].job_id == job_id
    assert len(RUNS[0][2].key) == 32
    assert await queue.list_jobs() == []


async def test_a_job_rolled_back_with_its_change_never_runs(db: str) -> None:
    class Refused(Exception):
        pass

    async def change_then_refuse() -> None:
        async with write_transaction():
            await queue.enqueue("test.record", {"n": 2})
            raise Refused

    with pytest.raises(Refused):
        await change_then_refuse()
    assert await queue.list_jobs() == []
    await drain_jobs()
    assert RUNS == []


async def test_a_failing_job_is_retried_with_backoff_then_succeeds(db: str) -> None:
    FAILURES_LEFT["a"] = 2
    await queue.enqueue("test.flaky", {"name": "a"})
    await _drain_until_quiet()
    assert [ctx.attempt for _, _, ctx in RUNS] == [0, 1, 2]
    assert [ctx.final for _, _, ctx in RUNS] == [False, False, True]
    assert len({ctx.key for _, _, ctx in RUNS}) == 1  # one job, one key, every attempt
    assert await queue.list_jobs() == []


async def test_a_job_failing_every_attempt_is_held_failed_then_retried_by_hand(db: str) -> None:
    FAILURES_LEFT["b"] = 5
    job_id = await queue.enqueue("test.flaky", {"name": "b"})
    assert job_id is not None
    await _drain_until_quiet()
    assert len(RUNS) == 3  # max_attempts
    [held] = await queue.list_jobs()
    assert held.status == "failed"
    assert "not yet" in held.last_error
    await drain_jobs()
    assert len(RUNS) == 3  # a failed job is not run again by itself

    FAILURES_LEFT["b"] = 0
    await queue.retry_job(job_id)
    [again] = await queue.list_jobs()
    assert again.status == "queued"
    await _drain_until_quiet()
    assert len(RUNS) == 4
    assert await queue.list_jobs() == []


async def test_cancel_drops_a_waiting_job_and_refuses_what_is_not_there(db: str) -> None:
    job_id = await queue.enqueue("test.record", {"n": 3}, delay=timedelta(hours=1))
    assert job_id is not None
    await drain_jobs()
    assert RUNS == []  # not due yet
    with pytest.raises(queue.JobStateError):
        await queue.retry_job(job_id)  # only a failed job can be retried
    await queue.cancel_job(job_id)
    assert await queue.list_jobs() == []
    with pytest.raises(queue.JobNotFound):
        await queue.cancel_job(job_id)


async def test_the_same_dedupe_key_is_queued_once_while_it_waits(db: str) -> None:
    first = await queue.enqueue("test.record", {"n": 4}, dedupe_key="once")
    second = await queue.enqueue("test.record", {"n": 5}, dedupe_key="once")
    assert first is not None
    assert second is None
    await drain_jobs()
    assert [args for _, args, _ in RUNS] == [{"n": 4}]
    assert await queue.enqueue("test.record", {"n": 6}, dedupe_key="once") is not None


async def test_an_unregistered_job_is_refused_at_enqueue(db: str) -> None:
    with pytest.raises(registry.UnknownJob):
        await queue.enqueue("test.nobody", {})
