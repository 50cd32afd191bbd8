"""Every response carries the security headers; HEAD answers wherever GET does; pages need no
inline style or script, so Chromium enforces the policy without a single violation."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Browser, ConsoleMessage

from linju.platform.middleware import security_headers_middleware
from tests.accounts_support import log_in_with_browser
from tests.browser_fixtures import PHONE
from tests.projects.stewardship.stewardship_support import make_people

PATHS = (
    "/",
    "/p/tongqu-leyuan",
    "/p/tongqu-leyuan/ledger",
    "/api/v1/projects/tongqu-leyuan",
    "/static/linju.css",
    "/no-such-page",
)


def _policy(response: Any) -> dict[str, str]:
    directives = (
        d.strip().split(" ", 1) for d in response.headers["content-security-policy"].split(";")
    )
    return {d[0]: d[1] if len(d) > 1 else "" for d in directives}


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize("path", PATHS)
async def test_every_response_carries_the_security_headers(client: Any, path: str) -> None:
    response = await client.get(path)
    policy = _policy(response)
    assert policy["script-src"] == "'none'"
    assert policy["style-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["form-action"] == "'self'"  # the sandbox's checkout is our own page
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert "camera=()" in response.headers["permissions-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    assert "strict-transport-security" not in response.headers  # the base URL is http


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize("path", PATHS)
async def test_head_answers_wherever_get_does(client: Any, path: str) -> None:
    got = await client.get(path)
    head = await client.head(path)
    assert head.status_code == got.status_code
    assert head.headers["content-type"] == got.headers["content-type"]
    assert head.content == b""


@pytest.mark.usefixtures("demo", "fake_stripe", "stripe_client")
async def test_stripe_checkout_is_an_allowed_form_action(client: Any) -> None:
    response = await client.get("/p/tongqu-leyuan")
    assert _policy(response)["form-action"] == "'self' https://checkout.stripe.com"


async def test_https_sites_ask_for_https_only_and_head_has_no_body() -> None:
    sent: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        assert scope["method"] == "GET"
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"hello"})

    async def record(message: dict[str, Any]) -> None:
        sent.append(message)

    wrapped = security_headers_middleware(https=True)(app)
    await wrapped({"type": "http", "method": "HEAD", "headers": []}, None, record)
    headers = dict(sent[0]["headers"])
    assert headers[b"strict-transport-security"].startswith(b"max-age=")
    assert sent[1]["body"] == b""


@pytest.mark.usefixtures("demo")
async def test_chromium_finds_nothing_to_refuse_on_the_pages(
    live_server: str, browser: Browser
) -> None:
    await make_people()
    violations: list[str] = []

    def watch(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            violations.append(message.text)

    for locale in ("zh-CN", "en"):
        context = await browser.new_context(viewport=PHONE, locale=locale)
        page = await context.new_page()
        page.on("console", watch)
        for path in ("/", "/p/tongqu-leyuan", "/p/tongqu-leyuan/ledger", "/login"):
            response = await page.goto(f"{live_server}{path}")
            assert response is not None
            assert response.status == 200
        await log_in_with_browser(page, live_server, "sec@example.cn")
        for path in ("/secretary", "/p/tongqu-leyuan/manage", "/p/tongqu-leyuan/poster"):
            response = await page.goto(f"{live_server}{path}")
            assert response is not None
            assert response.status == 200
        width = await page.locator(".bar").evaluate("el => el.getBoundingClientRect().width")
        assert width > 100  # the poster's bar is drawn from the stylesheet
        await context.close()
    assert violations == []
