"""The demo project page on a 375 px phone, in real headless Chromium."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser

from linju.platform.kernel.money import format_money
from linju.projects.core import read as queries
from tests.browser_fixtures import PHONE, artifact

pytestmark = pytest.mark.browser


@pytest.fixture
async def demo(db: str) -> None:
    from linju.projects.demo import load_demo

    assert await load_demo()


@pytest.mark.usefixtures("demo")
async def test_the_playground_page_on_a_phone(live_server: str, browser: Browser) -> None:
    expected = (await queries.get_project("tongqu-leyuan")).summary
    context = await browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = await context.new_page()
    response = await page.goto(f"{live_server}/p/tongqu-leyuan")
    assert response is not None
    assert response.status == 200

    bar = page.get_by_test_id("progress-bar")
    assert await bar.is_visible()
    assert await bar.get_attribute("aria-valuenow") == str(min(expected.percent, 100))
    fill_width = await page.locator(".progress .fill").evaluate(
        "el => el.getBoundingClientRect().width"
    )
    bar_width = await bar.evaluate("el => el.getBoundingClientRect().width")
    assert bar_width > 300  # the bar spans the phone's width
    assert abs(fill_width - bar_width * min(expected.percent, 100) / 100) <= 2

    raised = await page.get_by_test_id("raised").inner_text()
    assert raised == format_money(expected.raised, "zh_CN")
    assert "¥12,000.00" in await page.locator(".progress .of").inner_text()
    assert await page.get_by_test_id("percent").inner_text() == f"{expected.percent}%"
    assert re.fullmatch(r"[0-9a-f]{64}", await page.get_by_test_id("ledger-head").inner_text())

    # Nothing overflows the phone's width: no sideways scrolling.
    scroll_width = await page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= PHONE["width"]
    await page.screenshot(path=str(artifact("project-page-375.png")), full_page=True)
    await context.close()
