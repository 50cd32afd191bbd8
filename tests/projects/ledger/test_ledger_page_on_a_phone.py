"""The demo garden's ledger page on a 375 px phone without JavaScript, in real Chromium."""

from __future__ import annotations

import json
import re

import pytest
from playwright.async_api import Browser

from tests.browser_fixtures import PHONE, artifact

pytestmark = pytest.mark.browser


@pytest.fixture
async def demo(db: str) -> None:
    from linju.projects.demo import load_demo

    assert await load_demo()


@pytest.mark.usefixtures("demo")
async def test_the_garden_ledger_on_a_phone(live_server: str, browser: Browser) -> None:
    context = await browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = await context.new_page()
    response = await page.goto(f"{live_server}/p/wuding-huayuan")
    assert response is not None
    assert response.status == 200
    async with page.expect_navigation():
        await page.get_by_test_id("ledger-link").click()
    assert page.url.endswith("/p/wuding-huayuan/ledger")

    entries = page.get_by_test_id("ledger-entry")
    # Donations, fees, the federation's match, cash, three paid expenditures and, last, the
    # leftover moved to the community's fund when the committee signed the report off.
    assert await entries.count() == 12
    newest = entries.first
    assert await newest.get_by_test_id("kind").inner_text() == "转出"
    assert "结余转入社区公共基金" in await newest.get_by_test_id("memo").inner_text()
    assert "翠微家具厂：休息座椅" in await entries.nth(1).get_by_test_id("memo").inner_text()
    assert (
        await newest.get_by_test_id("balance-after").inner_text()
        == await page.get_by_test_id("ledger-balance").inner_text()
    )
    kinds = {await kind.inner_text() for kind in await page.get_by_test_id("kind").all()}
    assert {"捐款", "手续费", "配捐", "线下捐款", "支出", "转出"} <= kinds
    head = await page.get_by_test_id("ledger-head").inner_text()
    assert re.fullmatch(r"[0-9a-f]{64}", head)
    assert await page.get_by_test_id("verify-box").is_visible()

    # Nothing overflows the phone's width: no sideways scrolling.
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await page.screenshot(path=str(artifact("ledger-page-375.png")), full_page=True)

    # The newest entry's short hash opens its JSON, which is the chain's head.
    await newest.get_by_test_id("short-hash").click()
    entry = json.loads(await page.locator("body").inner_text())
    assert entry["hash"] == head
    assert entry["kind"] == "transfer"
    await context.close()
