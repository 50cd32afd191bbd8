"""The elder mode (长辈模式) in real Chromium without JavaScript (issue 15, docs/adr/0031).

A resident turns it on in the header of a 320 px phone and donates through the sandbox, in
Chinese and in English: on the project page, the review, the checkout and the receipt, the
text is at least 20 px with a line height of at least 1.5 times it, every visible target
(link, button, field, the label of a radio or a box) is at least 60 px high, nothing is wider
than the screen, no bar is fixed or sticky (so nothing hides the focus), the donation's steps
are worded plainly, and axe-core finds no violation with the 7:1 contrast rule on. Every public
page of the accessibility crawl passes the same axe rules in the elder mode at 320 px and at
1280 px, in both languages, and measures the same at 320 px; so does every staff page of that
crawl at 320 px (a secretary or a committee member may be an elder too).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import Browser, Page, ViewportSize

from tests.accessibility import assert_accessible, axe_violations, describe
from tests.accounts_support import log_in_with_browser
from tests.browser_fixtures import artifact, submit_on
from tests.platform.test_accessibility_everywhere import (  # noqa: F401 (the fixture)
    PUBLIC,
    STAFF,
    demo_with_people,
)

pytestmark = pytest.mark.browser
SLUG = "tongqu-leyuan"
NARROW: ViewportSize = {"width": 320, "height": 720}
WIDE: ViewportSize = {"width": 1280, "height": 900}
RECEIPT_URL = re.compile(r".*/donations/[A-Za-z0-9_-]{43}$")

WORDS: dict[str, dict[str, str]] = {
    "zh_CN": {
        "elder": "长辈模式",
        "standard": "标准模式",
        "steps": "捐款分三步：选金额，核对，付款。",
        "step1": "第一步：选金额",
        "review": "第二步：核对捐款",
        "pay": "第三步：付款",
        "thanks": "捐款成功，谢谢您！",
        "amount_label": "自己填金额（元）",
    },
    "en": {
        "elder": "Larger text",
        "standard": "Standard",
        "steps": "Three steps: choose an amount, check it, then pay.",
        "step1": "Step 1: choose an amount",
        "review": "Step 2: check your donation",
        "pay": "Step 3: pay",
        "thanks": "Done. Thank you!",
        "amount_label": "Or type the amount, in yuan",
    },
}

# What the elder mode promises, measured on the page as it stands.
MEASURE = """() => {
  const problems = [];
  const root = document.documentElement;
  if (!root.classList.contains('elder')) problems.push('<html> has no class elder');
  const shown = el => {
    const box = el.getBoundingClientRect();
    return box.width > 1 && box.height > 1 && getComputedStyle(el).visibility !== 'hidden';
  };
  const name = el => `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}`
    + `${el.classList.length ? '.' + [...el.classList].join('.') : ''} `
    + JSON.stringify((el.innerText || el.value || '').trim().slice(0, 40));
  if (root.scrollWidth > window.innerWidth) {
    const wide = [...document.body.querySelectorAll('*')].filter(
      el => el.getBoundingClientRect().right > window.innerWidth + 0.5
        || el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX === 'visible'
          && !el.closest('thead'));  // a stacked table's head is hidden, one pixel wide
    const innermost = wide.filter(el => !wide.some(other => other !== el && el.contains(other)));
    problems.push(`the page is ${root.scrollWidth} px wide: ${innermost.slice(0, 5).map(name)}`);
  }
  for (const el of document.body.querySelectorAll('*')) {
    if (!shown(el)) continue;
    if (![...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
    const style = getComputedStyle(el);
    const size = parseFloat(style.fontSize);
    if (size < 20) problems.push(`text of ${size} px: ${name(el)}`);
    const height = style.lineHeight === 'normal' ? 0 : parseFloat(style.lineHeight);
    if (height < 1.5 * size - 0.01)
      problems.push(`line height ${style.lineHeight} for ${size} px text: ${name(el)}`);
  }
  const targets = 'a[href], button, input:not([type=hidden]), select, textarea';
  for (const el of document.querySelectorAll(targets)) {
    if (!shown(el)) continue;
    const target = el.matches('[type=radio], [type=checkbox]') ? (el.closest('label') || el) : el;
    const box = target.getBoundingClientRect();
    const high = Math.round(box.height);
    if (high < 60) problems.push(`a target ${high} px high: ${name(target)}`);
    if (box.right > window.innerWidth + 0.5) problems.push(`beyond the screen: ${name(target)}`);
  }
  for (const el of document.querySelectorAll('*'))
    if (['fixed', 'sticky'].includes(getComputedStyle(el).position))
      problems.push(`a ${getComputedStyle(el).position} bar: ${name(el)}`);
  const body = getComputedStyle(document.body);
  return {
    problems: [...new Set(problems)],
    size: parseFloat(body.fontSize),
    lineHeight: parseFloat(body.lineHeight),
  };
}"""


@pytest.fixture
async def demo(db: str) -> None:
    from linju.projects.demo import load_demo

    assert await load_demo()


async def _measured(page: Page, where: str) -> None:
    found: dict[str, Any] = await page.evaluate(MEASURE)
    assert found["size"] >= 20, (where, found["size"])
    assert found["lineHeight"] >= 1.5 * found["size"], (where, found)
    assert not found["problems"], f"{where} ({page.url}):\n" + "\n".join(found["problems"])


async def _switch(page: Page, text: str) -> None:
    """Press the header's switch named `text`, as a resident would."""
    async with page.expect_navigation():
        await page.get_by_test_id("mode-switch").get_by_role("link", name=text).click()


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize("language", ["zh_CN", "en"])
async def test_donate_in_elder_mode_on_a_320_px_phone(
    live_server: str, browser: Browser, language: str
) -> None:
    words = WORDS[language]
    context = await browser.new_context(viewport=NARROW, java_script_enabled=False)
    page = await context.new_page()
    await page.goto(f"{live_server}/lang/{language}?next=/p/{SLUG}")
    switch = page.get_by_test_id("mode-switch")
    assert await switch.locator("[aria-current=true]").inner_text() == words["standard"]
    assert words["steps"] not in await page.content()

    # The header's switch: the same page again, in the elder mode, which says so.
    await _switch(page, words["elder"])
    assert page.url == f"{live_server}/p/{SLUG}"
    assert await switch.locator("[aria-current=true]").inner_text() == words["elder"]
    assert await page.get_by_test_id("donate-plain-steps").inner_text() == words["steps"]
    assert words["step1"] in await page.locator("#donate legend").inner_text()
    await _measured(page, "project page")
    await assert_accessible(page, enhanced=True)
    await page.screenshot(path=str(artifact(f"elder-project-{language}-320.png")), full_page=True)

    await page.get_by_label(words["amount_label"]).fill("66")
    await page.locator("input[name=amount_choice][value=custom]").check()
    await page.locator("input[name=display_name]").fill("王奶奶")
    await submit_on(page, "[data-testid=donate-submit]")
    assert await page.get_by_test_id("review-heading").inner_text() == words["review"]
    assert await page.get_by_test_id("review-pay").inner_text() == words["pay"]
    assert (await page.get_by_test_id("review-amount").inner_text()).startswith("¥66.00")
    await _measured(page, "review")
    await assert_accessible(page, enhanced=True)
    await page.screenshot(path=str(artifact(f"elder-review-{language}-320.png")), full_page=True)

    await submit_on(page, "[data-testid=review-pay]")
    await page.wait_for_url(re.compile(r".*/sandbox/checkout/sbx_.*"))
    await _measured(page, "sandbox checkout")
    await assert_accessible(page, enhanced=True)

    await submit_on(page, "[data-testid=sandbox-succeed]")
    await page.wait_for_url(RECEIPT_URL)
    assert await page.get_by_test_id("receipt").get_attribute("data-status") == "succeeded"
    assert words["thanks"] in await page.get_by_test_id("receipt-thanks").inner_text()
    await _measured(page, "receipt")
    await assert_accessible(page, enhanced=True)
    await page.screenshot(path=str(artifact(f"elder-receipt-{language}-320.png")), full_page=True)

    # Back to the standard mode: remembered, and the plain words are gone.
    await _switch(page, words["standard"])
    assert await page.evaluate("document.documentElement.classList.contains('elder')") is False
    assert words["thanks"] not in await page.get_by_test_id("receipt-thanks").inner_text()
    standard = (await page.evaluate(MEASURE))["problems"]  # the measure tells the modes apart
    assert any(problem.startswith("text of 16 px") for problem in standard), standard
    assert any(problem.startswith("a target ") for problem in standard), standard
    await page.goto(f"{live_server}/p/{SLUG}")
    assert await page.get_by_test_id("donate-plain-steps").count() == 0
    await context.close()


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize("language", ["zh_CN", "en"])
async def test_every_public_page_passes_enhanced_contrast_in_elder_mode(
    live_server: str, browser: Browser, language: str
) -> None:
    faults: list[str] = []
    for viewport in (NARROW, WIDE):
        context = await browser.new_context(viewport=viewport, java_script_enabled=False)
        page = await context.new_page()
        await page.goto(f"{live_server}/lang/{language}?next=/")
        await page.goto(f"{live_server}/mode/elder?next=/")
        for path in PUBLIC:
            await page.goto(f"{live_server}{path}")
            where = f"{language} {viewport['width']} px {path}"
            violations = await axe_violations(page, enhanced=True)
            if violations:
                faults.append(f"--- {where}\n{describe(violations)}")
            if viewport == NARROW:
                found = await page.evaluate(MEASURE)
                faults.extend(f"--- {where}: {problem}" for problem in found["problems"])
        await context.close()
    assert not faults, f"{len(faults)} fault(s) in the elder mode:\n" + "\n".join(faults)


@pytest.mark.usefixtures("demo_with_people")
@pytest.mark.parametrize("language", ["zh_CN", "en"])
async def test_every_staff_page_passes_enhanced_contrast_in_elder_mode(
    live_server: str, browser: Browser, language: str
) -> None:
    faults: list[str] = []
    seen = 0
    for email, paths in STAFF.items():
        context = await browser.new_context(viewport=NARROW, java_script_enabled=False)
        page = await context.new_page()
        await page.goto(f"{live_server}/lang/{language}?next=/")
        await page.goto(f"{live_server}/mode/elder?next=/")
        await log_in_with_browser(page, live_server, email)
        for path in paths:
            response = await page.goto(f"{live_server}{path}")
            assert response is not None
            assert response.status == 200, (email, path)
            where = f"{language} 320 px {email} {path}"
            violations = await axe_violations(page, enhanced=True)
            if violations:
                faults.append(f"--- {where}\n{describe(violations)}")
            found = await page.evaluate(MEASURE)
            faults.extend(f"--- {where}: {problem}" for problem in found["problems"])
            seen += 1
        await context.close()
    assert seen == sum(len(paths) for paths in STAFF.values())
    assert not faults, f"{len(faults)} fault(s) in the elder mode:\n" + "\n".join(faults)
