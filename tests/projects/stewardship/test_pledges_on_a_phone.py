"""A matching pledge on a 375 px phone in real headless Chromium without JavaScript, in Chinese
and in English: the secretary's pledge out of bounds comes back with each message beside its
field, the good one waits, and a second committee member confirms it from the committee's page;
only then does the project page show the sponsor."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.async_api import Browser, FilePayload, Page

from linju.platform.i18n import translate_in
from linju.platform.kernel.clock import local_today
from linju.projects.demo import load_demo
from linju.projects.stewardship.tables import MatchingPledge
from tests.accounts_support import log_in_with_browser, make_account
from tests.browser_fixtures import PHONE, artifact, submit_on
from tests.projects.stewardship.stewardship_support import png_bytes, seat_names

pytestmark = pytest.mark.browser
P = "tongqu-leyuan"
LETTER: FilePayload = {"name": "letter.png", "mimeType": "image/png", "buffer": png_bytes()}


async def phone(browser: Browser, base: str, email: str, locale: str) -> Page:
    context = await browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = await context.new_page()
    await log_in_with_browser(page, base, email)
    assert "/login" not in page.url
    if locale != "zh_CN":
        await page.goto(f"{base}/lang/{locale}?next=/")
    return page


async def press(page: Page, selector: str) -> int:
    """Click a submit button; the status of the POST's answer."""
    return (await submit_on(page, selector)).status


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
async def test_a_pledge_out_of_bounds_is_refused_and_a_second_member_confirms_it(
    db: str, live_server: str, browser: Browser, locale: str
) -> None:
    await load_demo()
    member_name = (await seat_names(P))[0]
    await make_account("sec@example.cn", "secretary", community="lvjingyuan")
    await make_account("m1@example.cn", "committee", name=member_name, project=P)
    base = live_server

    def t(message: str, **params: object) -> str:
        return translate_in(locale, message, **params)

    secretary = await phone(browser, base, "sec@example.cn", locale)
    await secretary.goto(f"{base}/p/{P}/manage")
    await secretary.fill("#f-pledge-sponsor_name", "街道商会")
    await secretary.fill("#f-pledge-sponsor_slug", "jiedao-shanghui")
    await secretary.fill("#f-pledge-ratio", "5:1")
    await secretary.fill("#f-pledge-cap", "9999999999.99")
    await secretary.fill("#f-pledge-starts_on", local_today().isoformat())
    await secretary.fill("#f-pledge-ends_on", (local_today() + timedelta(days=30)).isoformat())
    await secretary.set_input_files("#f-pledge-letter", files=LETTER)
    assert await press(secretary, "#form-pledge button[type=submit]") == 422
    summary = secretary.get_by_test_id("error-summary")
    assert await summary.is_visible()
    ratio = t("The ratio must be between 1:10 and 3:1 (whole numbers up to 10)")
    cap = t("The cap cannot be more than the project's goal")
    assert ratio in await secretary.locator("#e-pledge-ratio").inner_text()
    assert cap in await secretary.locator("#e-pledge-cap").inner_text()
    assert await secretary.get_attribute("#f-pledge-ratio", "aria-invalid") == "true"
    assert await secretary.input_value("#f-pledge-ratio") == "5:1"
    assert await MatchingPledge.count().where(MatchingPledge.sponsor_slug == "jiedao-shanghui") == 0
    if locale == "en":
        assert "请修正以下问题" not in await secretary.content()
    await secretary.screenshot(path=str(artifact(f"pledge-refused-{locale}.png")), full_page=True)

    await secretary.fill("#f-pledge-ratio", "1:1")
    await secretary.fill("#f-pledge-cap", "2000")
    await secretary.set_input_files("#f-pledge-letter", files=LETTER)
    assert await press(secretary, "#form-pledge button[type=submit]") == 303
    assert "#pledges" in secretary.url or secretary.url.endswith(f"/p/{P}/manage")
    waiting = secretary.get_by_test_id("workbench-pledge").last
    assert t("awaiting a committee member's confirmation") in await waiting.inner_text()
    await secretary.goto(f"{base}/p/{P}")
    assert "街道商会" not in await secretary.content()

    member = await phone(browser, base, "m1@example.cn", locale)
    await member.goto(f"{base}/committee")
    card = member.get_by_test_id("awaiting-pledge")
    assert await card.count() == 1
    assert await card.get_by_test_id("pledge-sponsor").inner_text() == "街道商会"
    assert await card.get_by_test_id("pledge-ratio").inner_text() == "1:1"
    assert await card.get_by_test_id("pledge-cap").inner_text() == "¥2,000.00"
    letter = await card.get_by_test_id("pledge-letter").get_attribute("href")
    assert letter is not None
    assert letter.startswith("/photos/")
    await member.screenshot(path=str(artifact(f"pledge-inbox-{locale}.png")), full_page=True)
    await card.locator("textarea").fill("看过承诺函" if locale == "zh_CN" else "Letter seen")
    assert await press(member, "[data-testid=awaiting-pledge] button[value=confirm]") == 303
    assert member.url.endswith("/committee")
    assert await member.get_by_test_id("awaiting-pledge").count() == 0
    row = (
        await MatchingPledge.select()
        .where(MatchingPledge.sponsor_slug == "jiedao-shanghui")
        .first()
    )
    assert row is not None
    assert row["confirmed_at"] is not None
    assert row["decided_by_name"] == member_name

    await member.goto(f"{base}/p/{P}")
    sponsors = await member.locator("#matching").inner_text()
    assert "街道商会" in sponsors
    assert member_name in sponsors
    assert ("监督委员会" if locale == "zh_CN" else "of the supervision committee") in sponsors
    await member.screenshot(path=str(artifact(f"pledge-confirmed-{locale}.png")), full_page=True)
