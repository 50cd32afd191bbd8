"""`linju worker`, `linju jobs list|retry|cancel` and `linju housekeeping run`."""

from __future__ import annotations

from datetime import timedelta

import click

from linju.platform.commands import fail, run_async
from linju.platform.jobs import housekeeping as housekeeping_runs
from linju.platform.jobs import queue
from linju.platform.jobs.worker import STALE_AFTER, run_worker
from linju.platform.migrate import prepare_database

STATUSES = ("queued", "picked", "failed")


@click.command()
@click.option("--drain", is_flag=True, help="Run the jobs that are due now, then stop.")
@click.option(
    "--stale-after",
    type=click.FloatRange(min=0.1),
    default=STALE_AFTER.total_seconds(),
    show_default=True,
    help="Seconds without a heartbeat after which a running job is run again elsewhere.",
)
def worker(drain: bool, stale_after: float) -> None:
    """Run background jobs (mail, expiring checkouts, reconciliation) until stopped."""

    async def go() -> None:
        await prepare_database()
        await run_worker(drain=drain, stale_after=timedelta(seconds=stale_after))

    run_async(go)


@click.group()
def jobs() -> None:
    """Look at the job queue; retry or cancel a job."""


@jobs.command("list")
@click.option("--status", type=click.Choice(STATUSES), default=None)
def list_command(status: str | None) -> None:
    """Jobs waiting, running or held as failed: id, status, attempts, due, name, last error."""

    async def go() -> list[queue.JobRow]:
        await prepare_database()
        return await queue.list_jobs(status)

    rows = run_async(go)
    for row in rows:
        due = row.execute_after.isoformat(timespec="seconds")
        error = f"  {row.last_error.splitlines()[0]}" if row.last_error else ""
        click.echo(f"{row.id}\t{row.status}\t{row.attempts}\t{due}\t{row.name}{error}")
    if not rows:
        click.echo("jobs: none waiting, running or failed")


def _by_id(action: str, job_id: int) -> None:
    async def go() -> None:
        await prepare_database()
        await (queue.retry_job(job_id) if action == "retry" else queue.cancel_job(job_id))

    try:
        run_async(go)
    except queue.JobNotFound:
        fail(f"no job {job_id} is waiting, running or failed")
    except queue.JobStateError as exc:
        fail(str(exc))
    click.echo(f"job {job_id}: {'queued again' if action == 'retry' else 'cancelled'}")


@jobs.command()
@click.argument("job_id", type=click.IntRange(min=1))
def retry(job_id: int) -> None:
    """Queue a failed job again, due now."""
    _by_id("retry", job_id)


@jobs.command()
@click.argument("job_id", type=click.IntRange(min=1))
def cancel(job_id: int) -> None:
    """Drop a waiting or failed job."""
    _by_id("cancel", job_id)


@click.group()
def housekeeping() -> None:
    """Delete what is of no further use (docs/adr/0039-housekeeping.md)."""


@housekeeping.command("run")
@click.option(
    "--batch",
    type=click.IntRange(min=1, max=100_000),
    default=housekeeping_runs.BATCH,
    show_default=True,
    help="Rows deleted per statement, each in its own short transaction.",
)
def run_command(batch: int) -> None:
    """Run the daily housekeeping job now; print one line of counts."""

    async def go() -> dict[str, int]:
        await prepare_database()
        return await housekeeping_runs.run_housekeeping(batch)

    click.echo(housekeeping_runs.counts_line(run_async(go)))
