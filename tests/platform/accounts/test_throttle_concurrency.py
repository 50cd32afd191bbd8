"""Throttling holds when the requests arrive together: many password checks or reset requests at
once, each on its own connection (a pool on PostgreSQL; SQLite opens one per transaction), and
only the limit's worth get through.

Every password check leaves a `login_attempt` row, written before the password is verified, so
the rows count the checks made; the outcomes say the same from the caller's side (a wrong
password is only ever reported after the check).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from linju.platform.accounts.login import (
    MAX_FAILURES_PER_ACCOUNT,
    MAX_FAILURES_PER_ADDRESS,
    MAX_RESETS_PER_ADDRESS,
    MAX_RESETS_PER_EMAIL,
    PASSWORD_MAIL_JOB,
    BadCredentials,
    LoginThrottled,
    authenticate,
    request_password_reset,
)
from linju.platform.accounts.tables import LoginAttempt, PasswordResetRequest
from linju.platform.db import close_pool, start_pool
from linju.platform.jobs import queue
from tests.accounts_support import PASSWORD, make_account

ADDRESS = "203.0.113.7"


@pytest.fixture
async def pool(db: str) -> AsyncIterator[None]:
    """On PostgreSQL a pool on this test's loop, so the calls below run on many connections at
    once and only the database's locks keep them in order."""
    created = await start_pool(max_size=20)
    try:
        yield
    finally:
        if created:
            await close_pool()


async def _together(calls: list[Callable[[], Awaitable[object]]]) -> list[object]:
    """Start every call at the same moment; each one's result or the exception it raised."""
    start = asyncio.Event()

    async def run(call: Callable[[], Awaitable[object]]) -> object:
        await start.wait()
        try:
            return await call()
        except (BadCredentials, LoginThrottled) as refused:
            return refused

    tasks = [asyncio.create_task(run(call)) for call in calls]
    await asyncio.sleep(0)
    start.set()
    return list(await asyncio.gather(*tasks))


def _kinds(outcomes: list[object]) -> dict[str, int]:
    counted: dict[str, int] = {}
    for outcome in outcomes:
        name = type(outcome).__name__
        counted[name] = counted.get(name, 0) + 1
    return counted


@pytest.mark.usefixtures("pool")
async def test_50_wrong_passwords_at_once_for_one_email_check_5() -> None:
    await make_account("target@example.cn")

    def wrong(number: int) -> Callable[[], Awaitable[object]]:
        return lambda: authenticate("target@example.cn", f"guess number {number}", ADDRESS)

    outcomes = await _together([wrong(number) for number in range(50)])

    assert _kinds(outcomes) == {
        "BadCredentials": MAX_FAILURES_PER_ACCOUNT,
        "LoginThrottled": 50 - MAX_FAILURES_PER_ACCOUNT,
    }
    checked = await LoginAttempt.count().where(LoginAttempt.email == "target@example.cn")
    assert checked == MAX_FAILURES_PER_ACCOUNT
    # The right password is refused too until the window passes: the account is throttled.
    with pytest.raises(LoginThrottled):
        await authenticate("target@example.cn", PASSWORD, "198.51.100.1")


@pytest.mark.usefixtures("pool")
async def test_50_wrong_passwords_at_once_from_one_address_check_20() -> None:
    def wrong(number: int) -> Callable[[], Awaitable[object]]:
        return lambda: authenticate(f"person{number}@example.cn", "not the password", ADDRESS)

    outcomes = await _together([wrong(number) for number in range(50)])

    assert _kinds(outcomes) == {
        "BadCredentials": MAX_FAILURES_PER_ADDRESS,
        "LoginThrottled": 50 - MAX_FAILURES_PER_ADDRESS,
    }
    assert await LoginAttempt.count().where(LoginAttempt.address == ADDRESS) == (
        MAX_FAILURES_PER_ADDRESS
    )


@pytest.mark.usefixtures("pool")
async def test_40_reset_requests_at_once_for_one_email_queue_3_mails() -> None:
    await make_account("target@example.cn")

    def ask(number: int) -> Callable[[], Awaitable[object]]:
        return lambda: request_password_reset("target@example.cn", f"198.51.100.{number}", "zh_CN")

    outcomes = await _together([ask(number) for number in range(40)])

    assert outcomes == [None] * 40  # every request answers the same
    jobs = [job for job in await queue.list_jobs() if job.name == PASSWORD_MAIL_JOB]
    assert len(jobs) == MAX_RESETS_PER_EMAIL
    assert await PasswordResetRequest.count() == MAX_RESETS_PER_EMAIL


@pytest.mark.usefixtures("pool")
async def test_40_reset_requests_at_once_from_one_address_queue_10_mails() -> None:
    def ask(number: int) -> Callable[[], Awaitable[object]]:
        return lambda: request_password_reset(f"person{number}@example.cn", ADDRESS, "zh_CN")

    await _together([ask(number) for number in range(40)])

    jobs = [job for job in await queue.list_jobs() if job.name == PASSWORD_MAIL_JOB]
    assert len(jobs) == MAX_RESETS_PER_ADDRESS
