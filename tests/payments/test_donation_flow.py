"""Donating through the sandbox in real headless Chromium on a 375 px phone, without JavaScript.

The live server's LINJU_BASE_URL is its own address, so the sandbox's signed webhook travels
over real HTTP to /webhooks/sandbox before the donor lands on the receipt.
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.async_api import Browser, Page

from linju.platform.kernel.money import Money, format_money
from linju.projects.core import read as queries
from linju.projects.ledger.tables import LedgerEntry
from tests.browser_fixtures import PHONE, artifact, submit_on

pytestmark = pytest.mark.browser
SLUG = "tongqu-leyuan"
# The receipt's address holds its own secret token, not the donation's public id (ADR 0020).
RECEIPT_URL = re.compile(r".*/donations/[A-Za-z0-9_-]{43}$")


@pytest.fixture
async def demo(db: str) -> None:
    from linju.projects.demo import load_demo

    assert await load_demo()


async def _donate(page: Page, base: str, amount: str, name: str, message: str) -> None:
    await page.goto(f"{base}/p/{SLUG}#donate")
    await page.get_by_label("其他金额（元）").fill(amount)
    await page.get_by_label("在捐款墙上显示的名字").fill(name)
    await page.get_by_label("留言（可选，公开显示）").fill(message)
    await submit_on(page, "[data-testid=donate-submit]")
    # the review step (ADR 0027): nothing is written until 确认并支付
    assert await page.get_by_test_id("review-name").inner_text() == name
    await submit_on(page, "[data-testid=review-pay]")
    await page.wait_for_url(re.compile(r".*/sandbox/checkout/sbx_.*"))


async def _no_sideways_scroll(page: Page) -> None:
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


@pytest.mark.usefixtures("demo")
async def test_donate_and_succeed_then_see_receipt_wall_and_figures(
    live_server: str, browser: Browser
) -> None:
    before = (await queries.get_project(SLUG)).summary
    entries_before = await LedgerEntry.count().where(LedgerEntry.project.slug == SLUG)
    context = await browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = await context.new_page()

    await page.goto(f"{live_server}/p/{SLUG}")
    await _no_sideways_scroll(page)
    await page.screenshot(path=str(artifact("donate-form-375.png")), full_page=True)
    await _donate(page, live_server, "88.5", "小李", "<b>加油</b>")
    assert await page.get_by_test_id("sandbox-amount").inner_text() == "¥88.50"
    assert "童趣乐园" in await page.get_by_test_id("sandbox-project").inner_text()
    await _no_sideways_scroll(page)
    await page.screenshot(path=str(artifact("sandbox-checkout-375.png")), full_page=True)

    await submit_on(page, "[data-testid=sandbox-succeed]")
    await page.wait_for_url(RECEIPT_URL)
    receipt = page.get_by_test_id("receipt")
    assert await receipt.get_attribute("data-status") == "succeeded"
    assert await page.get_by_test_id("receipt-amount").inner_text() == "¥88.50"
    digest = await page.get_by_test_id("receipt-hash").inner_text()
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    seq = int((await page.get_by_test_id("receipt-seq").inner_text()).lstrip("#"))
    assert seq == entries_before + 1
    link = await page.get_by_test_id("receipt-entry-link").get_attribute("href")
    assert link == f"/api/v1/projects/{SLUG}/ledger/{seq}"
    await _no_sideways_scroll(page)
    await page.screenshot(path=str(artifact("receipt-375.png")), full_page=True)
    token = page.url.rsplit("/", 1)[1]
    published = await page.request.get(f"{live_server}{link}")
    assert published.status == 200
    entry = json.loads(await published.text())
    assert (entry["seq"], entry["kind"], entry["hash"]) == (seq, "donation", digest)
    assert entry["ref"].startswith("don_")
    assert entry["ref"] != token
    by_ref = await page.request.get(f"{live_server}/donations/{entry['ref']}")
    assert by_ref.status == 404  # the ledger's public ref opens no receipt
    assert entry["memo"] == "小李（测试模式，不收真钱）"

    await page.goto(f"{live_server}/p/{SLUG}")
    raised = await page.get_by_test_id("raised").inner_text()
    assert raised == format_money(before.raised + Money(8850), "zh_CN")
    donors = await page.get_by_test_id("donations-count").inner_text()
    assert int(donors) == before.donations_count + 1
    head = await page.get_by_test_id("ledger-head").inner_text()
    assert head != "0" * 64
    wall = page.get_by_test_id("donor-wall")
    first = wall.locator("li").first
    assert "小李" in await first.inner_text()
    assert "<b>加油</b>" in await first.inner_text()  # shown as text, not markup
    assert await wall.locator("b").count() == 0
    await page.screenshot(path=str(artifact("donor-wall-375.png")), full_page=True)

    after = (await queries.get_project(SLUG)).summary
    fee = (8850 * 6 + 500) // 1000
    assert after.balance == before.balance + Money(8850 - fee)
    assert await LedgerEntry.count().where(LedgerEntry.project.slug == SLUG) == entries_before + 2
    await context.close()


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize(("button", "status"), [("支付失败", "failed"), ("放弃支付", "expired")])
async def test_failed_and_abandoned_payments_post_nothing(
    live_server: str, browser: Browser, button: str, status: str
) -> None:
    before = (await queries.get_project(SLUG)).summary
    head_before = (await queries.get_project(SLUG)).ledger_head
    context = await browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = await context.new_page()
    await _donate(page, live_server, "50", "小王", "")
    async with page.expect_navigation():
        await page.get_by_role("button", name=button).click()
    await page.wait_for_url(RECEIPT_URL)
    assert await page.get_by_test_id("receipt").get_attribute("data-status") == status
    assert await page.get_by_test_id(f"receipt-{status}").is_visible()
    await page.screenshot(path=str(artifact(f"receipt-{status}-375.png")), full_page=True)
    after = await queries.get_project(SLUG)
    assert after.ledger_head == head_before
    assert after.summary.raised == before.raised
    assert after.summary.donations_count == before.donations_count
    await context.close()


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize(
    ("language", "thanks"),
    [("zh_CN", "谢谢您！"), ("en", "Thank you! Your donation is confirmed")],
)
async def test_the_donate_flow_lands_on_the_private_receipt_in_both_languages(
    live_server: str, browser: Browser, language: str, thanks: str
) -> None:
    context = await browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = await context.new_page()
    await page.goto(f"{live_server}/lang/{language}?next=/p/{SLUG}")
    await page.locator("input[name=amount_choice][value=custom]").check()
    await page.locator("input[name=custom_amount]").fill("66")
    await submit_on(page, "[data-testid=donate-submit]")
    await submit_on(page, "[data-testid=review-pay]")
    await page.wait_for_url(re.compile(r".*/sandbox/checkout/sbx_.*"))
    async with page.expect_response(lambda r: RECEIPT_URL.match(r.url) is not None) as landed:
        await page.get_by_test_id("sandbox-succeed").click()
    await page.wait_for_url(RECEIPT_URL)
    headers = await (await landed.value).all_headers()
    assert headers["cache-control"] == "private, no-store"
    assert headers["referrer-policy"] == "no-referrer"
    assert await page.locator('meta[name="robots"]').get_attribute("content") == "noindex"
    assert await page.get_by_test_id("receipt").get_attribute("data-status") == "succeeded"
    assert thanks in await page.get_by_test_id("receipt-thanks").inner_text()
    assert await page.get_by_test_id("receipt-amount").inner_text() == "¥66.00"
    await _no_sideways_scroll(page)
    await page.screenshot(path=str(artifact(f"receipt-{language}-375.png")), full_page=True)
    await context.close()
