"""Hearing minutes on a 375 px phone in real headless Chromium without JavaScript, in Chinese and
in English, every page checked by axe-core: a steward writes the minutes of a closed hearing (an
empty summary refused beside its field), signs them through the confirmation page, a second
steward signs and lands on the public minutes, anchored; the demo's signed minutes as anyone
sees them (docs/adr/0034-hearing-minutes.md)."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page

from linju.platform.accounts.audit import COMMAND_LINE, Actor
from linju.platform.i18n import translate_in
from linju.projects.demo import load_demo
from linju.projects.voice.services import households
from linju.projects.voice.services.stewards import name_steward
from tests.accessibility import assert_accessible
from tests.accounts_support import log_in_with_browser, make_account
from tests.browser_fixtures import PHONE, submit_on
from tests.projects.voice.minutes_support import closed_hearing

pytestmark = pytest.mark.browser
C = "lvjingyuan"
BENCHES = 2  # the demo's open need


async def phone(browser: Browser, base: str, locale: str, email: str | None) -> Page:
    context = await browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = await context.new_page()
    if email:
        await log_in_with_browser(page, base, email)
    await page.goto(f"{base}/lang/{locale}?next=/")
    return page


async def press(page: Page, selector: str) -> int:
    return (await submit_on(page, selector)).status


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
async def test_minutes_written_signed_by_two_stewards_and_public(
    db: str, live_server: str, browser: Browser, locale: str
) -> None:
    await load_demo()
    ids = []
    for email in ("wang@example.cn", "li@example.cn"):
        await make_account(email, "secretary", community="hepingli")
        ids.append(await name_steward(COMMAND_LINE, C, email, email.split("@")[0], "zh_CN"))
    homes = [int(h["id"]) for h in await households.households_of(C)]
    hearing_id = await closed_hearing(Actor(ids[0], "wang"), C, homes[-4:], need_id=BENCHES)
    base = live_server

    def t(message: str, **params: object) -> str:
        return translate_in(locale, message, **params)

    first = await phone(browser, base, locale, "wang@example.cn")
    await first.goto(f"{base}/hearings/{hearing_id}/minutes/sign")
    await assert_accessible(first)
    decisions = await first.locator("#f-minutes-decisions").input_value()
    assert decisions.startswith(t("%(question)s: %(options)s", question="选址", options=""))
    await first.evaluate("for (const f of document.forms) f.noValidate = true")
    assert await press(first, "[data-testid=save-minutes]") == 422
    assert t("Summarise the meeting") in await first.locator("#e-minutes-summary").inner_text()
    await assert_accessible(first)
    await first.fill("#f-minutes-summary", "东门长椅的选址会")
    await first.fill("#f-minutes-attendees", "12 户")
    assert await press(first, "[data-testid=save-minutes]") == 303
    assert await press(first, "[data-testid=sign-minutes]") == 200  # the confirmation page
    assert t("Sign the minutes of %(title)s?", title="游乐场听证会") in await first.content()
    await assert_accessible(first)
    assert await press(first, "[data-testid=confirm]") == 303
    assert await first.get_by_test_id("signed-by-me").is_visible()
    await assert_accessible(first)

    second = await phone(browser, base, locale, "li@example.cn")
    await second.goto(f"{base}/hearings/{hearing_id}/minutes/sign")
    assert await press(second, "[data-testid=sign-minutes]") == 200
    assert await second.get_by_test_id("confirm-last").is_visible()
    assert await press(second, "[data-testid=confirm]") == 303
    assert second.url.endswith(f"/hearings/{hearing_id}/minutes")
    assert "东门长椅的选址会" in await second.get_by_test_id("minutes-summary").inner_text()
    assert await second.get_by_test_id("minutes-anchor").is_visible()
    await assert_accessible(second)

    anyone = await phone(browser, base, locale, None)
    await anyone.goto(f"{base}/hearings/1/minutes")  # the demo's, signed by 王阿姨 and 李师傅
    signers = await anyone.get_by_test_id("minutes-signers").inner_text()
    assert "王阿姨" in signers
    assert "李师傅" in signers
    await assert_accessible(anyone)
    for page in (first, second, anyone):
        await page.context.close()
