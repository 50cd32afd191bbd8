"""The receipt page's place in the transparency log (docs/transparency.md, "Checking"): a
note while the entry waits, then its log index, the checkpoint, its witnesses and the proof
download; on a 375 px phone in Chromium without JavaScript, in Chinese and English, the
downloaded proof checks offline."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
from playwright.async_api import Browser

from linju.projects.ledger.log.services import integrate
from tests.browser_fixtures import PHONE, artifact
from tests.client_support import AppClient
from tests.payments.helpers import sandbox_event, signed
from tests.platform.test_cli import run_linju
from tests.projects.ledger.ledger_support import new_project


async def _paid_receipt(client: AppClient, slug: str) -> str:
    created = await client.post(
        f"/api/v1/projects/{slug}/donations",
        json={"amount": {"amount": 2_000, "currency": "CNY"}, "display_name": "王阿姨"},
    )
    assert created.status_code == 201, created.text
    body, headers = signed(await sandbox_event(created.json()["checkout_url"], "paid"))
    assert (await client.post("/webhooks/sandbox", content=body, headers=headers)).is_success
    return httpx.URL(created.json()["receipt_url"]).path


async def test_the_receipt_waits_then_shows_its_place_and_proof(client: AppClient) -> None:
    slug = await new_project("log-receipt")
    receipt = await _paid_receipt(client, slug)
    waiting = await client.get(receipt)
    assert 'data-testid="receipt-log-waiting"' in waiting.text
    assert 'data-testid="receipt-proof"' not in waiting.text
    await integrate()
    shown = (await client.get(receipt)).text
    assert 'data-testid="receipt-log-index">0<' in shown
    assert f'href="/api/v1/projects/{slug}/ledger/1/proof"' in shown
    assert "未配置见证方" in shown  # no witness in this test's settings
    proof = await client.get(f"/api/v1/projects/{slug}/ledger/1/proof")
    assert proof.status_code == 200
    assert "\nindex 0\n" in proof.text


async def test_the_receipt_on_a_phone(live_server: str, browser: Browser, tmp_path: Path) -> None:
    slug = await new_project("log-receipt-phone")
    async with httpx.AsyncClient(base_url=live_server, timeout=30) as client:
        created = await client.post(
            f"/api/v1/projects/{slug}/donations",
            json={"amount": {"amount": 3_000, "currency": "CNY"}, "display_name": "李叔"},
        )
        assert created.status_code == 201, created.text
        checkout = created.json()["checkout_url"]
        receipt = httpx.URL(created.json()["receipt_url"]).path
        vkey = (await client.get("/log/key")).text.strip()
    context = await browser.new_context(
        viewport=PHONE, java_script_enabled=False, accept_downloads=True
    )
    page = await context.new_page()
    await page.goto(checkout)
    async with page.expect_navigation():
        await page.get_by_test_id("sandbox-succeed").click()
    if os.environ["DATABASE_URL"].startswith("postgresql"):
        await integrate()  # on PostgreSQL `linju serve` runs no jobs: a worker would
    for language in ("zh_CN", "en"):
        for _ in range(60):
            await page.goto(f"{live_server}/lang/{language}?next={receipt}")
            if await page.get_by_test_id("receipt-proof").count():
                break
            await page.wait_for_timeout(250)
        section = page.get_by_test_id("receipt-log")
        text = await section.inner_text()
        assert ("透明日志" if language == "zh_CN" else "Transparency log") in text
        assert await page.get_by_test_id("receipt-log-index").inner_text() == "0"
        assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        await page.screenshot(path=str(artifact(f"receipt-log-{language}-375.png")), full_page=True)
        async with page.expect_download() as download_info:
            await page.get_by_test_id("receipt-proof").click()
        download = await download_info.value
        assert download.suggested_filename == f"{slug}-1.tlog-proof"
        path = tmp_path / f"{language}.tlog-proof"
        await download.save_as(path)
        checked = run_linju("log", "verify-proof", str(path), "--log-key", vkey)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert f"OK {slug} #1 donation" in checked.stdout
    await context.close()
