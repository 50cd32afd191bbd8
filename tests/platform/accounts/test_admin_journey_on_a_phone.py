"""The admin's journey on a phone (issue 14, "Proof"): at 375 px, in Chinese and in English, with
script disabled, an admin logs in, invites a committee member with a typo in the name (refused
beside the field, listing the seats, nothing written), corrects it and invites them to their seat;
axe-core finds no WCAG 2.2 A/AA violation on any page of the way and nothing is wider than the
phone."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page

from linju.platform.accounts.tables import Account
from tests.accessibility import assert_accessible
from tests.accounts_support import log_in_with_browser, make_account
from tests.browser_fixtures import PHONE, artifact, submit_on
from tests.platform.accounts.test_admin_invitation_seats import _seats
from tests.projects.stewardship.stewardship_support import seat_names

pytestmark = pytest.mark.browser
P = "tongqu-leyuan"
INVITE = "form[action='/admin/invitations'] button[type=submit]"
REFUSED = {
    "zh_CN": "该项目的监督委员会没有名为“{name}”的席位。现有席位：{seats}。",
    "en": "This project's committee has no seat named {name}. Its seats: {seats}.",
}
SEPARATOR = {"zh_CN": "、", "en": ", "}


async def _fits(page: Page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width} px wide"


async def _fill(page: Page, name: str) -> None:
    await page.fill("#f-invite-email", "wang@example.cn")
    await page.fill("#f-invite-name", name)
    await page.select_option("#f-invite-role", "committee")
    await page.fill("#f-invite-project", P)


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize("language", ["zh_CN", "en"])
async def test_an_admin_invites_a_committee_member_to_their_seat(
    live_server: str, browser: Browser, language: str
) -> None:
    await make_account("admin@example.cn", "admin", name="管理员")
    seats = await seat_names(P)
    seats_before = await _seats(P)
    context = await browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = await context.new_page()
    await page.goto(f"{live_server}/lang/{language}?next=/")
    await log_in_with_browser(page, live_server, "admin@example.cn")
    assert page.url.endswith("/admin"), page.url
    await assert_accessible(page)
    await _fits(page)

    typo = seats[1] + "x"
    await _fill(page, typo)
    refused = await submit_on(page, INVITE)
    assert refused.status == 422
    message = REFUSED[language].format(name=typo, seats=SEPARATOR[language].join(seats))
    assert await page.locator("#e-invite-name").inner_text() == message + (
        "请按项目页面上的姓名核对。"
        if language == "zh_CN"
        else " Check the name as the project shows it."
    )
    assert await page.locator("#f-invite-name").input_value() == typo  # kept as typed
    await page.screenshot(
        path=str(artifact(f"admin-invite-refused-{language}.png")), full_page=True
    )
    await assert_accessible(page)
    await _fits(page)
    assert await _seats(P) == seats_before
    assert await Account.count().where(Account.email == "wang@example.cn") == 0

    await page.fill("#f-invite-name", seats[1])
    invited = await submit_on(page, INVITE)
    assert invited.status == 303
    assert page.url.endswith("/admin"), page.url
    assert "wang@example.cn" in await page.locator("main").inner_text()
    await assert_accessible(page)
    await _fits(page)
    account = await Account.select(Account.id).where(Account.email == "wang@example.cn").first()
    assert account is not None
    after = await _seats(P)
    assert [seat for seat, _ in after] == [seat for seat, _ in seats_before]
    assert dict(after)[seats[1]] == account["id"]
    await context.close()
