"""Residents' voice on a 375 px phone in real headless Chromium without JavaScript, in Chinese and
in English, every page checked by axe-core: the secretary prints a household's card (through its
confirmation page) and lowers the review threshold; the resident enters the code from the
community page (a wrong one first), posts a need (refused, then posted, then withdrawn through
its confirmation page) and supports 绿景苑's open need, which goes to review; the secretary
answers it through its confirmation page (declines it in Chinese, accepts it in English)."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, Page

from linju.platform.i18n import translate_in
from linju.projects.demo import load_demo
from linju.projects.voice.tables import Need, Support
from tests.accessibility import assert_accessible
from tests.accounts_support import log_in_with_browser, make_account
from tests.browser_fixtures import PHONE, artifact, submit_on

pytestmark = pytest.mark.browser
C = "lvjingyuan"
BENCHES = 2  # the demo's open need


async def phone(browser: Browser, base: str, locale: str, email: str | None = None) -> Page:
    context = await browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = await context.new_page()
    if email:
        await log_in_with_browser(page, base, email)
    await page.goto(f"{base}/lang/{locale}?next=/")
    return page


async def press(page: Page, selector: str) -> int:
    return (await submit_on(page, selector)).status


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
async def test_from_the_code_on_the_card_to_a_need_answered(
    db: str, live_server: str, browser: Browser, locale: str
) -> None:
    await load_demo()
    await make_account("sec@example.cn", "secretary", community=C)
    base = live_server

    def t(message: str, **params: object) -> str:
        return translate_in(locale, message, **params)

    # the secretary prints the card of 1-1-101 and lowers the threshold to 1% (two households)
    secretary = await phone(browser, base, locale, "sec@example.cn")
    await secretary.goto(f"{base}/secretary/c/{C}/households")
    await assert_accessible(secretary)
    assert await press(secretary, "#form-card-1 button") == 200
    assert t("Confirm: make the codes and print") in await secretary.content()
    await assert_accessible(secretary)
    assert await press(secretary, "[data-testid=confirm]") == 200
    await assert_accessible(secretary)
    code = await secretary.get_by_test_id("code").inner_text()
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", code)
    await secretary.goto(f"{base}/secretary/c/{C}/needs")
    await assert_accessible(secretary)
    await secretary.fill("#f-settings-threshold_percent", "1")
    assert await press(secretary, "[data-testid=save-settings]") == 303

    # the resident: from the community page to the code form
    resident = await phone(browser, base, locale)
    await resident.goto(f"{base}/c/{C}")
    async with resident.expect_navigation():
        await resident.get_by_test_id("household-entry-link").click()
    await assert_accessible(resident)
    await resident.fill("#f-household-code", "AAAA-BBBB-CCCC")
    assert await press(resident, "[data-testid=enter-code]") == 422
    assert t("This code is not right; check the card and try again") in (
        await resident.locator("#e-household-code").inner_text()
    )
    await assert_accessible(resident)
    await resident.fill("#f-household-code", code.lower().replace("-", " "))
    assert await press(resident, "[data-testid=enter-code]") == 303
    assert resident.url.endswith("/household")
    assert t("Household %(address)s", address="1-1-101") in await resident.content()
    await assert_accessible(resident)

    # a need refused, then posted, then withdrawn through its confirmation page
    await resident.evaluate("for (const f of document.forms) f.noValidate = true")
    assert await press(resident, "[data-testid=post-need]") == 422
    assert t("Say in a few words what is needed") in await resident.content()
    await assert_accessible(resident)
    await resident.fill("#f-need-title", "晾衣架")
    await resident.fill("#f-need-body", "楼下没有晾被子的地方")
    assert await press(resident, "[data-testid=post-need]") == 303
    await assert_accessible(resident)
    assert await press(resident, "[data-testid=withdraw]") == 200
    await assert_accessible(resident)
    assert await press(resident, "[data-testid=confirm]") == 303
    assert t("Withdrawn") in await resident.get_by_test_id("need-status").inner_text()

    # supporting the open need sends it to review
    await resident.goto(f"{base}/household")
    async with resident.expect_navigation():
        await resident.locator(f"[data-testid=need-{BENCHES}] a").first.click()
    await assert_accessible(resident)
    assert await resident.get_by_test_id("supports").inner_text() == "3"
    assert await press(resident, "[data-testid=support]") == 303
    assert await resident.get_by_test_id("supports").inner_text() == "4"
    assert t("Under review") in await resident.get_by_test_id("need-status").inner_text()
    assert await resident.get_by_test_id("need-due").is_visible()
    await assert_accessible(resident)
    await resident.screenshot(path=str(artifact(f"need-supported-{locale}.png")), full_page=True)
    assert await Support.count().where(Support.need == BENCHES) == 4

    # the secretary answers it through the confirmation page
    await secretary.goto(f"{base}/secretary/c/{C}/needs")
    await assert_accessible(secretary)
    if locale == "zh_CN":
        await secretary.fill(f"#f-decline-{BENCHES}-reason", "东门是消防通道，不能放长椅")
        assert await press(secretary, f"[data-testid=decline-{BENCHES}]") == 200
        await assert_accessible(secretary)
        assert await press(secretary, "[data-testid=confirm]") == 303
        await resident.reload()
        assert "东门是消防通道" in await resident.get_by_test_id("decline-reason").inner_text()
    else:
        await secretary.evaluate("for (const f of document.forms) f.noValidate = true")
        assert await press(secretary, f"[data-testid=accept-{BENCHES}]") == 422
        await assert_accessible(secretary)
        await secretary.fill(f"#f-accept-{BENCHES}-goal", "3000")
        assert await press(secretary, f"[data-testid=accept-{BENCHES}]") == 200
        await assert_accessible(secretary)
        assert await press(secretary, "[data-testid=confirm]") == 303
        assert "/manage" in secretary.url
        await resident.reload()
        assert await resident.get_by_test_id("need-project").is_visible()
    row = await Need.select(Need.status).where(Need.id == BENCHES).first()
    assert row == {"status": "declined" if locale == "zh_CN" else "accepted"}
    await resident.context.close()
    await secretary.context.close()
