"""The accounts area's jobs, registered by the composition root (`linju.platform.app.wire`)."""

from __future__ import annotations

from linju.platform.accounts.login import PASSWORD_MAIL_JOB, password_mail_job
from linju.platform.accounts.outbox import MAIL_JOB, mail_job
from linju.platform.jobs.registry import JobKind, register


def register_jobs() -> None:
    register(JobKind(MAIL_JOB, mail_job))
    register(JobKind(PASSWORD_MAIL_JOB, password_mail_job))
