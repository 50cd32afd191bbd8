"""A disclosure (项目公示) on a 375 px phone in real headless Chromium without JavaScript, in
Chinese and in English (docs/adr/0029): residents see the overdue flag with its due date; the
secretary's empty text comes back beside its field; the figures are confirmed on a confirmation
page and published; the printable page carries the fund, the filing and the ledger head, and
prints without the site's header; every page passes axe."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.async_api import Browser, Page

from linju.platform.i18n import translate_in
from linju.platform.kernel.clock import local_today
from linju.projects.core.tables import Project
from linju.projects.demo import load_demo
from linju.projects.ledger.tables import LedgerHead
from linju.projects.stewardship.rules import add_months
from linju.projects.stewardship.tables import Disclosure
from tests.accessibility import assert_accessible
from tests.accounts_support import log_in_with_browser, make_account
from tests.browser_fixtures import PHONE, artifact, submit_on

pytestmark = pytest.mark.browser
P = "tongqu-leyuan"
PLAN_START = local_today() - timedelta(days=100)


async def phone(browser: Browser, base: str, locale: str, email: str | None = None) -> Page:
    context = await browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = await context.new_page()
    if email:
        await log_in_with_browser(page, base, email)
        assert "/login" not in page.url
    await page.goto(f"{base}/lang/{locale}?next=/")
    return page


async def fits(page: Page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width} px wide"
    await assert_accessible(page)


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
async def test_a_secretary_publishes_an_overdue_disclosure_and_residents_print_it(
    db: str, live_server: str, browser: Browser, locale: str
) -> None:
    await load_demo()
    await Project.update(
        {Project.plan_starts_on: PLAN_START, Project.plan_ends_on: PLAN_START + timedelta(days=365)}
    ).where(Project.slug == P)
    await make_account("sec@example.cn", "secretary", community="lvjingyuan")
    base = live_server

    def t(message: str, **params: object) -> str:
        return translate_in(locale, message, **params)

    resident = await phone(browser, base, locale)
    await resident.goto(f"{base}/p/{P}")
    flag = resident.get_by_test_id("disclosure-overdue")
    assert await flag.is_visible()
    assert t("Disclosure overdue") in await flag.inner_text()
    due = add_months(PLAN_START, 3)
    assert due.isoformat() not in await flag.inner_text()  # a date as people write it
    assert str(due.day) in await flag.inner_text()
    await fits(resident)

    secretary = await phone(browser, base, locale, "sec@example.cn")
    await secretary.goto(f"{base}/p/{P}/manage")
    async with secretary.expect_navigation():
        await secretary.get_by_test_id("link-disclosures").click()
    assert secretary.url.endswith(f"/p/{P}/manage/disclosures")
    assert await secretary.get_by_test_id("disclosure-figures").is_visible()
    await fits(secretary)

    # the browser's own check off, as an old phone's: the server refuses it beside the field
    await secretary.evaluate("for (const f of document.forms) f.noValidate = true")
    assert (await submit_on(secretary, "[data-testid=prepare-disclosure]")).status == 422
    assert (
        t("Write what was done in this period")
        in await secretary.locator("#e-disclosure-what_was_done").inner_text()
    )
    assert await secretary.get_attribute("#f-disclosure-what_was_done", "aria-invalid") == "true"
    await fits(secretary)
    await secretary.screenshot(
        path=str(artifact(f"disclosure-refused-{locale}.png")), full_page=True
    )

    await secretary.fill("#f-disclosure-what_was_done", "选址确定：2号楼架空层。")
    assert (await submit_on(secretary, "[data-testid=prepare-disclosure]")).status == 200
    heading = await secretary.get_by_test_id("confirm-heading").inner_text()
    assert heading == t("Publish disclosure no. %(n)s?", n=1)
    assert await Disclosure.count().where(Disclosure.project.slug == P) == 0
    await fits(secretary)
    await secretary.screenshot(
        path=str(artifact(f"disclosure-confirm-{locale}.png")), full_page=True
    )

    assert (await submit_on(secretary, "[data-testid=confirm]")).status == 303
    assert secretary.url.endswith(f"/p/{P}/disclosures/1")
    told = await secretary.get_by_test_id("flash").inner_text()
    assert t("Disclosure published: it is frozen and on the project's page") in told
    assert await Disclosure.count().where(Disclosure.project.slug == P) == 1

    await resident.goto(f"{base}/p/{P}")
    assert await resident.get_by_test_id("disclosure-overdue").count() == 0
    async with resident.expect_navigation():
        await resident.get_by_test_id("disclosure-item").locator("a").click()
    assert resident.url.endswith(f"/p/{P}/disclosures/1")
    head = await LedgerHead.select().where(LedgerHead.project.slug == P).first()
    assert head is not None
    assert head["hash"] in await resident.get_by_test_id("disclosure-head").inner_text()
    assert "童趣乐园项目基金" in await resident.get_by_test_id("disclosure-fund").inner_text()
    assert await resident.get_by_test_id("disclosure-filing").inner_text() != t("Not filed yet")
    assert (
        t("Project disclosure") == await resident.get_by_test_id("disclosure-heading").inner_text()
    )
    await fits(resident)
    await resident.screenshot(path=str(artifact(f"disclosure-page-{locale}.png")), full_page=True)

    await resident.emulate_media(media="print")
    assert not await resident.locator(".site-header").is_visible()
    assert await resident.get_by_test_id("disclosure-figures").is_visible()
    await resident.pdf(path=str(artifact(f"disclosure-{locale}.pdf")))
