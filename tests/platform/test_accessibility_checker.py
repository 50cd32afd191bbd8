"""The accessibility checker itself (tests/accessibility.py, docs/adr/0025): it fails on pages with
known violations, naming them, and passes a page without; `enhanced` holds text to 7:1.

A checker that never fails proves nothing, so each known fault is served to a page with script
disabled, as our pages are, and must be reported by its axe rule and selector."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page, Route

from tests.accessibility import assert_accessible, axe_violations
from tests.browser_fixtures import PHONE

ADDRESS = "http://checker.test/page"
CLEAN_BODY = (
    "<header><p>Linju</p></header><main><h1>Hello</h1>"
    '<p style="color:#222;background:#fff">Readable text.</p>'
    '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" alt="a dot"></main>'
)


def document(body: str, *, lang: str = "zh-CN") -> str:
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Checker</title></head><body>{body}</body></html>"
    )


async def served(browser: Browser, html: str) -> Page:
    """A page with script disabled showing `html` at ADDRESS (its twin fetches it too)."""
    context = await browser.new_context(viewport=PHONE, java_script_enabled=False)

    async def serve(route: Route) -> None:
        await route.fulfill(status=200, body=html, content_type="text/html; charset=utf-8")

    await context.route(ADDRESS, serve)
    page = await context.new_page()
    await page.goto(ADDRESS)
    return page


async def test_a_page_without_faults_passes(browser: Browser) -> None:
    page = await served(browser, document(CLEAN_BODY))
    await assert_accessible(page)
    await page.context.close()


async def test_an_image_without_alt_and_low_contrast_fail_naming_each(browser: Browser) -> None:
    body = (
        "<main><h1>Faults</h1>"
        '<img id="photo" src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">'
        '<p id="faint" style="color:#bbb;background:#fff">Too faint to read.</p></main>'
    )
    page = await served(browser, document(body))
    with pytest.raises(AssertionError) as failure:
        await assert_accessible(page)
    message = str(failure.value)
    assert "image-alt (critical)" in message
    assert '"#photo"' in message
    assert "color-contrast (serious)" in message
    assert '"#faint"' in message
    assert "Images must have alternative text" in message  # axe's help text
    await page.context.close()


async def test_missing_language_unnamed_field_and_small_target_fail(browser: Browser) -> None:
    html = (
        '<!doctype html><html><head><meta charset="utf-8"><title>x</title></head><body>'
        '<main><h1>Form</h1><form><input id="nameless" type="text"></form>'
        '<p>Read <a id="tiny" href="/a" style="display:inline-block;width:10px;height:10px;'
        'overflow:hidden"></a><a href="/b" style="display:inline-block;width:10px;height:10px">b'
        "</a></p></main></body></html>"
    )
    page = await served(browser, html)
    ids = {violation["id"] for violation in await axe_violations(page)}
    assert {"html-has-lang", "label", "link-name"} <= ids, ids
    await page.context.close()


async def test_enhanced_holds_text_to_seven_to_one(browser: Browser) -> None:
    # #767676 on white is 4.54:1: enough for AA, not for the elder mode's 7:1.
    body = '<main><h1>Grey</h1><p id="grey" style="color:#767676;background:#fff">Grey.</p></main>'
    page = await served(browser, document(body))
    await assert_accessible(page)
    with pytest.raises(AssertionError, match="color-contrast-enhanced"):
        await assert_accessible(page, enhanced=True)
    await page.context.close()
