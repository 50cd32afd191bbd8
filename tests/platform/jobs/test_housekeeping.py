"""Housekeeping on both engines (docs/adr/0039-housekeeping.md): what is past its retention is
deleted in batches, what is recent stays, and what must never be pruned stays whatever its age;
the daily schedule runs it through the worker, and `linju housekeeping run` by hand."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest

from linju.payments.tables import ProcessedEvent
from linju.platform.accounts.tables import (
    AuditRecord,
    LoginAttempt,
    PasswordResetRequest,
    PasswordToken,
    SentMail,
    Session,
)
from linju.platform.jobs import queue, schedules
from linju.platform.jobs.housekeeping import HOUSEKEEPING_JOB, run_housekeeping
from linju.platform.jobs.registry import schedules as registered_schedules
from linju.platform.jobs.tables import QueuedJob
from linju.platform.jobs.worker import drain_jobs
from linju.platform.kernel.clock import utc_now
from linju.platform.settings import SettingsError, get_settings, load_settings
from linju.projects.core.tables import Community
from linju.projects.voice.tables import CodeAttempt, HouseholdSession
from tests.accounts_support import make_account
from tests.platform.test_cli import run_linju
from tests.projects.voice.voice_support import community_with_households

DAY = timedelta(days=1)
MAIL_JOB = "accounts.mail"


async def _pg(sql: str, *args: object) -> list[dict[str, object]]:
    from linju.platform.jobs import pgq

    connection = await pgq.connect()
    try:
        return [dict(row) for row in await connection.fetch(sql, *args)]
    finally:
        await connection.close()


def _session(account: int, name: str, expires_in: timedelta) -> Session:
    """A staff session named `name` that expires `expires_in` from now (negative: expired)."""
    now = utc_now()
    return Session(
        token_hash=name.ljust(64, "0"),
        account=account,
        created_at=now - 20 * DAY,
        expires_at=now + expires_in,
    )


async def _seed() -> dict[str, object]:
    """Rows of every kind housekeeping looks at, old and recent, and rows it must never touch,
    all made long ago. The names of the rows that must stay."""
    now = utc_now()
    account = await make_account("hk@example.org")
    [home, _] = await community_with_households("hk-yuan", count=2)

    await Session.insert(
        _session(account, "a-expired", -DAY),
        _session(account, "b-expired", -timedelta(minutes=1)),
        _session(account, "c-live", DAY),
    )
    await LoginAttempt.insert(
        *[LoginAttempt(email="hk@example.org", address="10.0.0.1", at=now - 2 * DAY)] * 3,
        LoginAttempt(email="hk@example.org", address="10.0.0.1", at=now - timedelta(hours=1)),
    )
    await PasswordResetRequest.insert(
        PasswordResetRequest(email="hk@example.org", address="10.0.0.1", at=now - 3 * DAY),
        PasswordResetRequest(email="hk@example.org", address="10.0.0.1", at=now),
    )

    def link(name: str, expired_ago: timedelta) -> PasswordToken:
        return PasswordToken(
            token_hash=name.ljust(64, "0"),
            account=account,
            purpose="reset",
            created_at=now - expired_ago - DAY,
            expires_at=now - expired_ago,
        )

    # LINJU_KEEP_PASSWORD_LINKS is 7 days: expired 8 days ago goes; a day ago or live stays.
    await PasswordToken.insert(link("old", 8 * DAY), link("recent", DAY), link("live", -DAY))

    def phone(name: str, expires: timedelta) -> HouseholdSession:
        return HouseholdSession(
            token_hash=name.ljust(64, "0"),
            household=home,
            created_at=now - 400 * DAY,
            expires_at=now + expires,
        )

    await HouseholdSession.insert(phone("gone", -DAY), phone("kept", 30 * DAY))
    community = (await Community.select(Community.id).first() or {})["id"]
    await CodeAttempt.insert(
        CodeAttempt(community=community, address="10.0.0.2", at=now - 2 * DAY),
        CodeAttempt(community=community, address="10.0.0.2", at=now - timedelta(minutes=5)),
    )
    # Never pruned, however old: audit records, processed payment events (what makes a
    # redelivered webhook a duplicate), the mail sent (what makes a reminder sent once).
    await AuditRecord.update({AuditRecord.at: now - 3650 * DAY}).where(AuditRecord.id > 0)
    await ProcessedEvent.insert(
        ProcessedEvent(
            gateway="stripe",
            event_id="evt_old",
            kind="succeeded",
            donation_id="d-old",
            outcome="applied",
            processed_at=now - 400 * DAY,
        ),
        ProcessedEvent(
            gateway="stripe",
            event_id="evt_new",
            kind="succeeded",
            donation_id="d-new",
            outcome="applied",
            processed_at=now - DAY,
        ),
    )
    await SentMail.insert(
        SentMail(
            message_id="<old@linju>",
            job_key="k",
            recipient="hk@example.org",
            subject="s",
            sent_at=now - 400 * DAY,
        )
    )
    return {"audit": await AuditRecord.count()}


async def _held_long_ago(engine_name: str) -> int:
    """A job that failed for good a year ago, held for `linju jobs retry`."""
    job_id = await queue.enqueue(MAIL_JOB, {"mails": []})
    assert job_id is not None
    year_ago = utc_now() - 365 * DAY
    if engine_name == "sqlite":
        await QueuedJob.update(
            {
                QueuedJob.status: "failed",
                QueuedJob.attempts: 8,
                QueuedJob.last_error: "boom",
                QueuedJob.created_at: year_ago,
                QueuedJob.execute_after: year_ago,
            }
        ).where(QueuedJob.id == job_id)
        return job_id
    await _pg(
        "UPDATE pgqueuer SET status = 'failed', created = $2, updated = $2, execute_after = $2 "
        "WHERE id = $1",
        job_id,
        year_ago,
    )
    await _pg(
        "INSERT INTO pgqueuer_log (job_id, status, entrypoint, priority, traceback, created) "
        "VALUES ($1, 'failed', $2, 0, "
        """'{"exception_type": "RuntimeError", "exception_message": "boom"}'::jsonb, $3)""",
        job_id,
        MAIL_JOB,
        year_ago,
    )
    return job_id


async def test_old_rows_go_in_batches_recent_and_kept_rows_stay(db: str, engine_name: str) -> None:
    if engine_name == "postgres":
        # A finished job's log (successes leave the queue, their log stays): one old, one new.
        # First, as the worker's first tick runs the (due) housekeeping job too.
        for job in ("old", "new"):
            job_id = await queue.enqueue(MAIL_JOB, {"mails": [], "which": job})
            await drain_jobs()
            assert job_id is not None
            assert not await queue.list_jobs(job_id=job_id)
            if job == "old":
                await _pg(
                    "UPDATE pgqueuer_log SET created = now() - interval '15 days' "
                    "WHERE job_id = $1",
                    job_id,
                )
        await _pg("DELETE FROM pgqueuer_statistics")
        await _pg(
            "INSERT INTO pgqueuer_statistics (count, created, priority, status, entrypoint) "
            "VALUES (1, now() - interval '15 days', 0, 'successful', 'a'), "
            "(2, now() - interval '15 days', 0, 'successful', 'b'), "
            "(3, now() - interval '13 days', 0, 'successful', 'c')"
        )
    kept = await _seed()
    held = await _held_long_ago(engine_name)
    if engine_name == "postgres":
        old_log = (
            await _pg(
                "SELECT count(*) AS n FROM pgqueuer_log WHERE created < now() - interval '14 days'"
            )
        )[0]["n"]
        assert old_log == 4  # the finished job's queued, picked, successful; the held job's

    counts = await run_housekeeping(batch=2)  # several batches for the login attempts

    assert counts == {
        "job log": 3 if engine_name == "postgres" else 0,
        "job statistics": 2 if engine_name == "postgres" else 0,
        "sessions": 2,
        "login attempts": 3,
        "password reset requests": 1,
        "password links": 1,
        "household sessions": 1,
        "household code attempts": 1,
    }
    assert [r["token_hash"][:6] for r in await Session.select(Session.token_hash)] == ["c-live"]
    assert await LoginAttempt.count() == 1
    assert await PasswordResetRequest.count() == 1
    links = {r["token_hash"].rstrip("0") for r in await PasswordToken.select()}
    assert links == {"recent", "live"}
    assert [r["token_hash"].rstrip("0") for r in await HouseholdSession.select()] == ["kept"]
    assert await CodeAttempt.count() == 1
    assert await AuditRecord.count() == kept["audit"]
    assert await ProcessedEvent.count() == 2
    assert await SentMail.count() == 1
    [held_job] = await queue.list_jobs(job_id=held)
    assert held_job.status == "failed"
    assert "boom" in held_job.last_error  # on PostgreSQL read from the log, whose rows stayed
    if engine_name == "postgres":
        left = await _pg("SELECT count FROM pgqueuer_statistics")
        assert [r["count"] for r in left] == [3]
        assert (
            await _pg(
                "SELECT count(*) AS n FROM pgqueuer_log WHERE created < now() - interval '14 days'"
            )
        )[0]["n"] == 1

    # Run again: nothing more to delete.
    assert set((await run_housekeeping()).values()) == {0}


async def test_the_daily_schedule_runs_it_through_the_worker(db: str) -> None:
    [schedule] = [s for s in registered_schedules() if s.name == HOUSEKEEPING_JOB]
    assert schedule.every(get_settings()) == DAY
    account = await make_account("daily@example.org")
    await Session.insert(_session(account, "expired", -16 * DAY))
    assert HOUSEKEEPING_JOB in await schedules.tick()
    await drain_jobs()
    assert await Session.count() == 0
    assert HOUSEKEEPING_JOB not in await schedules.tick()  # not due again for a day


def test_the_retention_settings() -> None:
    default = load_settings()
    assert (default.housekeeping_every, default.keep_job_log, default.keep_password_links) == (
        DAY,
        14 * DAY,
        7 * DAY,
    )
    saved = dict(os.environ)
    try:
        os.environ.update(
            LINJU_HOUSEKEEPING_EVERY="off",
            LINJU_KEEP_JOB_LOG="30d",
            LINJU_KEEP_PASSWORD_LINKS="off",
        )
        custom = load_settings()
        assert (custom.housekeeping_every, custom.keep_job_log, custom.keep_password_links) == (
            None,
            30 * DAY,
            None,
        )
        os.environ["LINJU_KEEP_JOB_LOG"] = "two weeks"
        with pytest.raises(SettingsError, match=r"^LINJU_KEEP_JOB_LOG: "):
            load_settings()
    finally:
        os.environ.clear()
        os.environ.update(saved)


async def test_the_command_prints_one_line_of_counts(db: str) -> None:
    account = await make_account("cli@example.org")
    await Session.insert(
        _session(account, "expired", -16 * DAY),
        _session(account, "live", DAY),
    )
    result = run_linju("housekeeping", "run", "--batch", "1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "housekeeping: deleted job log 0, job statistics 0, sessions 1, login attempts 0, "
        "password reset requests 0, password links 0, household sessions 0, "
        "household code attempts 0"
    ]
    assert await Session.count() == 1

    for args, env, named in [
        (["--batch", "0"], {}, "--batch"),
        (["--batch", "many"], {}, "--batch"),
        ([], {"LINJU_KEEP_JOB_LOG": "forever"}, "LINJU_KEEP_JOB_LOG"),
    ]:
        refused = run_linju("housekeeping", "run", *args, env=env)
        assert refused.returncode == 2, refused.stdout
        assert len(refused.stderr.strip().splitlines()) == 1
        assert refused.stderr.startswith("linju: ")
        assert named in refused.stderr
        assert refused.stdout == ""
    assert await Session.count() == 1
