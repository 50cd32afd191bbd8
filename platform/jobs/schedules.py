"""Scheduled jobs: each worker ticks; the one UPDATE that moves a schedule on enqueues its job.

Several workers ticking at once enqueue a due job once: the schedule's row moves on only where
`next_run_at` is still due, and on PostgreSQL the second writer re-reads the row after the
first commits and finds it no longer due; SQLite serialises the writers outright.
"""

from __future__ import annotations

from linju.platform.db import write_transaction
from linju.platform.jobs.queue import enqueue
from linju.platform.jobs.registry import schedules
from linju.platform.jobs.tables import JobSchedule
from linju.platform.kernel.clock import utc_now
from linju.platform.settings import get_settings


async def tick() -> list[str]:
    """Enqueue every scheduled job that is due; the names enqueued."""
    settings = get_settings()
    enqueued: list[str] = []
    for schedule in schedules():
        every = schedule.every(settings)
        if every is None:
            continue
        async with write_transaction():
            now = utc_now()
            await JobSchedule.insert(JobSchedule(name=schedule.name, next_run_at=now)).on_conflict(
                target=JobSchedule.name, action="DO NOTHING"
            )
            moved = await (
                JobSchedule.update({JobSchedule.next_run_at: now + every})
                .where((JobSchedule.name == schedule.name) & (JobSchedule.next_run_at <= now))
                .returning(JobSchedule.id)
            )
            if moved:
                # One waiting run is enough: a long outage does not pile up copies.
                await enqueue(schedule.name, {}, dedupe_key=f"schedule:{schedule.name}")
                enqueued.append(schedule.name)
    return enqueued
