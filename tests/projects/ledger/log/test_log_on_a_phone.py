"""The ledger page's transparency-log box and its per-entry proofs on a 375 px phone without
JavaScript, in real Chromium, in Chinese then English: the checkpoint shown is the one served,
and a proof downloaded from the page checks offline."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser

from linju.projects.ledger.log.note import open_note, parse_checkpoint, parse_vkey
from linju.projects.ledger.log.services import integrate
from tests.browser_fixtures import PHONE, artifact
from tests.platform.test_cli import run_linju

pytestmark = pytest.mark.browser


@pytest.fixture
async def demo(db: str) -> None:
    from linju.projects.demo import load_demo

    assert await load_demo()


@pytest.mark.usefixtures("demo")
async def test_the_log_box_and_a_downloaded_proof(
    live_server: str, browser: Browser, tmp_path: Path
) -> None:
    done = await integrate()
    assert done.size > 12
    context = await browser.new_context(
        viewport=PHONE, java_script_enabled=False, accept_downloads=True
    )
    page = await context.new_page()
    for language, title, proof_word in (
        ("zh_CN", "透明日志", "证明"),
        ("en", "Transparency log", "Proof"),
    ):
        await page.goto(f"{live_server}/lang/{language}?next=/p/wuding-huayuan/ledger")
        assert page.url.endswith("/p/wuding-huayuan/ledger")
        box = page.get_by_test_id("log-box")
        assert title in await box.inner_text()
        vkey = await page.get_by_test_id("log-key").inner_text()
        served = await context.request.get(f"{live_server}/log/checkpoint")
        checkpoint = parse_checkpoint(open_note(await served.text(), [parse_vkey(vkey)]).text)
        assert int(await page.get_by_test_id("log-size").inner_text()) == checkpoint.size
        assert await page.get_by_test_id("log-root").inner_text() == (
            __import__("base64").b64encode(checkpoint.root).decode()
        )
        links = page.get_by_test_id("proof-link")
        assert await links.count() == 12  # every entry of the garden is in the log
        assert await links.first.inner_text() == proof_word
        assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        await page.screenshot(path=str(artifact(f"ledger-log-{language}-375.png")), full_page=True)
        async with page.expect_download() as download_info:
            await links.first.click()
        download = await download_info.value
        assert download.suggested_filename == "wuding-huayuan-12.tlog-proof"
        path = tmp_path / f"{language}.tlog-proof"
        await download.save_as(path)
        checked = run_linju("log", "verify-proof", str(path), "--log-key", vkey)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert "OK wuding-huayuan #12 transfer" in checked.stdout
    await context.close()
