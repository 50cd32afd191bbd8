"""Finding one's way on a 375 px phone in real headless Chromium without JavaScript, in Chinese
and in English (docs/adr/0021-finding-your-way.md): a committee member logs in (a wrong password
first: the form again, the message beside the field), lands on their inbox, sees the offline
gift that awaits them with its figures, is told when someone confirmed it first, confirms the
other, and logs out from the header; a secretary lands on the dashboard and finds the spending
page from the workbench. Nothing is wider than the phone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.async_api import Browser, Page

from linju.platform.accounts.audit import Actor
from linju.platform.i18n import translate_in
from linju.platform.kernel.clock import local_today
from linju.projects.core.services.photos import store_photo
from linju.projects.demo import load_demo
from linju.projects.stewardship.rules import OfflineGift
from linju.projects.stewardship.services.offline_donations import (
    confirm_offline_donation,
    record_offline_donation,
)
from tests.accounts_support import PASSWORD, make_account
from tests.browser_fixtures import PHONE, artifact, submit_on
from tests.projects.stewardship.stewardship_support import png_bytes, seat_names

pytestmark = pytest.mark.browser
P = "tongqu-leyuan"


async def fits(page: Page) -> None:
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


async def press(page: Page, selector: str) -> int:
    """Click a submit button; the status of the POST's answer."""
    return (await submit_on(page, selector)).status


async def gift(actor: Actor, fen: int, donor: str) -> str:
    evidence = await store_photo(png_bytes())
    return await record_offline_donation(
        actor,
        P,
        OfflineGift(
            amount_fen=fen,
            donor_name=donor,
            anonymous=False,
            received_on=local_today() - timedelta(days=1),
            method="cash",
            evidence_url=evidence.url,
            evidence_sha256=evidence.sha256,
        ),
    )


async def log_in_on(page: Page, base: str, locale: str, email: str, password: str) -> int:
    await page.goto(f"{base}/lang/{locale}?next=/login")
    await page.fill("#f-login-email", email)
    await page.fill("#f-login-password", password)
    return await press(page, "#form-login button[type=submit]")


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
async def test_login_home_inbox_and_out_on_a_phone(
    db: str, live_server: str, browser: Browser, locale: str
) -> None:
    await load_demo()
    names = await seat_names(P)
    secretary = await make_account("sec@example.cn", "secretary", community="lvjingyuan")
    await make_account("m1@example.cn", "committee", name=names[0], project=P)
    second = await make_account("m2@example.cn", "committee", name=names[1], project=P)
    by_secretary = Actor(id=secretary, label="sec@example.cn")
    first_gift = await gift(by_secretary, 30_000, "王奶奶")
    await gift(by_secretary, 45_000, "李大爷")
    base = live_server

    def t(message: str, **params: object) -> str:
        return translate_in(locale, message, **params)

    context = await browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = await context.new_page()
    # A wrong password: the form again, the message beside the field.
    assert await log_in_on(page, base, locale, "m1@example.cn", "not the password") == 422
    assert await page.get_by_test_id("error-summary").is_visible()
    await fits(page)
    # The right one: the member's own inbox.
    assert await log_in_on(page, base, locale, "m1@example.cn", PASSWORD) == 303
    assert page.url == f"{base}/committee"
    header = page.get_by_test_id("whoami")
    assert names[0] in await header.inner_text()
    assert t("Committee work") in await header.inner_text()
    assert await page.get_by_test_id("logout").inner_text() == t("Log out")
    cards = page.get_by_test_id("awaiting-gift")
    assert await cards.count() == 2
    first = page.locator(f"#gift-{first_gift}")
    text = await first.inner_text()
    assert "¥300.00" in text
    assert "王奶奶" in text
    assert t("In the fund") in text
    assert t("Recorded by %(name)s", name="sec") in text
    await fits(page)
    await page.screenshot(path=str(artifact(f"inbox-{locale}.png")), full_page=True)

    # Another member confirms the first gift while the page is open: told, nothing twice.
    await confirm_offline_donation(Actor(id=second, label="m2@example.cn"), P, first_gift)
    assert await press(page, f"#gift-{first_gift} button[type=submit]") == 409
    assert (
        t("This donation was already confirmed")
        in await page.get_by_test_id("error-summary").inner_text()
    )
    await fits(page)
    await page.screenshot(path=str(artifact(f"inbox-refused-{locale}.png")), full_page=True)
    assert await cards.count() == 1  # the page again shows what still awaits
    assert await press(page, "[data-testid=awaiting-gift] button[type=submit]") == 303
    assert page.url == f"{base}/committee"
    assert await cards.count() == 0

    # Out, from the header of any page.
    assert await press(page, "[data-testid=logout]") == 303
    assert page.url == f"{base}/"
    assert await page.get_by_test_id("whoami").count() == 0
    if locale == "en":
        assert "退出登录" not in await page.content()

    # The secretary lands on the dashboard and finds the spending page from the workbench.
    assert await log_in_on(page, base, locale, "sec@example.cn", PASSWORD) == 303
    assert page.url == f"{base}/secretary"
    async with page.expect_navigation():
        await page.get_by_test_id(f"dashboard-{P}").get_by_role("link").first.click()
    assert page.url == f"{base}/p/{P}/manage"
    await fits(page)
    await page.screenshot(path=str(artifact(f"workbench-{locale}.png")), full_page=True)
    async with page.expect_navigation():
        await page.get_by_test_id("link-spending").click()
    assert page.url == f"{base}/p/{P}/spending"
    assert await page.locator("h1").inner_text() == t("Spending")
    await fits(page)
    await context.close()
