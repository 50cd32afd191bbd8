"""A hearing on a 375 px phone in real headless Chromium without JavaScript, in Chinese and in
English, every page checked by axe-core: a resident opens 绿景苑's hearing, is sent to enter the
household's code and back, votes (too many equipment choices refused beside the question, then
voted), changes the vote; after the close the page shows the counts and the turnout."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page

from linju.platform.accounts.audit import COMMAND_LINE
from linju.platform.i18n import translate_in
from linju.projects.demo import load_demo
from linju.projects.voice.rules import NeedText
from linju.projects.voice.services import households, needs
from linju.projects.voice.tables import Ballot
from tests.accessibility import assert_accessible
from tests.browser_fixtures import PHONE, artifact, submit_on
from tests.projects.voice.hearing_support import open_playground_hearing, window_passes
from tests.projects.voice.voice_support import steward

pytestmark = pytest.mark.browser
C = "lvjingyuan"


async def phone(browser: Browser, base: str, locale: str) -> Page:
    context = await browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = await context.new_page()
    await page.goto(f"{base}/lang/{locale}?next=/")
    return page


async def tick(page: Page, text: str) -> None:
    await page.get_by_label(text, exact=True).check()


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
async def test_from_the_code_to_a_vote_changed_and_the_results(
    db: str, live_server: str, browser: Browser, locale: str
) -> None:
    await load_demo()
    base = live_server

    def t(message: str, **params: object) -> str:
        return translate_in(locale, message, **params)

    homes = await households.household_views(C)
    need_id = await needs.post_need(homes[0], NeedText("儿童游乐场", "孩子们没有玩的地方", ""))
    hearing_id = await open_playground_hearing(await steward(C, "a@example.cn"), C, need_id)
    household = (await households.households_of(C))[0]
    [(_, code)] = await households.issue_codes(COMMAND_LINE, C, [household["id"]])

    resident = await phone(browser, base, locale)
    await resident.goto(f"{base}/hearings/{hearing_id}")
    await assert_accessible(resident)
    assert t("Open for votes") in await resident.get_by_test_id("hearing-state").inner_text()
    async with resident.expect_navigation():
        await resident.get_by_test_id("enter-code-link").click()
    await resident.fill("#f-household-code", code)
    assert (await submit_on(resident, "[data-testid=enter-code]")).status == 303
    assert resident.url.endswith(f"/hearings/{hearing_id}")
    await assert_accessible(resident)

    # too many equipment choices: refused beside the question
    await tick(resident, "2号楼架空层")
    for equipment in ("跷跷板", "转转椅", "秋千"):
        await tick(resident, equipment)
    assert (await submit_on(resident, "[data-testid=vote]")).status == 422
    refusal = t("Too many answers: see how many this question allows")
    assert refusal in await resident.locator("fieldset .field-error").inner_text()
    await assert_accessible(resident)
    await tick(resident, "2号楼架空层")
    await resident.get_by_label("转转椅", exact=True).uncheck()
    assert (await submit_on(resident, "[data-testid=vote]")).status == 303
    assert await resident.get_by_test_id("voted").is_visible()
    await assert_accessible(resident)

    # the vote changed before the close
    await tick(resident, "小区东门空地")
    await tick(resident, "秋千")
    assert (await submit_on(resident, "[data-testid=vote]")).status == 303
    assert await resident.get_by_test_id("voted").is_visible()
    assert await Ballot.count().where(Ballot.hearing == hearing_id) == 1
    await resident.screenshot(path=str(artifact(f"hearing-voted-{locale}.png")), full_page=True)

    # after the close: the counts, the turnout, the frozen time
    await window_passes(hearing_id)
    await resident.goto(f"{base}/hearings/{hearing_id}")
    await assert_accessible(resident)
    assert await resident.get_by_test_id("hearing-results").is_visible()
    assert await resident.get_by_test_id("ballots").inner_text() == "1"
    assert await resident.get_by_test_id("turnout").inner_text() == "1%"  # 1 of 120
    assert (
        t("Closed: results public") in await resident.get_by_test_id("hearing-state").inner_text()
    )
    # each question's name heads its cards across the phone, not one character a line
    for box in await resident.locator(".results-table caption").evaluate_all(
        "cs => cs.map(c => [c.getBoundingClientRect().width, c.getBoundingClientRect().height])"
    ):
        width, height = box
        assert width > 200, f"a question's name is squeezed to {width} px"
        assert height < 60, f"a question's name runs {height} px high"
    await resident.screenshot(path=str(artifact(f"hearing-closed-{locale}.png")), full_page=True)
