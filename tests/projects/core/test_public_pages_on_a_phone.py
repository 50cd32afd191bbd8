"""Every public page of the demo on a 375 px phone in both languages, in real Chromium (ADR 0023):
nothing wider than the phone, and English pages show no stored Chinese where a value is ours to
translate (anonymous donors, payment methods, the figures' names)."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser

from tests.accounts_support import log_in_with_browser, make_account
from tests.browser_fixtures import PHONE, artifact

pytestmark = pytest.mark.browser
SLUGS = ("tongqu-leyuan", "yuelanshi", "wuding-huayuan")
PAGES = (
    "/",
    "/c/lvjingyuan",
    "/c/hepingli",
    "/c/cuiweiyuan",
    *(f"/p/{slug}" for slug in SLUGS),
    *(f"/p/{slug}/ledger" for slug in SLUGS),
)
# Stored or enum values English pages must show in English (the places ADR 0023 fixed).
NOT_IN_ENGLISH = ("匿名", "银行转账", "社区书记", "捐款笔数", "剩余天数", "线下捐款")
# An English label followed by a Chinese colon: punctuation that did not follow the language.
CHINESE_COLON_AFTER_ENGLISH = re.compile(r"[A-Za-z)]\s*[：，。]")


@pytest.fixture
async def demo(db: str) -> None:
    from linju.projects.demo import load_demo

    assert await load_demo()


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize("language", ["zh_CN", "en"])
async def test_public_pages_fit_a_phone_in_both_languages(
    live_server: str, browser: Browser, language: str
) -> None:
    context = await browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = await context.new_page()
    await page.goto(f"{live_server}/lang/{language}?next=/")
    for path in PAGES:
        response = await page.goto(f"{live_server}{path}")
        assert response is not None
        assert response.status == 200, path
        width = await page.evaluate("document.documentElement.scrollWidth")
        name = path.strip("/").replace("/", "-") or "home"
        if width > PHONE["width"] or path.startswith("/p/"):  # kept for a look at the pages
            await page.screenshot(path=str(artifact(f"375-{language}-{name}.png")), full_page=True)
        assert width <= PHONE["width"], f"{path} is {width} px wide in {language}"
        if language == "en" and path.startswith("/p/") and not path.endswith("/ledger"):
            text = await page.locator("main").inner_text()
            for word in NOT_IN_ENGLISH:
                assert word not in text, f"{path} shows {word!r} in English"
            wrong = CHINESE_COLON_AFTER_ENGLISH.search(text)
            assert wrong is None, f"{path}: {text[wrong.start() - 40 : wrong.end() + 20]!r}"
    await context.close()


STAFF_PAGES = {
    "sec@example.cn": ("/p/tongqu-leyuan/offline", "/p/tongqu-leyuan/spending"),
    "admin@example.cn": ("/admin", "/admin/audit"),
}


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize("language", ["zh_CN", "en"])
async def test_staff_tables_fit_a_phone_in_both_languages(
    live_server: str, browser: Browser, language: str
) -> None:
    await make_account("admin@example.cn", "admin")
    await make_account("sec@example.cn", "secretary", community="lvjingyuan")
    for email, paths in STAFF_PAGES.items():
        context = await browser.new_context(viewport=PHONE, java_script_enabled=False)
        page = await context.new_page()
        await page.goto(f"{live_server}/lang/{language}?next=/")
        await log_in_with_browser(page, live_server, email)
        for path in paths:
            response = await page.goto(f"{live_server}{path}")
            assert response is not None
            assert response.status == 200, path
            width = await page.evaluate("document.documentElement.scrollWidth")
            if width > PHONE["width"]:
                name = path.strip("/").replace("/", "-")
                await page.screenshot(
                    path=str(artifact(f"wide-{language}-{name}.png")), full_page=True
                )
            assert width <= PHONE["width"], f"{path} is {width} px wide in {language}"
            if language == "en":
                text = await page.locator("main").inner_text()
                assert "匿名" not in text, path
        await context.close()
