"""Community stewards on a 375 px phone in real headless Chromium without JavaScript, in Chinese
and in English, every page checked by axe-core: a steward records a support given on paper (a
wrong address refused beside its field), cannot confirm it themself, and a second steward
confirms it; a steward posts a need heard at a residents' meeting (refused, then posted). (That
a household on paper cannot support online: test_needs_http.py.)"""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page

from linju.platform.accounts.audit import COMMAND_LINE
from linju.platform.i18n import translate_in
from linju.projects.demo import load_demo
from linju.projects.voice.services.stewards import name_steward
from linju.projects.voice.tables import Support
from tests.accessibility import assert_accessible
from tests.accounts_support import log_in_with_browser, make_account
from tests.browser_fixtures import PHONE, submit_on

pytestmark = pytest.mark.browser
C = "lvjingyuan"
BENCHES = 2


async def phone(browser: Browser, base: str, locale: str, email: str) -> Page:
    context = await browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = await context.new_page()
    await log_in_with_browser(page, base, email)
    await page.goto(f"{base}/lang/{locale}?next=/")
    await page.goto(f"{base}/steward/c/{C}")
    return page


async def press(page: Page, selector: str) -> int:
    return (await submit_on(page, selector)).status


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
async def test_a_paper_support_recorded_and_confirmed_by_two_stewards(
    db: str, live_server: str, browser: Browser, locale: str
) -> None:
    await load_demo()
    for email in ("wang@example.cn", "li@example.cn"):
        await make_account(email, "secretary", community="hepingli")
        await name_steward(COMMAND_LINE, C, email, email.split("@")[0], "zh_CN")
    base = live_server

    def t(message: str, **params: object) -> str:
        return translate_in(locale, message, **params)

    first = await phone(browser, base, locale, "wang@example.cn")
    await assert_accessible(first)
    await first.select_option("#f-paper-need", str(BENCHES))
    await first.fill("#f-paper-building", "9")
    await first.fill("#f-paper-room", "999")
    assert await press(first, "[data-testid=record-paper]") == 422
    assert t("No household with this address in the community") in (
        await first.locator("#e-paper-room").inner_text()
    )
    await assert_accessible(first)
    await first.select_option("#f-paper-need", str(BENCHES))
    await first.fill("#f-paper-building", "5")
    await first.fill("#f-paper-unit", "2")
    await first.fill("#f-paper-room", "602")
    assert await press(first, "[data-testid=record-paper]") == 303
    [paper] = await Support.select(Support.id).where(Support.channel == "paper")
    assert await first.locator(f"#form-confirm-{paper['id']}").count() == 0  # not the recorder
    assert t("awaiting another steward") in await first.content()
    await assert_accessible(first)

    await first.evaluate("for (const f of document.forms) f.noValidate = true")
    assert await press(first, "[data-testid=post-heard]") == 422
    await assert_accessible(first)
    await first.fill("#f-heard-title", "楼道灯")
    await first.fill("#f-heard-body", "3号楼楼道灯坏了很久")
    assert await press(first, "[data-testid=post-heard]") == 303
    assert await first.get_by_test_id("heard").is_visible()
    await assert_accessible(first)

    second = await phone(browser, base, locale, "li@example.cn")
    assert await press(second, f"[data-testid=confirm-paper-{paper['id']}]") == 303
    assert t("confirmed") in await second.locator(f"[data-testid=paper-{paper['id']}]").inner_text()
    await assert_accessible(second)
    await second.goto(f"{base}/needs/{BENCHES}")
    assert await second.get_by_test_id("supports").inner_text() == "4"
    await first.context.close()
    await second.context.close()
