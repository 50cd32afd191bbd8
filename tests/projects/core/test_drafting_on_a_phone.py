"""Drafting on a 375 px phone in real headless Chromium without JavaScript, in Chinese and in
English (docs/adr/0022-drafting.md): rows typed in, a bad amount in row 2 refused beside it,
"add a row" keeping everything typed, the running total, saving, the edit page with its photos,
and the preview with its banner; never wider than the phone."""

from __future__ import annotations

import functools
from datetime import timedelta

import pytest
from playwright.async_api import Browser, FloatRect, Page, expect

from linju.platform.i18n import translate_in
from linju.platform.kernel.clock import local_today
from linju.projects.core.tables import Project
from linju.projects.demo import load_demo
from tests.accessibility import assert_accessible
from tests.accounts_support import log_in_with_browser, make_account
from tests.browser_fixtures import PHONE, artifact, submit_on
from tests.drafts import BARE_DRAFT_MISSING
from tests.projects.stewardship.stewardship_support import png_bytes

pytestmark = pytest.mark.browser


async def no_overflow(page: Page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width} px wide"


async def fill_rows(page: Page) -> None:
    deadline = (local_today() + timedelta(days=30)).isoformat()
    fields = {
        "title": "童趣乐园",
        "goal": "3000",
        "deadline": deadline,
        "budget-0-item": "书架",
        "budget-0-amount": "1000",
        "budget-1-item": "图书",
        "budget-1-amount": "一千五",
        "budget-2-item": "坐垫",
        "budget-2-amount": "500",
        "committee-0-name": "王阿姨",
        "committee-0-background": "退休教师",
        "committee-1-name": "李师傅",
        "committee-1-background": "木工",
        "committee-2-name": "张医生",
        "committee-2-background": "社区医生",
    }
    for name, value in fields.items():
        await page.fill(f"#f-draft-{name}", value)
    await page.select_option("#f-draft-committee-0-role", "chair")


async def secretary_on_a_phone(browser: Browser, base: str, locale: str) -> Page:
    """The demo, and its community's secretary logged in on a 375 px phone without JavaScript,
    reading `locale`."""
    await load_demo()
    await make_account("sec@example.cn", "secretary", community="lvjingyuan")
    context = await browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = await context.new_page()
    await log_in_with_browser(page, base, "sec@example.cn")
    await page.goto(f"{base}/lang/{locale}?next=/secretary")
    return page


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
async def test_drafting_with_rows_an_error_add_a_row_and_the_preview_on_a_phone(
    db: str, live_server: str, browser: Browser, locale: str
) -> None:
    page = await secretary_on_a_phone(browser, live_server, locale)
    base, t = live_server, functools.partial(translate_in, locale)

    await page.goto(f"{base}/secretary/c/lvjingyuan/new")
    await no_overflow(page)
    await fill_rows(page)

    # Saved with a bad amount in row 2: the message beside row 2, nothing saved.
    assert (await submit_on(page, "[data-testid=save-draft]")).status == 422
    message = t("Enter the amount in yuan, e.g. 2000 or 2000.50")
    assert message in await page.locator("#e-draft-budget-1-amount").inner_text()
    assert await page.get_attribute("#f-draft-budget-1-amount", "aria-invalid") == "true"
    assert await page.input_value("#f-draft-budget-2-item") == "坐垫"
    await no_overflow(page)
    await page.screenshot(path=str(artifact(f"draft-refused-{locale}.png")), full_page=True)

    # Corrected, then one more line: everything typed comes back, with the running total.
    await page.fill("#f-draft-budget-1-amount", "1000")
    assert (await submit_on(page, "[data-testid=add-budget]")).status == 200
    assert await page.locator("[data-testid=budget-row]").count() == 4
    assert await page.input_value("#f-draft-budget-1-amount") == "1000"
    assert await page.input_value("#f-draft-committee-0-role") == "chair"
    assert await page.input_value("#f-draft-slug") == "tong-qu-le-yuan"
    total = await page.get_by_test_id("running-total").inner_text()
    assert t("%(amount)s short of the goal", amount="¥500.00") in total
    await no_overflow(page)
    await page.fill("#f-draft-budget-3-item", "台灯")
    await page.fill("#f-draft-budget-3-amount", "500")
    await page.set_input_files(
        "#f-draft-cover", files={"name": "c.png", "mimeType": "image/png", "buffer": png_bytes()}
    )
    assert (await submit_on(page, "[data-testid=save-draft]")).status == 303
    assert page.url.endswith("/p/tong-qu-le-yuan/manage")

    # The edit page: the rows as saved, the cover's thumbnail; then the preview.
    await page.goto(f"{base}/p/tong-qu-le-yuan/manage/draft")
    assert await page.locator("[data-testid=budget-row]").count() == 4
    assert await page.get_by_test_id("thumb-cover").count() == 1
    assert t("equal to the goal") in await page.get_by_test_id("running-total").inner_text()
    await no_overflow(page)
    await page.screenshot(path=str(artifact(f"draft-edit-{locale}.png")), full_page=True)
    async with page.expect_navigation():
        await page.click("[data-testid=preview-link]")
    banner = page.get_by_test_id("preview-banner")
    assert t("Draft preview, visible to stewards only") in await banner.inner_text()
    assert "台灯" in await page.inner_text("main")
    await no_overflow(page)
    await page.screenshot(path=str(artifact(f"draft-preview-{locale}.png")), full_page=True)
    await page.context.close()


# Publishing's check on the draft (docs/adr/0038-publishing-checked-on-the-draft.md).
GROUPS = {"budget_rows", "committee_rows"}  # a fieldset: its message is inside it, at its end


async def box(page: Page, selector: str) -> FloatRect:
    found = await page.locator(selector).bounding_box()
    assert found is not None, f"{selector} is not shown"
    return found


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
async def test_a_refused_publication_leads_to_each_problem_beside_its_field_on_a_phone(
    db: str, live_server: str, browser: Browser, locale: str
) -> None:
    page = await secretary_on_a_phone(browser, live_server, locale)
    base, t = live_server, functools.partial(translate_in, locale)

    # A draft with a title and a goal only, saved in time; its deadline has since passed.
    await page.goto(f"{base}/secretary/c/lvjingyuan/new")
    await page.fill("#f-draft-title", "童趣乐园")
    await page.fill("#f-draft-goal", "3000")
    await page.fill("#f-draft-deadline", (local_today() + timedelta(days=30)).isoformat())
    assert (await submit_on(page, "[data-testid=save-draft]")).status == 303
    await Project.update({Project.deadline: local_today() - timedelta(days=1)}).where(
        Project.slug == "tong-qu-le-yuan"
    )

    # Refused on the workbench: each reason a link to its field on the draft.
    refused = await page.goto(f"{base}/p/tong-qu-le-yuan/manage/publish")
    assert refused is not None
    assert refused.status == 422
    reasons = page.locator("#form-publish-messages")
    await expect(reasons.get_by_role("link", name=t("The deadline is in the past"))).to_be_visible()
    await expect(page.get_by_test_id("fix-in-draft")).to_have_text(t("Fix them in the draft"))
    await no_overflow(page)
    await assert_accessible(page)
    await page.screenshot(path=str(artifact(f"publish-refused-{locale}.png")), full_page=True)
    async with page.expect_navigation():
        await reasons.get_by_role("link", name=t("The deadline is in the past")).click()
    assert page.url.endswith("/p/tong-qu-le-yuan/manage/draft?check=publish#f-draft-deadline")

    # Each problem beside its field: right under the field, or at the end of its group.
    await expect(page.get_by_test_id("error-summary")).to_be_visible()
    for name, messages in BARE_DRAFT_MISSING.items():
        error = page.locator(f"#e-draft-{name}")
        await expect(error).to_be_visible()
        for message in messages:
            await expect(error).to_contain_text(t(message))
        field, shown = await box(page, f"#f-draft-{name}"), await box(page, f"#e-draft-{name}")
        if name in GROUPS:
            assert field["y"] < shown["y"] < field["y"] + field["height"], name
        else:
            assert 0 <= shown["y"] - (field["y"] + field["height"]) < 40, name
        described = await page.get_attribute(f"#f-draft-{name}", "aria-describedby") or ""
        assert f"e-draft-{name}" in described.split()
    await no_overflow(page)
    await assert_accessible(page)
    await page.screenshot(path=str(artifact(f"publish-checked-draft-{locale}.png")), full_page=True)
    await page.context.close()
