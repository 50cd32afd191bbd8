"""A project page shares itself (docs/adr/0028-wall-sharing-time.md): Open Graph and Twitter
card tags read from the rendered HTML (title, summary, cover as an absolute address from
LINJU_BASE_URL, progress "已筹 ¥x / 目标 ¥y"), no tracking parameters, and the QR code of the
page's address for a desktop visitor, hidden on a 375 px phone."""

from __future__ import annotations

from html import unescape
from html.parser import HTMLParser
from typing import Any

import pytest
import segno
from playwright.async_api import Browser, ViewportSize

from linju.platform.settings import get_settings
from linju.projects.core.tables import Project
from tests.accessibility import assert_accessible
from tests.accounts_support import in_app
from tests.browser_fixtures import PHONE
from tests.projects.spending.spending_support import SLUG, funded_project

Client = Any
SUMMARY = "给小区的孩子们一个安全的游乐场"


class _Meta(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: dict[str, str] = {}
        self.canonical = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "meta" and ("property" in found or "name" in found):
            self.tags[found.get("property") or found["name"]] = unescape(found.get("content", ""))
        if tag == "link" and found.get("rel") == "canonical":
            self.canonical = found.get("href", "")


def meta_tags(html: str) -> dict[str, str]:
    parser = _Meta()
    parser.feed(html[: html.index("</head>")])
    return {**parser.tags, "canonical": parser.canonical}


async def shared_project(cover: str = "/photos/cover.png") -> None:
    await funded_project(balance=10_000, committee_size=3, close=False)
    await Project.update({Project.cover_image: cover, Project.summary: SUMMARY}).where(
        Project.slug == SLUG
    )


@pytest.mark.http
async def test_the_page_carries_open_graph_and_twitter_cards_in_both_languages(
    client: Client,
) -> None:
    await in_app(client, shared_project)
    base = await in_app(client, _base_url)
    html = (await client.get(f"/p/{SLUG}")).text
    tags = meta_tags(html)
    assert tags["og:title"] == "童趣乐园"
    assert tags["twitter:title"] == "童趣乐园"
    assert tags["og:url"] == f"{base}/p/{SLUG}"
    assert tags["canonical"] == f"{base}/p/{SLUG}"
    assert tags["og:image"] == f"{base}/photos/cover.png"
    assert tags["twitter:image"] == f"{base}/photos/cover.png"
    assert tags["twitter:card"] == "summary_large_image"
    assert tags["og:description"] == f"已筹 ¥100.00 / 目标 ¥12,000.00 · {SUMMARY}"
    assert tags["twitter:description"] == tags["og:description"]
    assert tags["twitter:data1"] == "已筹 ¥100.00 / 目标 ¥12,000.00"
    assert tags["og:locale"] == "zh_CN"
    for name in ("og:url", "og:image", "twitter:image", "canonical"):  # no tracking, no query
        assert "?" not in tags[name], tags[name]
        assert "utm_" not in tags[name]

    await client.get("/lang/en")
    tags = meta_tags((await client.get(f"/p/{SLUG}")).text)
    assert tags["og:description"] == f"Raised ¥100.00 / goal ¥12,000.00 · {SUMMARY}"
    assert tags["og:locale"] == "en_US"
    assert tags["og:url"] == f"{base}/p/{SLUG}"


@pytest.mark.http
async def test_without_a_cover_the_card_is_a_summary_and_names_no_image(client: Client) -> None:
    await in_app(client, lambda: shared_project(cover=""))
    tags = meta_tags((await client.get(f"/p/{SLUG}")).text)
    assert tags["twitter:card"] == "summary"
    assert "og:image" not in tags
    assert "twitter:image" not in tags


@pytest.mark.http
async def test_the_qr_code_is_the_pages_own_address(client: Client) -> None:
    await in_app(client, shared_project)
    base = await in_app(client, _base_url)
    html = (await client.get(f"/p/{SLUG}")).text
    start = html.index('data-testid="share-qr"')
    aside = html[start : html.index("</aside>", start)]
    expected = segno.make(f"{base}/p/{SLUG}", error="m").svg_inline(
        scale=6, border=2, dark="#000", light="#fff"
    )
    assert expected in aside
    assert f'href="{base}/p/{SLUG}"' in aside


async def _base_url() -> str:
    return get_settings().base_url


@pytest.mark.browser
@pytest.mark.parametrize("language", ["zh_CN", "en"])
async def test_the_qr_code_shows_on_a_desktop_and_not_on_a_phone(
    db: str, live_server: str, browser: Browser, language: str
) -> None:
    await shared_project()
    for viewport, visible in ((PHONE, False), (ViewportSize(width=1280, height=900), True)):
        context = await browser.new_context(viewport=viewport, java_script_enabled=False)
        page = await context.new_page()
        await page.goto(f"{live_server}/lang/{language}?next=/p/{SLUG}")
        qr = page.locator('[data-testid="share-qr"]')
        assert await qr.is_visible() is visible, (viewport, language)
        tags = meta_tags(await page.content())
        assert tags["og:url"] == f"{live_server}/p/{SLUG}"
        assert await page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        await assert_accessible(page)
        await context.close()
