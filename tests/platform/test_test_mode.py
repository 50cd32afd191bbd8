"""While the sandbox takes the donations every page says so; with a real gateway none does."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Browser

from tests.browser_fixtures import PHONE

PAGES = ("/", "/p/tongqu-leyuan", "/p/tongqu-leyuan/ledger", "/login", "/no-such-page")


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize("path", PAGES)
async def test_every_page_says_test_mode_in_both_languages(client: Any, path: str) -> None:
    chinese = await client.get(path)
    assert 'data-testid="test-mode"' in chinese.text
    assert "测试模式 · 不收真钱" in chinese.text
    await client.get("/lang/en", follow_redirects=False)
    english = await client.get(path)
    assert "Test mode · no real money" in english.text


@pytest.mark.usefixtures("demo", "fake_stripe", "stripe_client")
async def test_no_page_says_it_with_a_real_gateway(client: Any) -> None:
    for path in PAGES:
        assert 'data-testid="test-mode"' not in (await client.get(path)).text


@pytest.mark.usefixtures("demo")
async def test_a_phone_sees_the_banner_first(live_server: str, browser: Browser) -> None:
    context = await browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = await context.new_page()
    await page.goto(f"{live_server}/p/tongqu-leyuan")
    banner = page.get_by_test_id("test-mode")
    assert await banner.is_visible()
    box = await banner.bounding_box()
    assert box is not None
    assert box["y"] == 0  # the first thing on the page
    assert await banner.inner_text() == "测试模式 · 不收真钱"
    await context.close()
