"""The attack of issue 13, item 13, in a real browser: a page of another origin posts a
`text/plain` form to the refund API while an admin is logged in (docs/adr/0020).

The attacker's page is on 127.0.0.1 at another port: another origin but the same site, so the
browser sends the SameSite=Lax session cookie with the form's POST, and the body the form
makes (`name=value` with the JSON split across the two) parses as JSON. Only the API's own rule
stops it: no X-CSRF-Token header, so 403, and nothing is refunded.
"""

from __future__ import annotations

import json

import pytest
from playwright.async_api import Browser, Route

from linju.projects.donations.tables import Donation, DonationRefund
from tests.accounts_support import log_in_with_browser, make_account
from tests.browser_fixtures import PHONE

pytestmark = pytest.mark.usefixtures("demo")
SLUG = "tongqu-leyuan"


async def test_a_page_of_another_origin_cannot_refund_with_the_admins_cookie(
    live_server: str, browser: Browser
) -> None:
    await make_account("admin@example.cn", "admin")
    gift = (
        await Donation.select(Donation.public_id)
        .where((Donation.status == "succeeded") & (Donation.project.slug == SLUG))
        .first()
    )
    assert gift is not None
    target = f"{live_server}/api/v1/projects/{SLUG}/donations/{gift['public_id']}/refunds"
    name = '{"amount": {"amount": 100, "currency": "CNY"}, "reason": "evil", "pad": "'
    evil = (
        f'<form method="post" enctype="text/plain" action="{target}">'
        f"<input type=\"hidden\" name='{name}' value='\"}}'>"
        "<button>领奖</button></form>"
    )
    elsewhere = live_server.rsplit(":", 1)[0] + ":9"  # the same host, another port: no server

    async def attacker(route: Route) -> None:
        await route.fulfill(status=200, content_type="text/html; charset=utf-8", body=evil)

    context = await browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = await context.new_page()
    await log_in_with_browser(page, live_server, "admin@example.cn")
    await page.route(f"{elsewhere}/prize", attacker)
    await page.goto(f"{elsewhere}/prize")
    async with page.expect_response(target) as answered:
        await page.get_by_role("button", name="领奖").click()
    response = await answered.value
    sent = await response.request.all_headers()
    assert sent["content-type"] == "text/plain"
    assert "linju_session=" in sent.get("cookie", "")  # the browser did send the session
    json.loads(response.request.post_data or "")  # and a body the handler would have read
    assert response.status == 403
    problem = json.loads(await response.text())
    assert "X-CSRF-Token" in problem["detail"]
    assert await DonationRefund.count() == 0
    await context.close()
