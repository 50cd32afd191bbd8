"""The confirmation pages the secretary's journey does not pass through, on a 375 px phone in
Chromium without JavaScript, in Chinese and in English (docs/adr/0024): asking the committee to
cancel (a reason left empty comes back beside the field; the reason is carried to the page) and
a member's approval of the cancellation, then a member's sign-off of a completion report. Each
page says what will happen with the amounts and who will see it, fits the phone, passes axe-core,
and the page the confirmation lands on says what happened."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page

from linju.platform.i18n import translate_in
from linju.platform.kernel.clock import local_today
from linju.projects.core.files import AttachmentUpload
from linju.projects.core.tables import BudgetLine, CommitteeMember
from linju.projects.spending.rules import LeftoverChoice
from linju.projects.spending.services import completion, expenditures
from linju.projects.spending.services.expenditures import Payment, Proposal
from tests.accessibility import assert_accessible
from tests.accounts_support import log_in_with_browser, make_account
from tests.browser_fixtures import PHONE, artifact, submit_on
from tests.projects.spending.spending_support import (
    SECRETARY,
    SLUG,
    funded_project,
    invoice,
)

pytestmark = pytest.mark.browser


async def phone(browser: Browser, base: str, locale: str, email: str, home: str) -> Page:
    context = await browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = await context.new_page()
    await log_in_with_browser(page, base, email)
    if locale == "en":
        await page.goto(f"{base}/lang/en?next={home}")
    return page


async def looks_right(page: Page, name: str) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width} px wide"
    await assert_accessible(page)
    await page.screenshot(path=str(artifact(f"{name}.png")), full_page=True)


async def approve_first(page: Page, base: str, reason: str) -> None:
    """Open the inbox, approve the first motion with `reason`: its confirmation page."""
    await page.goto(f"{base}/committee")
    form = await page.get_by_test_id("awaiting-motion").first.locator("form").get_attribute("id")
    assert form is not None
    await page.fill(f"#f-{form.removeprefix('form-')}-reason", reason)
    assert (await submit_on(page, f"#{form} button[value=approve]")).status == 200
    assert reason in await page.get_by_test_id("confirm-what").inner_text()


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
async def test_asking_to_cancel_and_approving_it_on_a_phone(
    db: str, live_server: str, browser: Browser, locale: str
) -> None:
    def t(message: str, **params: object) -> str:
        return translate_in(locale, message, **params)

    await funded_project(balance=300_000, close=False)
    await make_account("liu@example.cn", "secretary", name="刘书记", community="lvjingyuan")
    await make_account("zhang@example.cn", "committee", name="张建国", project=SLUG)
    await make_account("li@example.cn", "committee", name="李敏", project=SLUG)
    base = live_server

    sec = await phone(browser, base, locale, "liu@example.cn", f"/p/{SLUG}/spending")
    await sec.goto(f"{base}/p/{SLUG}/spending")
    await sec.fill("#f-cancel-reason", "   ")
    assert (await submit_on(sec, "#form-cancel button[type=submit]")).status == 422
    assert t("Give a reason") in await sec.locator("#e-cancel-reason").inner_text()
    await looks_right(sec, f"cancel-refused-{locale}")
    await sec.fill("#f-cancel-reason", "场地无法落实")
    assert (await submit_on(sec, "#form-cancel button[type=submit]")).status == 200
    assert await sec.get_by_test_id("confirm-raised").inner_text() == "¥3,000.00"
    assert "场地无法落实" in await sec.get_by_test_id("confirm-what").inner_text()
    assert await sec.locator("[data-testid=confirm].danger").count() == 1
    await looks_right(sec, f"cancel-confirmation-{locale}")
    assert (await submit_on(sec, "[data-testid=confirm]")).status == 303
    told = t("Sent to the committee: the project is cancelled only if they approve")
    assert await sec.get_by_test_id("flash").inner_text() == told

    for email, reason, outcome in (
        ("zhang@example.cn", "同意取消", t("Approved: 1 more vote needed")),
        (
            "li@example.cn",
            "场地确实落实不了",
            t("Approved: the project is cancelled and every donation is being returned"),
        ),
    ):
        member = await phone(browser, base, locale, email, "/committee")
        await approve_first(member, base, reason)
        assert await member.get_by_test_id("confirm-balance").inner_text() == "¥3,000.00"
        await looks_right(member, f"cancel-approval-{locale}")
        assert (await submit_on(member, "[data-testid=confirm]")).status == 303
        assert await member.get_by_test_id("flash").inner_text() == outcome
        await member.context.close()


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
async def test_signing_off_a_completion_report_on_a_phone(
    db: str, live_server: str, browser: Browser, locale: str
) -> None:
    def t(message: str, **params: object) -> str:
        return translate_in(locale, message, **params)

    await funded_project()
    line = await BudgetLine.select(BudgetLine.id).order_by(BudgetLine.position).first()
    assert line is not None
    public_id = await expenditures.propose(
        SLUG,
        Proposal(line["id"], "青山游乐设备厂", "跷跷板两台", 480_000, attachments=(invoice(),)),
        SECRETARY,
    )
    seats = await CommitteeMember.select(CommitteeMember.id).order_by(CommitteeMember.id)
    for seat in seats[1:3]:
        await expenditures.decide(SLUG, public_id, seat["id"], True, "同意")
    proof = AttachmentUpload(original=invoice().original, publish_original=True)
    await expenditures.record_payment(SLUG, public_id, Payment(local_today(), "转账", proof))
    await completion.file_report(SLUG, "跷跷板已安装", SECRETARY, LeftoverChoice.TRANSFER)
    await make_account("zhang@example.cn", "committee", name="张建国", project=SLUG)
    await make_account("li@example.cn", "committee", name="李敏", project=SLUG)
    base = live_server

    for email, outcome in (
        ("zhang@example.cn", t("Approved: 1 more vote needed")),
        ("li@example.cn", t("Signed off: the project is completed")),
    ):
        member = await phone(browser, base, locale, email, "/committee")
        await approve_first(member, base, "验收合格")
        page = member
        assert await page.get_by_test_id("confirm-spent").inner_text() == "¥4,800.00"
        assert await page.get_by_test_id("confirm-balance").inner_text() == "¥7,200.00"
        leftover = t(
            "Once signed off, the %(amount)s left over moves to the community's general fund: "
            "one transfer entry on the public ledger.",
            amount="¥7,200.00",
        )
        assert leftover in await page.get_by_test_id("confirm-what").inner_text()
        await looks_right(page, f"sign-off-confirmation-{locale}")
        assert (await submit_on(page, "[data-testid=confirm]")).status == 303
        assert await page.get_by_test_id("flash").inner_text() == outcome
        await member.context.close()
