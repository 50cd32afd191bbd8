"""Helpers for tests that need people with roles (docs/adr/0006-accounts.md, "In tests").

`make_account` creates an account with one role straight through the service; `log_in` sets a
fresh session cookie on a test client without going through the login form (fast: no argon2
verify); `log_in_with_form` goes through the real form as the page renders it (tests/forms.py),
CSRF token included, and `log_in_with_browser` through it in a browser; `csrf_token` reads a
page's token for a post that is not a page's form, and `csrf_header` gives a logged-in client
the header its API writes must carry.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from linju.platform.accounts.audit import COMMAND_LINE
from linju.platform.accounts.services import NewAccount, Role, create_account
from linju.platform.accounts.sessions import SESSION_COOKIE, start_session
from tests.browser_fixtures import submit_on
from tests.forms import submit

T = TypeVar("T")
PASSWORD = "correct horse battery"
_TOKEN = re.compile(r'name="_csrf_token" value="([^"]+)"')


async def in_app(client: Any, factory: Callable[[], Awaitable[T]]) -> T:
    """Run `factory()` on the app's event loop (where its pool lives).

    The shared `client` (tests/client_support.py) runs the app on the test's own loop, so this
    awaits it here; only a client that runs the app in a thread of its own (Litestar's
    AsyncTestClient, with its `blocking_portal`) needs the call to cross to that thread.
    """
    portal = getattr(client, "blocking_portal", None)
    if portal is None:  # no client, or one that runs the app on this test's own loop

        async def direct() -> T:
            return await factory()

        return await direct()

    async def call() -> T:
        return await factory()

    result: T = await asyncio.to_thread(portal.call, call)
    return result


async def make_account(
    email: str,
    role: str = "admin",
    *,
    name: str | None = None,
    community: str | None = None,
    project: str | None = None,
    password: str = PASSWORD,
    client: Any = None,
) -> int:
    new = NewAccount(
        email=email,
        display_name=name or email.split("@")[0],
        role=Role(role),
        community_slug=community,
        project_slug=project,
        password=password,
    )
    return await in_app(client, lambda: create_account(COMMAND_LINE, new))


async def log_in(client: Any, account_id: int) -> str:
    """Give the client a session for the account; returns the session id."""
    token = await in_app(client, lambda: start_session(account_id))
    client.cookies.set(SESSION_COOKIE, token)
    return token


def log_out(client: Any) -> None:
    client.cookies.delete(SESSION_COOKIE)


def csrf_token(html: str) -> str:
    match = _TOKEN.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1)


async def csrf_header(client: Any) -> dict[str, str]:
    """`X-CSRF-Token` for a client's API writes: the token of its `linju_csrf` cookie, as any page
    sets it (and renders it in each form), fetched first when the client has none yet."""
    if "linju_csrf" not in client.cookies:
        await client.get("/")
    return {"X-CSRF-Token": client.cookies["linju_csrf"]}


async def post_form(client: Any, page_path: str, action: str, data: dict[str, str]) -> Any:
    """GET a page and send its form to `action` as rendered, with `data` typed into its fields."""
    return await submit(client, page_path, action, data)


async def log_in_with_form(client: Any, email: str, password: str = PASSWORD) -> Any:
    return await post_form(client, "/login", "/login", {"email": email, "password": password})


async def log_in_with_browser(page: Any, base: str, email: str, password: str = PASSWORD) -> None:
    """Log in on a Playwright page through the login form, as a person would."""
    await page.goto(f"{base}/login")
    await page.fill("#f-login-email", email)
    await page.fill("#f-login-password", password)
    await submit_on(page, "#form-login button[type=submit]")
