"""The other doors to a password: the current password on /account/password is throttled like a
login, and reset mail is throttled per e-mail and per address without telling anyone whether an
account exists or whether the request was throttled."""

from __future__ import annotations

import email
import re
from pathlib import Path
from typing import Any

import pytest

from linju.platform.accounts.login import (
    MAX_FAILURES_PER_ACCOUNT,
    MAX_FAILURES_PER_ADDRESS,
    MAX_RESETS_PER_ADDRESS,
    MAX_RESETS_PER_EMAIL,
    PASSWORD_MAIL_JOB,
    password_mail_job,
)
from linju.platform.accounts.sessions import token_digest
from linju.platform.accounts.tables import (
    Account,
    LoginAttempt,
    PasswordResetRequest,
    PasswordToken,
    SentMail,
)
from linju.platform.jobs import queue
from linju.platform.jobs.registry import JobContext
from linju.platform.jobs.worker import drain_jobs
from linju.platform.settings import get_settings
from tests.accounts_support import PASSWORD, in_app, log_in, log_in_with_form, make_account
from tests.forms import assert_form_refused, submit

Client = Any
THROTTLED = "登录失败次数过多，请 15 分钟后再试"
NEW_PASSWORD = "a brand new password"
_CSRF = re.compile(r'name="_csrf_token" value="[^"]*"')


@pytest.fixture
def mail_dir() -> Path:
    folder = get_settings().var_dir / "mail"
    for old in folder.glob("*.eml"):
        old.unlink()
    return folder


def _links(folder: Path) -> list[tuple[str, str]]:
    """(recipient, token) of every mailed password link, oldest first."""
    found = []
    for path in sorted(folder.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes())
        body = message.get_payload(decode=True)
        assert isinstance(body, bytes)
        match = re.search(r"/password/reset/([A-Za-z0-9_-]+)", body.decode("utf-8"))
        assert match, "a mail without a link"
        found.append((str(message["To"]), match.group(1)))
    return found


async def _change(client: Client, current: str) -> Any:
    return await submit(
        client, "/account", "/account/password", {"current": current, "new": NEW_PASSWORD}
    )


async def _password_hash(client: Client, account_id: int) -> str:
    row = await in_app(
        client,
        lambda: Account.select(Account.password_hash).where(Account.id == account_id).first().run(),
    )
    assert row is not None
    return str(row["password_hash"])


# The current password on /account/password --------------------------------------------------------


async def test_the_current_password_is_throttled_like_a_login(client: Client) -> None:
    account = await make_account("a@example.cn", client=client)
    await log_in(client, account)
    before = await _password_hash(client, account)
    for _ in range(MAX_FAILURES_PER_ACCOUNT):
        wrong = await _change(client, "not my password")
        assert_form_refused(wrong, "当前密码不正确", status=422)

    refused = await _change(client, PASSWORD)  # even the right one, until the window passes
    assert_form_refused(refused, THROTTLED, status=429)
    assert await _password_hash(client, account) == before
    assert await in_app(client, lambda: LoginAttempt.count().run()) == MAX_FAILURES_PER_ACCOUNT
    # The checks count against the account as logins do: the login form says the same.
    client.cookies.clear()
    login = await log_in_with_form(client, "a@example.cn")
    assert_form_refused(login, THROTTLED, status=429)


async def test_the_current_password_is_throttled_per_address(client: Client) -> None:
    account = await make_account("a@example.cn", client=client)
    for number in range(MAX_FAILURES_PER_ADDRESS):
        wrong = await log_in_with_form(client, f"nobody{number}@example.cn", "not a password")
        assert wrong.status_code == 422
    await log_in(client, account)
    refused = await _change(client, PASSWORD)
    assert_form_refused(refused, THROTTLED, status=429)


async def test_a_right_current_password_changes_it_and_ends_the_failures(client: Client) -> None:
    account = await make_account("a@example.cn", client=client)
    await log_in(client, account)
    for _ in range(MAX_FAILURES_PER_ACCOUNT - 1):
        assert (await _change(client, "not my password")).status_code == 422
    changed = await _change(client, PASSWORD)
    assert changed.status_code == 303
    # A success starts the count again: four more wrong ones are still checked.
    for _ in range(MAX_FAILURES_PER_ACCOUNT - 1):
        assert (await _change(client, "not my password")).status_code == 422
    client.cookies.clear()
    assert (await log_in_with_form(client, "a@example.cn", NEW_PASSWORD)).status_code == 303


# Reset mail ---------------------------------------------------------------------------------------


async def _ask_reset(client: Client, address: str) -> Any:
    answer = await submit(client, "/password/forgot", "/password/forgot", {"email": address})
    assert answer.status_code == 200, answer.text[:300]
    return answer


async def _reset_jobs(client: Client) -> int:
    jobs = await in_app(client, queue.list_jobs)
    return sum(job.name == PASSWORD_MAIL_JOB for job in jobs)


async def test_reset_mail_is_throttled_per_email_and_says_the_same(
    client: Client, mail_dir: Path
) -> None:
    await make_account("a@example.cn", client=client)
    answers = [await _ask_reset(client, "A@example.cn") for _ in range(40)]

    assert await _reset_jobs(client) == MAX_RESETS_PER_EMAIL
    pages = {_CSRF.sub("", answer.text) for answer in answers}
    assert len(pages) == 1, "a throttled request answers differently"
    await in_app(client, drain_jobs)
    links = _links(mail_dir)
    assert [to for to, _ in links] == ["a@example.cn"] * MAX_RESETS_PER_EMAIL
    assert len({token for _, token in links}) == MAX_RESETS_PER_EMAIL


async def test_reset_mail_is_throttled_per_address(client: Client) -> None:
    for number in range(40):
        await _ask_reset(client, f"person{number}@example.cn")
    assert await _reset_jobs(client) == MAX_RESETS_PER_ADDRESS
    assert await in_app(client, lambda: PasswordResetRequest.count().run()) == (
        MAX_RESETS_PER_ADDRESS
    )


async def test_a_known_and_an_unknown_email_take_the_same_path(
    client: Client, mail_dir: Path
) -> None:
    await make_account("known@example.cn", client=client)
    known = await _ask_reset(client, "known@example.cn")
    unknown = await _ask_reset(client, "unknown@example.cn")

    assert _CSRF.sub("", known.text) == _CSRF.sub("", unknown.text)
    # The requests wrote the same things: a request row and a queued job each, no token.
    jobs = await in_app(client, queue.list_jobs)
    assert [job.name for job in jobs] == [PASSWORD_MAIL_JOB, PASSWORD_MAIL_JOB]
    assert await in_app(client, lambda: PasswordResetRequest.count().run()) == 2
    assert await in_app(client, lambda: PasswordToken.count().run()) == 0

    await in_app(client, drain_jobs)
    [(to, token)] = _links(mail_dir)
    assert to == "known@example.cn"
    assert await in_app(client, lambda: PasswordToken.count().run()) == 1
    assert await in_app(client, queue.list_jobs) == []
    path = f"/password/reset/{token}"
    done = await submit(client, path, path, {"new": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 303
    assert (await log_in_with_form(client, "known@example.cn", NEW_PASSWORD)).status_code == 303


async def test_an_inactive_account_gets_no_reset_mail(client: Client, mail_dir: Path) -> None:
    account = await make_account("gone@example.cn", client=client)
    await in_app(
        client,
        lambda: Account.update({Account.is_active: False}).where(Account.id == account).run(),
    )
    await _ask_reset(client, "gone@example.cn")
    assert await _reset_jobs(client) == 1
    await in_app(client, drain_jobs)
    assert _links(mail_dir) == []
    assert await in_app(client, lambda: PasswordToken.count().run()) == 0


async def test_every_attempt_of_a_reset_job_mails_the_same_link(db: str, mail_dir: Path) -> None:
    await make_account("a@example.cn")
    args = {"to": "a@example.cn", "purpose": "reset", "locale": "zh_CN"}
    key = "0123456789abcdef0123456789abcdef"
    await password_mail_job(args, JobContext(job_id=1, key=key, attempt=0))
    # The worker died after the send and before recording it: the retry sends again.
    await SentMail.delete(force=True)
    await password_mail_job(args, JobContext(job_id=1, key=key, attempt=1))

    (_, first), (_, second) = _links(mail_dir)
    assert first == second
    [stored] = await PasswordToken.select(PasswordToken.token_hash, PasswordToken.purpose)
    assert stored == {"token_hash": token_digest(first), "purpose": "reset"}
    # Another job (another request) mails another link.
    await password_mail_job(args, JobContext(job_id=2, key="f" * 32, attempt=0))
    assert _links(mail_dir)[-1][1] != first
