"""The CSRF token changes at login and at logout: a form token seen before is refused after,
and every page's forms, submitted as rendered, go on working."""

from __future__ import annotations

from typing import Any

from linju.platform.accounts.sessions import SESSION_COOKIE
from tests.accounts_support import PASSWORD, csrf_token, make_account
from tests.forms import submit, submit_shown

Client = Any
CSRF_COOKIE = "linju_csrf"


async def test_a_token_from_before_login_is_refused_after_it(client: Client) -> None:
    await make_account("a@example.cn", client=client)
    shown = await client.get("/login")
    before = csrf_token(shown.text)

    logged_in = await submit_shown(
        client, shown.text, "/login", {"email": "a@example.cn", "password": PASSWORD}, page="/login"
    )
    assert logged_in.status_code == 303
    cleared = [
        value for key, value in logged_in.headers.multi_items()
        if key == "set-cookie" and value.startswith(f"{CSRF_COOKIE}=")
    ]  # fmt: skip
    assert cleared, "the login does not touch the CSRF cookie"
    assert client.cookies.get(CSRF_COOKIE) is None

    account_page = await client.get("/account")
    after = csrf_token(account_page.text)
    assert after != before
    assert client.cookies.get(CSRF_COOKIE) == after
    # The old token no longer passes, on any form...
    forged = await client.post("/logout", data={"_csrf_token": before}, follow_redirects=False)
    assert forged.status_code == 403
    forged = await client.post(
        "/account/password",
        data={"_csrf_token": before, "current": PASSWORD, "new": "a new long password"},
        follow_redirects=False,
    )
    assert forged.status_code == 403
    # ...while the forms as the pages now render them work.
    changed = await submit(
        client, "/account", "/account/password", {"current": PASSWORD, "new": "a new password!"}
    )
    assert changed.status_code == 303


async def test_a_token_from_before_logout_is_refused_after_it(client: Client) -> None:
    await make_account("a@example.cn", client=client)
    logged_in = await submit(
        client, "/login", "/login", {"email": "a@example.cn", "password": PASSWORD}
    )
    assert logged_in.status_code == 303
    shown = await client.get("/account")
    before = csrf_token(shown.text)

    logged_out = await submit_shown(client, shown.text, "/logout", page="/account")
    assert logged_out.status_code == 303
    assert client.cookies.get(SESSION_COOKIE) is None
    assert client.cookies.get(CSRF_COOKIE) is None

    login_page = await client.get("/login")
    assert csrf_token(login_page.text) != before
    forged = await client.post(
        "/login",
        data={"_csrf_token": before, "email": "a@example.cn", "password": PASSWORD},
        follow_redirects=False,
    )
    assert forged.status_code == 403
    again = await submit_shown(
        client,
        login_page.text,
        "/login",
        {"email": "a@example.cn", "password": PASSWORD},
        page="/login",
    )
    assert again.status_code == 303


async def test_a_refused_login_keeps_the_token_so_the_form_can_be_sent_again(
    client: Client,
) -> None:
    await make_account("a@example.cn", client=client)
    shown = await client.get("/login")
    refused = await submit_shown(
        client, shown.text, "/login", {"email": "a@example.cn", "password": "wrong one!"},
        page="/login",
    )  # fmt: skip
    assert refused.status_code == 422
    assert csrf_token(refused.text) == csrf_token(shown.text)
    accepted = await submit_shown(
        client, refused.text, "/login", {"email": "a@example.cn", "password": PASSWORD},
        page="/login",
    )  # fmt: skip
    assert accepted.status_code == 303
