"""The donation's review step in real Chromium on a 375 px phone, without JavaScript, in Chinese
and in English (issue 15, WCAG 2.2 SC 3.3.4, docs/adr/0027-host-and-fund.md): the project page's
募捐信息, a refused amount beside its field, the review (figures, capitals in Chinese, the name
on the wall, the message, the recipient fund, the gateway), 返回修改 with every value kept, then
确认并支付 through the sandbox to the receipt; never wider than the phone."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, Page

from linju.projects.donations.tables import Donation
from tests.browser_fixtures import PHONE, artifact, submit_on

pytestmark = pytest.mark.browser
SLUG = "tongqu-leyuan"
FUND = "青山区慈善会·绿景苑社区童趣乐园项目基金"
RECEIPT_URL = re.compile(r".*/donations/[A-Za-z0-9_-]{43}$")

WORDS: dict[str, dict[str, str]] = {
    "zh_CN": {
        "info": "募捐信息",
        "too_small": "最少捐 ¥1.00",
        "review": "核对捐款信息",
        "capitals": "人民币贰佰元整",
        "gateway": "测试收银台",
        "recipient": FUND + " · 青山区慈善会设立的慈善基金",
    },
    "en": {
        "info": "Fundraising details",
        "too_small": "The smallest donation is ¥1.00",
        "review": "Check your donation",
        "capitals": "",
        "gateway": "The sandbox",
        "recipient": FUND + " · a charity fund of 青山区慈善会",
    },
}


@pytest.fixture
async def demo(db: str) -> None:
    from linju.projects.demo import load_demo

    assert await load_demo()


async def _fits(page: Page) -> None:
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


async def _pending() -> int:
    return int(await Donation.count().where(Donation.status == "pending"))


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize("language", ["zh_CN", "en"])
async def test_review_go_back_fix_and_pay_on_a_phone(
    live_server: str, browser: Browser, language: str
) -> None:
    words = WORDS[language]
    context = await browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = await context.new_page()
    await page.goto(f"{live_server}/lang/{language}?next=/p/{SLUG}")
    info = page.get_by_test_id("fundraising-info")
    assert words["info"] in await info.inner_text()
    assert FUND in await page.get_by_test_id("fund-recipient").inner_text()
    assert "51420107MJ4530321U" in await page.get_by_test_id("fund-filing-number").inner_text()
    assert "51420107MJ4530321U" in await page.get_by_test_id("footer-host").inner_text()

    # A wrong amount: the form again, the message beside the field, nothing written.
    await page.locator("input[name=amount_choice][value=custom]").check()
    await page.locator("input[name=custom_amount]").fill("0.5")
    await page.locator("input[name=display_name]").fill("3号楼刘奶奶")
    await page.locator("textarea[name=message]").fill("孩子们玩得开心")
    answer = await submit_on(page, "[data-testid=donate-submit]")
    assert answer.status == 422
    assert words["too_small"] in await page.locator("#e-donate-custom_amount").inner_text()
    assert await page.locator("input[name=display_name]").input_value() == "3号楼刘奶奶"
    await _fits(page)
    await page.screenshot(path=str(artifact(f"donate-refused-{language}-375.png")), full_page=True)

    # Fixed: the review shows the gift; nothing is written yet.
    await page.locator("input[name=custom_amount]").fill("200")
    await page.locator("input[name=email]").fill("liu@example.cn")
    answer = await submit_on(page, "[data-testid=donate-submit]")
    assert answer.status == 200
    assert await page.get_by_test_id("review-heading").inner_text() == words["review"]
    amount = await page.get_by_test_id("review-amount").inner_text()
    assert amount.startswith("¥200.00")
    if words["capitals"]:
        assert await page.get_by_test_id("review-capitals").inner_text() == words["capitals"]
    else:
        assert "人民币" not in amount
    assert await page.get_by_test_id("review-name").inner_text() == "3号楼刘奶奶"
    assert await page.get_by_test_id("review-message").inner_text() == "孩子们玩得开心"
    assert await page.get_by_test_id("review-recipient").inner_text() == words["recipient"]
    assert words["gateway"] in await page.get_by_test_id("review-gateway").inner_text()
    assert await _pending() == 0
    await _fits(page)
    await page.screenshot(path=str(artifact(f"donate-review-{language}-375.png")), full_page=True)

    # 返回修改: the form comes back with every value kept.
    await submit_on(page, "[data-testid=review-edit]")
    assert await page.locator("input[name=custom_amount]").input_value() == "200"
    assert await page.locator("input[name=display_name]").input_value() == "3号楼刘奶奶"
    assert await page.locator("textarea[name=message]").input_value() == "孩子们玩得开心"
    assert await page.locator("input[name=email]").input_value() == "liu@example.cn"
    assert await page.locator("input[name=amount_choice][value=custom]").is_checked()
    assert await _pending() == 0

    # Anonymous this time: reviewed as such, then confirmed and paid.
    await page.locator("input[name=anonymous]").check()
    await submit_on(page, "[data-testid=donate-submit]")
    name = await page.get_by_test_id("review-name").inner_text()
    assert name == ("匿名" if language == "zh_CN" else "Anonymous")
    await submit_on(page, "[data-testid=review-pay]")
    await page.wait_for_url(re.compile(r".*/sandbox/checkout/sbx_.*"))
    assert await page.get_by_test_id("sandbox-amount").inner_text() == "¥200.00"
    assert await _pending() == 1
    await submit_on(page, "[data-testid=sandbox-succeed]")
    await page.wait_for_url(RECEIPT_URL)
    assert await page.get_by_test_id("receipt").get_attribute("data-status") == "succeeded"
    await _fits(page)
    await context.close()
