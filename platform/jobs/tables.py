"""The embedded queue's table (SQLite only) and the schedules' table (both engines).

On PostgreSQL jobs live in pgqueuer's own tables (installed by `linju migrate`); `linju_job`
exists there too, empty, because Piccolo's migrations are the same on both engines.
"""

from __future__ import annotations

from piccolo.columns import Integer, Serial, Text, Timestamptz, Varchar
from piccolo.table import Table


class QueuedJob(Table, tablename="linju_job"):
    """One job of the embedded runner: queued, picked (running) or failed (held).

    A job that succeeds or is cancelled leaves the table, as it leaves pgqueuer's queue.
    """

    id = Serial(primary_key=True)
    name = Varchar(length=100)
    payload = Text()  # JSON: {"key": ..., "args": {...}}
    status = Varchar(length=16, index=True)  # queued | picked | failed
    attempts = Integer(default=0)  # failures so far
    execute_after = Timestamptz(index=True)
    heartbeat = Timestamptz(null=True, default=None)
    dedupe_key = Varchar(length=200, null=True, default=None, index=True)
    last_error = Text(default="")
    created_at = Timestamptz()


class JobSchedule(Table, tablename="linju_job_schedule"):
    """When a scheduled job is next due; the one UPDATE that moves it on enqueues the job."""

    id = Serial(primary_key=True)
    name = Varchar(length=100, unique=True)
    next_run_at = Timestamptz()
