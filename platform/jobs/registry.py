"""The kinds of job the areas run, and the schedules that enqueue some of them by time.

The shell imports no area: each area registers its job functions from the composition root
(`linju.platform.app.wire`), and the workers run whatever is registered here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from linju.platform.settings import Settings


@dataclass(frozen=True, slots=True)
class JobContext:
    """What a running job knows of itself.

    `key` is the job's own random identity, fixed when it is enqueued and the same on every
    attempt: a job that sends mail derives each message's Message-ID from it.
    """

    job_id: int
    key: str
    attempt: int  # 0 on the first run
    final: bool = False  # no retry follows if this attempt fails: it will be held as failed


JobFunction = Callable[[dict[str, Any], JobContext], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class JobKind:
    name: str
    run: JobFunction
    max_attempts: int = 8  # after this many failures the job is held as failed
    first_retry: timedelta = timedelta(seconds=10)  # doubled after each failure
    max_retry: timedelta = timedelta(hours=1)

    def retry_delay(self, failures: int) -> timedelta:
        """How long to wait after the `failures`-th failure (1-based) before the next attempt."""
        delay: timedelta = self.first_retry * (2 ** max(failures - 1, 0))
        return min(delay, self.max_retry)


@dataclass(frozen=True, slots=True)
class Schedule:
    """Enqueue job `name` every `every(settings)` (None: this schedule is off)."""

    name: str
    every: Callable[[Settings], timedelta | None]


_kinds: dict[str, JobKind] = {}
_schedules: dict[str, Schedule] = {}


class UnknownJob(KeyError):
    pass


def register(kind: JobKind) -> None:
    """Idempotent for the same function; a second function under one name is a programming
    error."""
    known = _kinds.get(kind.name)
    if known is not None and known.run is not kind.run:
        raise RuntimeError(f"two job functions are registered as {kind.name!r}")
    _kinds[kind.name] = kind


def register_schedule(schedule: Schedule) -> None:
    if schedule.name not in _kinds:
        raise UnknownJob(schedule.name)
    _schedules[schedule.name] = schedule


def kind(name: str) -> JobKind:
    try:
        return _kinds[name]
    except KeyError:
        raise UnknownJob(name) from None


def kinds() -> list[JobKind]:
    return list(_kinds.values())


def schedules() -> list[Schedule]:
    return list(_schedules.values())
