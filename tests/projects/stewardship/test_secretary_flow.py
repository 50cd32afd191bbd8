"""A secretary's day on a 375 px phone in real headless Chromium, without JavaScript: log in,
draft, publish, post an update, record a cash donation that a committee member confirms, and
print the poster."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.async_api import Browser, FilePayload

from linju.platform.kernel.clock import local_today
from linju.projects.demo import load_demo
from linju.projects.ledger.tables import LedgerEntry
from linju.projects.stewardship.tables import OfflineDonation
from tests.accounts_support import log_in_with_browser, make_account
from tests.browser_fixtures import PHONE, artifact, submit_on
from tests.projects.stewardship.stewardship_support import png_bytes

pytestmark = pytest.mark.browser
SLUG = "reading-corner"


def png_file(name: str, data: bytes) -> FilePayload:
    return {"name": name, "mimeType": "image/png", "buffer": data}


async def test_draft_publish_update_cash_confirmation_and_poster(
    db: str, live_server: str, browser: Browser
) -> None:
    await load_demo()
    await make_account("sec@example.cn", "secretary", community="lvjingyuan")
    base = live_server
    secretary = await (
        await browser.new_context(viewport=PHONE, java_script_enabled=False)
    ).new_page()
    await log_in_with_browser(secretary, base, "sec@example.cn")

    await secretary.goto(f"{base}/secretary/c/lvjingyuan/new")
    await secretary.fill("#f-draft-slug", SLUG)
    await secretary.fill("#f-draft-title", "楼道读书角")
    await secretary.fill("#f-draft-summary", "给孩子们一个读书的地方")
    await secretary.fill("#f-draft-story", "**孩子们**需要一个安静的角落。")
    await secretary.fill("#f-draft-goal", "3000")
    await secretary.fill("#f-draft-deadline", (local_today() + timedelta(days=30)).isoformat())
    rows = {
        "budget-0-item": "书架",
        "budget-0-amount": "1000",
        "budget-1-item": "图书",
        "budget-1-amount": "2000",
        "committee-0-name": "王阿姨",
        "committee-0-background": "退休教师",
        "committee-1-name": "李师傅",
        "committee-1-background": "木工",
        "committee-2-name": "张医生",
        "committee-2-background": "社区医生",
        # the demo's host requires the fundraising plan's filing before publishing (ADR 0027)
        "filing_number": "51420107MJ4530321U26099",
        "plan_starts_on": local_today().isoformat(),
        "plan_ends_on": (local_today() + timedelta(days=90)).isoformat(),
    }
    for name, value in rows.items():
        await secretary.fill(f"#f-draft-{name}", value)
    await secretary.select_option("#f-draft-committee-0-role", "chair")
    await secretary.set_input_files(
        "#f-draft-cover",
        files=png_file("cover.png", png_bytes(900, 600)),
    )
    await secretary.click("[data-testid=save-draft]")
    assert secretary.url.endswith(f"/p/{SLUG}/manage")
    await secretary.screenshot(path=str(artifact("secretary-draft.png")), full_page=True)

    await submit_on(secretary, "form[action$='/manage/publish'] button")
    assert "¥3,000.00" in await secretary.get_by_test_id("confirm-goal").inner_text()
    await submit_on(secretary, "[data-testid=confirm]")  # publishing's confirmation (ADR 0024)
    assert secretary.url.endswith(f"/p/{SLUG}")
    assert "<strong>孩子们</strong>" in await secretary.content()

    await secretary.goto(f"{base}/p/{SLUG}/manage")
    await secretary.fill("#f-update-body", "书架已经装好了，欢迎来看看。")
    await secretary.set_input_files("#f-update-photos", files=png_file("shelf.png", png_bytes()))
    await secretary.click("form[action$='/manage/updates'] button")
    assert "书架已经装好了" in await secretary.get_by_test_id("update").first.inner_text()

    await secretary.goto(f"{base}/p/{SLUG}/manage")
    await secretary.fill("#f-offline-amount", "200")
    await secretary.fill("#f-offline-donor_name", "陈大爷")
    await secretary.fill("#f-offline-received_on", local_today().isoformat())
    await secretary.set_input_files(
        "#f-offline-evidence",
        files=png_file("receipt.png", png_bytes()),
    )
    await secretary.click("form[action$='/manage/offline'] button")
    recorded = await OfflineDonation.select().where(OfflineDonation.confirmed_at.is_null()).first()
    assert recorded is not None
    assert recorded["confirmed_at"] is None

    await make_account("wang@example.cn", "committee", name="王阿姨", project=SLUG)
    member = await (await browser.new_context(viewport=PHONE, java_script_enabled=False)).new_page()
    await log_in_with_browser(member, base, "wang@example.cn")
    await member.goto(f"{base}/p/{SLUG}/offline")
    assert "陈大爷" in await member.content()
    await submit_on(member, f"#o-{recorded['public_id']} button")
    assert "已确认" in await member.get_by_test_id("offline-row").first.inner_text()
    entry = (
        await LedgerEntry.select().where(LedgerEntry.public_ref == recorded["public_id"]).first()
    )
    assert entry is not None
    assert entry["kind"] == "offline_donation"
    await member.screenshot(path=str(artifact("committee-confirmed.png")), full_page=True)

    await secretary.goto(f"{base}/p/{SLUG}/poster")
    assert await secretary.get_by_test_id("poster-title").inner_text() == "楼道读书角"
    assert await secretary.locator("[data-testid=poster-qr] svg").count() == 1
    head = await secretary.get_by_test_id("poster-head").inner_text()
    assert head.startswith(f"#{entry['seq']} · ")
    await secretary.emulate_media(media="print")
    await secretary.screenshot(path=str(artifact("poster.png")), full_page=True)
