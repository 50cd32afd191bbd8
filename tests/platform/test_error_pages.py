"""Error pages are rendered with the request (docs/adr/0025): a 404, a 405 and a refused
request's page carry the site's header — the language switch back to the same address, who is
logged in with their roles' links and a working logout form — in the visitor's language."""

from __future__ import annotations

from typing import Any

import pytest

from linju.platform.accounts.tables import Session
from tests.accounts_support import in_app, log_in, make_account
from tests.forms import submit_shown

Client = Any
pytestmark = pytest.mark.usefixtures("db")

MISSING = ("/no/such/page", "/p/no-such-project", "/c/no-such-community")


@pytest.mark.parametrize("path", MISSING)
async def test_a_404_page_says_who_is_logged_in_in_chinese(client: Client, path: str) -> None:
    await log_in(
        client, await make_account("admin@example.cn", "admin", name="王管理员", client=client)
    )
    response = await client.get(path)
    assert response.status_code == 404
    html = response.text
    assert '<html lang="zh-CN">' in html
    assert "页面不存在" in html or "找不到" in html
    assert 'data-testid="whoami-name">王管理员</a>' in html
    assert 'href="/admin"' in html
    assert f"/lang/en?next={path}" in html


@pytest.mark.parametrize("path", MISSING)
async def test_a_404_page_in_english_with_the_header(client: Client, path: str) -> None:
    await log_in(
        client, await make_account("admin@example.cn", "admin", name="Wang", client=client)
    )
    await client.get("/lang/en")
    response = await client.get(path)
    assert response.status_code == 404
    html = response.text
    assert '<html lang="en">' in html
    assert "Page not found" in html
    assert 'data-testid="whoami-name">Wang</a>' in html
    assert "Administration" in html
    assert f"/lang/zh_CN?next={path}" in html


async def test_a_405_page_has_the_header_in_both_languages(client: Client) -> None:
    await log_in(
        client, await make_account("admin@example.cn", "admin", name="Wang", client=client)
    )
    for language, lang in (("zh_CN", "zh-CN"), ("en", "en")):
        await client.get(f"/lang/{language}")
        response = await client.put("/login")
        assert response.status_code == 405
        assert f'<html lang="{lang}">' in response.text
        assert 'data-testid="whoami-name">Wang</a>' in response.text


async def test_an_anonymous_404_has_the_header_without_an_account(client: Client) -> None:
    response = await client.get("/no/such/page")
    assert response.status_code == 404
    assert 'class="site-header"' in response.text
    assert "whoami" not in response.text
    assert "/lang/en?next=/no/such/page" in response.text


async def test_the_logout_form_of_a_404_page_logs_out(client: Client) -> None:
    """The header's form carries the CSRF token even where no route matched."""
    await log_in(client, await make_account("admin@example.cn", "admin", client=client))
    await client.get("/")  # the CSRF cookie, as any visit sets it
    page = await client.get("/no/such/page")
    assert page.status_code == 404
    response = await submit_shown(client, page.text, "/logout", page="/no/such/page")
    assert response.status_code == 303, response.text[:300]  # a CSRF refusal would be a 403
    assert await in_app(client, lambda: Session.count().run()) == 0
    assert 'data-testid="whoami"' not in (await client.get("/")).text
