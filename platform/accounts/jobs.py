"""The accounts area's jobs and housekeeping pruners, registered by the composition root
(`linju.platform.app.wire`)."""

from __future__ import annotations

from linju.platform.accounts.login import (
    PASSWORD_MAIL_JOB,
    password_mail_job,
    prune_login_attempts,
    prune_password_links,
    prune_reset_requests,
)
from linju.platform.accounts.outbox import MAIL_JOB, mail_job
from linju.platform.accounts.sessions import prune_expired_sessions
from linju.platform.jobs.housekeeping import Pruner, register_pruner
from linju.platform.jobs.registry import JobKind, register


def register_jobs() -> None:
    register(JobKind(MAIL_JOB, mail_job))
    register(JobKind(PASSWORD_MAIL_JOB, password_mail_job))


def register_pruners() -> None:
    """What housekeeping deletes of the accounts' tables (docs/adr/0039-housekeeping.md). Never
    accounts, roles, audit records, nor `sent_mail` (what makes a mail sent once)."""
    register_pruner(Pruner("sessions", prune_expired_sessions))
    register_pruner(Pruner("login attempts", prune_login_attempts))
    register_pruner(Pruner("password reset requests", prune_reset_requests))
    register_pruner(Pruner("password links", prune_password_links))
