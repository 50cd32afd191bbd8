"""Official donation receipts in real Chromium on a 375 px phone, without JavaScript, in Chinese
and in English (docs/adr/0030-official-receipts-and-host-finance.md): the donor asks from the
receipt page (a bad credit code refused beside its field first), the host's finance staff issue
it from their queue through its confirmation page (a bad number and a non-PDF refused beside
their fields first), and the donor downloads the PDF from the receipt page. axe-core checks each
page; none is wider than the phone."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page

from linju.projects.donations.tables import OfficialReceipt
from tests.accessibility import assert_accessible
from tests.accounts_support import log_in_with_browser, make_account
from tests.browser_fixtures import PHONE, artifact, submit_on

pytestmark = pytest.mark.browser
SLUG = "tongqu-leyuan"
RECEIPT_URL = re.compile(r".*/donations/[A-Za-z0-9_-]{43}$")
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
ORG_CODE = "91420100MA4K2Y3L0N"
PAYER = "湖北青禾科技有限公司"

WORDS: dict[str, dict[str, str]] = {
    "zh_CN": {
        "bad_code": "这不是有效的统一社会信用代码",
        "asked": "已申请",
        "bad_number": "票据号码为 4 至 20 位数字",
        "not_pdf": "这个文件不是 PDF",
        "issued_flash": "已开具",
        "issued": "已开具",
    },
    "en": {
        "bad_code": "This is not a valid unified social credit code",
        "asked": "Asked for",
        "bad_number": "The receipt number is 4 to 20 digits",
        "not_pdf": "This file is not a PDF",
        "issued_flash": "Issued: receipt No.",
        "issued": "Issued",
    },
}


@pytest.fixture
async def demo(db: str) -> None:
    from linju.projects.demo import load_demo

    assert await load_demo()


async def _fits(page: Page) -> None:
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


async def _donation(live_server: str) -> str:
    """A donation started through the API; its sandbox checkout's address."""
    async with httpx.AsyncClient(base_url=live_server) as client:
        answer = await client.post(
            f"/api/v1/projects/{SLUG}/donations",
            json={"amount": {"amount": 12_300, "currency": "CNY"}, "anonymous": True},
        )
        assert answer.status_code == 201, answer.text
        return str(answer.json()["checkout_url"])


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize("language", ["zh_CN", "en"])
async def test_ask_issue_and_download_on_a_phone(
    live_server: str, browser: Browser, language: str
) -> None:
    words = WORDS[language]
    checkout = await _donation(live_server)
    number = "0000012345" if language == "zh_CN" else "0000054321"

    # The donor pays and lands on the receipt page, which offers the request form.
    donor = await browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = await donor.new_page()
    await page.goto(f"{live_server}/lang/{language}?next=/")
    await page.goto(checkout)
    await submit_on(page, "[data-testid=sandbox-succeed]")
    await page.wait_for_url(RECEIPT_URL)
    receipt = page.url
    await assert_accessible(page)

    # A bad credit code: refused beside the field, nothing written.
    await page.locator("input[name=payer_kind][value=organisation]").check()
    await page.locator("input[name=payer_name]").fill(PAYER)
    await page.locator("input[name=credit_code]").fill("91420100MA4K2Y3L0X")
    await page.locator("input[name=email]").fill("org@example.cn")
    answer = await submit_on(page, "[data-testid=official-submit]")
    assert answer.status == 422
    message = await page.locator("#e-official-receipt-credit_code").inner_text()
    assert words["bad_code"] in message
    assert await page.locator("input[name=payer_name]").input_value() == PAYER
    assert await OfficialReceipt.count() == 2  # the demo's: nothing written
    await _fits(page)
    await assert_accessible(page)

    await page.locator("input[name=credit_code]").fill(ORG_CODE)
    await submit_on(page, "[data-testid=official-submit]")
    status = page.get_by_test_id("official-status")
    assert await status.get_attribute("data-status") == "requested"
    assert words["asked"] in await status.inner_text()
    await _fits(page)
    await assert_accessible(page)
    await page.screenshot(path=str(artifact(f"official-asked-{language}-375.png")), full_page=True)

    # The host's finance staff issue it from their queue.
    await make_account(f"kj-{language}@example.cn", "finance", name="李会计")
    staff = await browser.new_context(viewport=PHONE, java_script_enabled=False)
    desk = await staff.new_page()
    await desk.goto(f"{live_server}/lang/{language}?next=/")
    await log_in_with_browser(desk, live_server, f"kj-{language}@example.cn")
    assert desk.url.endswith("/finance/receipts")
    await _fits(desk)
    await assert_accessible(desk)
    row = desk.get_by_test_id("finance-request").filter(has_text=PAYER)
    async with desk.expect_navigation():
        await row.get_by_test_id("finance-issue-link").click()
    assert await desk.get_by_test_id("confirm-what").is_visible()
    await _fits(desk)
    await assert_accessible(desk)

    form = desk.locator("[data-testid=confirm]").locator("xpath=ancestor::form")
    await form.locator("input[name=receipt_code]").fill("42010122")
    await form.locator("input[name=receipt_number]").fill("12-34")
    await form.locator("input[name=pdf]").set_input_files(
        {"name": "receipt.pdf", "mimeType": "application/pdf", "buffer": b"not a pdf at all"}
    )
    answer = await submit_on(desk, "[data-testid=confirm]")
    assert answer.status == 422
    assert (
        words["bad_number"] in await desk.locator("[id$=-receipt_number].field-error").inner_text()
    )
    assert words["not_pdf"] in await desk.locator("[id$=-pdf].field-error").inner_text()
    assert await OfficialReceipt.count().where(OfficialReceipt.status == "issued") == 1  # demo's
    await _fits(desk)
    await assert_accessible(desk)

    await form.locator("input[name=receipt_number]").fill(number)
    await form.locator("input[name=pdf]").set_input_files(
        {"name": "receipt.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    await submit_on(desk, "[data-testid=confirm]")
    assert desk.url.endswith("/finance/receipts")
    assert words["issued_flash"] in await desk.get_by_test_id("flash").inner_text()
    assert number in await desk.get_by_test_id("finance-issued").inner_text()
    await desk.screenshot(path=str(artifact(f"official-queue-{language}-375.png")), full_page=True)
    async with desk.expect_navigation():
        await desk.get_by_test_id("finance-issued").get_by_text(number).click()
    assert number in await desk.get_by_test_id("issued-details").inner_text()
    await _fits(desk)
    await assert_accessible(desk)
    await staff.close()

    # The donor comes back (the mail's link is the receipt page) and downloads the PDF.
    await page.goto(receipt)
    status = page.get_by_test_id("official-status")
    assert await status.get_attribute("data-status") == "issued"
    assert words["issued"] in await status.inner_text()
    assert number in await page.get_by_test_id("official-number").inner_text()
    await _fits(page)
    await assert_accessible(page)
    async with page.expect_download() as download_info:
        await page.get_by_test_id("official-download").click()
    download = await download_info.value
    path = await download.path()
    assert path is not None
    assert Path(path).read_bytes() == PDF  # noqa: ASYNC240
    await donor.close()
