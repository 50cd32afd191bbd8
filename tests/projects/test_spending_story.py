"""The whole story of 童趣乐园 in real headless Chromium on a 375 px phone, without JavaScript:
residents give through the sandbox, the secretary closes fundraising and proposes the see-saws
with an invoice, two committee members approve on their page, the secretary pays and files the
completion report, the committee signs it off — and then our ledger verifier, reading the public
export, and the public page agree to the fen."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, FilePayload, Page

from linju.platform.kernel.money import Money, format_money
from linju.projects.ledger.verify import verify_file
from tests.accounts_support import log_in_with_browser, make_account
from tests.browser_fixtures import PHONE, artifact, submit_on
from tests.projects.spending.spending_support import PDF_BYTES, png_bytes

pytestmark = pytest.mark.browser
SLUG = "tongqu-leyuan"


def upload(name: str, mime: str, data: bytes) -> FilePayload:
    return {"name": name, "mimeType": mime, "buffer": data}


async def phone(browser: Browser) -> Page:
    context = await browser.new_context(viewport=PHONE, java_script_enabled=False)
    return await context.new_page()


async def no_sideways_scroll(page: Page) -> None:
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


async def decide_all(page: Page, base: str, reason: str) -> None:
    """Approve everything awaiting this member (one card at a time, as on a phone)."""
    await page.goto(f"{base}/committee")
    await no_sideways_scroll(page)
    card = page.get_by_test_id("awaiting").or_(page.get_by_test_id("awaiting-motion")).first
    await card.locator("textarea[name=reason]").fill(reason)
    await submit_on(
        page, f"#{await card.locator('form').get_attribute('id')} button[value=approve]"
    )
    # confirmed on its own page (ADR 0024), which carries the reason
    assert reason in await page.get_by_test_id("confirm-what").inner_text()
    await submit_on(page, "[data-testid=confirm]")
    assert await page.get_by_test_id("flash").inner_text() in (
        "已批准，还差 1 票",
        "已批准，支出已通过，书记现在可以付款",
        "已签署，项目已结项",
    )


async def test_the_story_of_the_playground(db: str, live_server: str, browser: Browser) -> None:
    from linju.projects.demo import load_demo

    assert await load_demo()
    base = live_server
    await make_account("liu@example.cn", "secretary", name="刘书记", community="lvjingyuan")
    await make_account("zhang@example.cn", "committee", name="张建国", project=SLUG)
    await make_account("li@example.cn", "committee", name="李敏", project=SLUG)

    donor = await phone(browser)
    await donor.goto(f"{base}/p/{SLUG}#donate")
    await donor.get_by_label("其他金额（元）").fill("300")
    await donor.get_by_label("在捐款墙上显示的名字").fill("3号楼刘奶奶")
    await submit_on(donor, "[data-testid=donate-submit]")
    # the review step (ADR 0027): the gift in figures and capitals, then 确认并支付
    assert "人民币叁佰元整" in await donor.get_by_test_id("review-amount").inner_text()
    await submit_on(donor, "[data-testid=review-pay]")
    await donor.wait_for_url(re.compile(r".*/sandbox/checkout/sbx_.*"))
    await submit_on(donor, "[data-testid=sandbox-succeed]")
    # the receipt opens by its own secret token, never by the public id (ADR 0020)
    await donor.wait_for_url(re.compile(r".*/donations/[A-Za-z0-9_-]{43}$"))
    assert await donor.get_by_test_id("receipt").get_attribute("data-status") == "succeeded"

    secretary = await phone(browser)
    await log_in_with_browser(secretary, base, "liu@example.cn")
    await secretary.goto(f"{base}/p/{SLUG}/spending")
    await submit_on(secretary, "form[action$='/spending/fundraising-closed'] button")
    await submit_on(secretary, "[data-testid=confirm]")  # its confirmation page (ADR 0024)
    await secretary.goto(f"{base}/p/{SLUG}/spending")
    see_saws = secretary.locator("#f-propose-budget_line option", has_text="跷跷板")
    line = await see_saws.get_attribute("value")
    await secretary.select_option("#f-propose-budget_line", value=line)
    await secretary.fill("#f-propose-payee", "青山游乐设备厂")
    await secretary.fill("#f-propose-purpose", "跷跷板两台（含运输）")
    await secretary.fill("#f-propose-amount", "2980.00")
    await secretary.set_input_files(
        "#f-propose-invoice", files=upload("发票.pdf", "application/pdf", PDF_BYTES)
    )
    await secretary.set_input_files(
        "#f-propose-invoice_public", files=upload("发票-已遮盖.png", "image/png", png_bytes())
    )
    await no_sideways_scroll(secretary)
    await submit_on(secretary, "form[action$='/spending/expenditures'] button[type=submit]")
    assert "等待监督委员会审批" in await secretary.content()
    await secretary.screenshot(path=str(artifact("spending-proposed-375.png")), full_page=True)

    for email, reason in (
        ("zhang@example.cn", "价格合理，有三家报价"),
        ("li@example.cn", "合同条款无问题"),
    ):
        member = await phone(browser)
        await log_in_with_browser(member, base, email)
        await member.goto(f"{base}/committee")
        card = member.get_by_test_id("awaiting").first
        assert await card.get_by_test_id("awaiting-amount").inner_text() == "¥2,980.00"
        await member.screenshot(path=str(artifact("committee-decide-375.png")), full_page=True)
        await decide_all(member, base, reason)
        await member.context.close()

    await secretary.goto(f"{base}/p/{SLUG}/spending")
    async with secretary.expect_navigation():
        await secretary.click("[data-testid=pay-link]")  # the payment's confirmation page
    payment = secretary.locator("form[action$='/payment']")
    await payment.locator("select[name=method]").select_option("transfer")
    await payment.locator("input[name=proof]").set_input_files(
        files=upload("回单.png", "image/png", png_bytes())
    )
    await submit_on(secretary, "form[action$='/payment'] button[type=submit]")

    await secretary.goto(f"{base}/p/{SLUG}/spending")
    await secretary.fill("#f-completion-summary", "两台跷跷板已在2号楼架空层安装并通过验收。")
    photo = upload("现场.png", "image/png", png_bytes())
    await secretary.set_input_files("#f-completion-photos", files=photo)
    await submit_on(secretary, "form[action$='/spending/completion'] button[type=submit]")

    for email, reason in (("zhang@example.cn", "验收合格"), ("li@example.cn", "账目相符")):
        member = await phone(browser)
        await log_in_with_browser(member, base, email)
        await decide_all(member, base, reason)
        await member.context.close()

    resident = await phone(browser)
    await resident.goto(f"{base}/p/{SLUG}")
    await no_sideways_scroll(resident)
    await resident.screenshot(path=str(artifact("spending-public-375.png")), full_page=True)
    text = await resident.content()
    assert "已付款" in text
    assert "价格合理，有三家报价" in text
    assert "已签署通过" in text

    export = await resident.request.get(f"{base}/api/v1/projects/{SLUG}/ledger.jsonl")
    assert export.status == 200
    body = await export.body()
    path = Path(artifact("tongqu-leyuan-ledger.jsonl"))
    await asyncio.to_thread(path.write_bytes, body)
    result = await asyncio.to_thread(verify_file, path)
    assert result.ok, result.fault
    entries = [json.loads(line) for line in body.decode("utf-8").splitlines() if line]
    fund = f"fund:{SLUG}"
    balance = sum(p["amount"] for e in entries for p in e["postings"] if p["account"] == fund)
    spent = sum(p["amount"] for e in entries for p in e["postings"] if p["account"] == "payees")
    assert spent == 298_000
    assert balance == 0  # the leftover went to the community's general fund
    assert any(e["kind"] == "transfer" for e in entries)
    shown_balance = await resident.get_by_test_id("balance").inner_text()
    shown_spent = await resident.get_by_test_id("spent").inner_text()
    assert shown_balance == format_money(Money(balance), "zh_CN")
    assert shown_spent == format_money(Money(spent), "zh_CN")
    assert await resident.get_by_test_id("ledger-head").inner_text() == entries[-1]["hash"]
