"""The other doors to a password: the current password on /account/password is throttled like a
login."""

from __future__ import annotations

from typing import Any

from linju.platform.accounts.login import MAX_FAILURES_PER_ACCOUNT, MAX_FAILURES_PER_ADDRESS
from linju.platform.accounts.tables import Account, LoginAttempt
from tests.accounts_support import PASSWORD, in_app, log_in, log_in_with_form, make_account
from tests.forms import assert_form_refused, submit

Client = Any
THROTTLED = "登录失败次数过多，请 15 分钟后再试"
NEW_PASSWORD = "a brand new password"


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
