"""A committee member hides a gift's message on a 375 px phone and shows it again, without
JavaScript, in Chinese then English; a tampered choice comes back beside the form
(docs/adr/0028-wall-sharing-time.md)."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser

from linju.projects.core.services.communities import create_community
from linju.projects.demo import demo_online_donation
from linju.projects.donations.tables import Donation
from tests.accessibility import assert_accessible
from tests.accounts_support import log_in_with_browser, make_account
from tests.browser_fixtures import PHONE, artifact, submit_on
from tests.projects.spending.spending_support import NAMES, SLUG, funded_project

pytestmark = pytest.mark.browser
WORDS = "祝孩子们玩得开心"


@pytest.fixture
async def gift(db: str) -> str:
    await funded_project(balance=10_000, committee_size=3, close=False)
    await create_community("hepingli", "和平里社区", "青山区")
    await demo_online_donation(SLUG, "王阿姨", 5_000, WORDS)
    await make_account("m0@example.cn", "committee", name=NAMES[0], project=SLUG)
    row = await Donation.select(Donation.public_id).where(Donation.message == WORDS).first()
    assert row is not None
    return str(row["public_id"])


async def test_a_steward_hides_and_shows_a_message_on_a_phone_in_both_languages(
    live_server: str, browser: Browser, gift: str
) -> None:
    context = await browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = await context.new_page()
    await log_in_with_browser(page, live_server, "m0@example.cn")
    button = f'[data-testid="moderate-{gift}"]'
    wall = '[data-testid="donor-wall"]'

    await page.goto(f"{live_server}/lang/zh_CN?next=/p/{SLUG}")
    await submit_on(page, button)
    assert (await page.locator('[data-testid="flash"]').inner_text()).strip() == "留言已隐藏"
    assert "留言已隐藏" in await page.locator(wall).inner_text()
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await page.screenshot(path=str(artifact("375-zh_CN-wall-hidden.png")), full_page=True)
    await assert_accessible(page)

    await page.goto(f"{live_server}/lang/en?next=/p/{SLUG}")
    assert "Message hidden" in await page.locator(wall).inner_text()
    assert (await page.locator(button).inner_text()).strip() == "Show the message again"
    await submit_on(page, button)
    assert (await page.locator('[data-testid="flash"]').inner_text()).strip() == (
        "Message shown again"
    )
    assert WORDS in await page.locator(wall).inner_text()
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await assert_accessible(page)

    visitor = await (await browser.new_context(viewport=PHONE)).new_page()
    await visitor.goto(f"{live_server}/p/{SLUG}")
    assert await visitor.locator(button).count() == 0  # the public sees no form
    assert WORDS in await visitor.locator(wall).inner_text()
    await context.close()


@pytest.mark.parametrize(
    ("language", "problem"),
    [
        ("zh_CN", "请选择隐藏留言或恢复显示"),
        ("en", "Choose to hide the message or to show it again"),
    ],
)
async def test_a_tampered_choice_comes_back_beside_the_form(
    live_server: str, browser: Browser, gift: str, language: str, problem: str
) -> None:
    context = await browser.new_context(viewport=PHONE)  # a script only to tamper with the form
    page = await context.new_page()
    await log_in_with_browser(page, live_server, "m0@example.cn")
    await page.goto(f"{live_server}/lang/{language}?next=/p/{SLUG}")
    await page.locator(f'#form-message-{gift} input[name="hide"]').evaluate(
        "(input) => { input.value = 'maybe' }"
    )
    answer = await submit_on(page, f'[data-testid="moderate-{gift}"]')
    assert answer.status == 422
    assert problem in await page.locator(f"#form-message-{gift}").inner_text()
    assert "留言已隐藏" not in await page.content()
    await assert_accessible(page)
    await context.close()
