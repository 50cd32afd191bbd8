"""API writes that the session cookie authenticates carry the CSRF token in a header, and every
API write is JSON (docs/adr/0020-private-receipts-and-api-csrf.md).

A page of another site can make a logged-in browser POST `text/plain` to the refund API with
the session cookie (a "simple" request: no preflight), but it can neither set a header nor send
`application/json` without the site's consent (CORS, which Linju never grants).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from litestar.middleware.csrf import generate_csrf_token

from linju.payments.services import REFUND_JOB
from linju.platform.accounts.tables import AuditRecord
from linju.platform.csrf import config_of
from linju.platform.jobs import queue
from linju.projects.donations.tables import DonationRefund
from tests.accounts_support import csrf_header, log_in, make_account
from tests.client_support import AppClient

from .helpers import donation_count, donation_row, sandbox_event, signed

pytestmark = pytest.mark.usefixtures("demo")
SLUG = "tongqu-leyuan"
EVIL = "https://evil.example"
REFUND = {"amount": {"amount": 1_000, "currency": "CNY"}, "reason": "捐错了"}


async def _confirmed_donation(client: AppClient) -> str:
    created = await client.post(
        f"/api/v1/projects/{SLUG}/donations",
        json={"amount": {"amount": 10_000, "currency": "CNY"}, "display_name": "老周"},
    )
    assert created.status_code == 201, created.text
    body = created.json()
    payload, headers = signed(await sandbox_event(body["checkout_url"], "paid"))
    assert (await client.post("/webhooks/sandbox", content=payload, headers=headers)).is_success
    return str(body["id"])


async def _nothing_refunded(donation_id: str) -> None:
    assert await DonationRefund.count() == 0
    assert [job for job in await queue.list_jobs() if job.name == REFUND_JOB] == []
    assert await AuditRecord.count().where(AuditRecord.action == "donation.refund") == 0
    assert (await donation_row(donation_id))["refunded_fen"] == 0


def _assert_problem(answer: httpx.Response, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    problem: dict[str, Any] = answer.json()
    assert problem["status"] == status
    return problem


async def test_a_cross_origin_text_plain_refund_with_only_the_cookie_is_refused(
    client: AppClient,
) -> None:
    donation_id = await _confirmed_donation(client)
    await log_in(client, await make_account("admin@example.cn", "admin"))
    header = await csrf_header(client)  # the browser holds both cookies, as after any page
    url = f"/api/v1/projects/{SLUG}/donations/{donation_id}/refunds"
    body = json.dumps(REFUND)  # what a form with enctype="text/plain" can be made to send

    config = config_of(client.app)
    assert config is not None
    forged = generate_csrf_token(secret=config.secret)  # signed by the app, not this browser's
    for headers in (
        {"Content-Type": "text/plain", "Origin": EVIL},
        {"Content-Type": "application/json", "Origin": EVIL},
        {"Content-Type": "application/json", "X-CSRF-Token": "forged"},
        {"Content-Type": "application/json", "X-CSRF-Token": forged},
        {"Content-Type": "application/json", "X-CSRF-Token": ""},
    ):
        problem = _assert_problem(await client.post(url, content=body, headers=headers), 403)
        assert "X-CSRF-Token" in problem["detail"]
    await _nothing_refunded(donation_id)

    not_json = await client.post(
        url, content=body, headers={**header, "Content-Type": "text/plain"}
    )
    _assert_problem(not_json, 415)
    await _nothing_refunded(donation_id)

    accepted = await client.post(url, json=REFUND, headers=header)
    assert accepted.status_code == 202, accepted.text
    assert await DonationRefund.count() == 1


async def test_the_header_must_match_the_cookie_of_this_browser(client: AppClient) -> None:
    donation_id = await _confirmed_donation(client)
    await log_in(client, await make_account("admin@example.cn", "admin"))
    header = await csrf_header(client)
    client.cookies.delete("linju_csrf")  # the header alone proves nothing
    url = f"/api/v1/projects/{SLUG}/donations/{donation_id}/refunds"
    _assert_problem(await client.post(url, json=REFUND, headers=header), 403)
    await _nothing_refunded(donation_id)


async def test_an_api_write_is_json_or_refused_with_415(client: AppClient) -> None:
    url = f"/api/v1/projects/{SLUG}/donations"
    body = json.dumps({"amount": {"amount": 5_000, "currency": "CNY"}, "anonymous": True})
    for headers in (
        {"Content-Type": "text/plain"},
        {"Content-Type": "application/x-www-form-urlencoded"},
        {"Content-Type": "multipart/form-data; boundary=x"},
        {},
    ):
        answer = await client.post(url, content=body.encode(), headers=headers)
        problem = _assert_problem(answer, 415)
        assert problem["detail"] == "请以 JSON 格式发送请求正文（Content-Type: application/json）"
    assert await donation_count() == 0
    for content_type in ("application/json", "application/json; charset=utf-8"):
        answer = await client.post(
            url, content=body.encode(), headers={"Content-Type": content_type}
        )
        assert answer.status_code == 201, answer.text  # anonymous: no cookie, no header needed


async def test_a_logged_in_api_write_needs_the_header_whatever_the_route(
    client: AppClient,
) -> None:
    await log_in(client, await make_account("sec@example.cn", "secretary", community="lvjingyuan"))
    url = f"/api/v1/projects/{SLUG}/donations"
    gift = {"amount": {"amount": 5_000, "currency": "CNY"}, "anonymous": True}
    _assert_problem(await client.post(url, json=gift), 403)
    assert await donation_count() == 0
    assert (await client.post(url, json=gift, headers=await csrf_header(client))).status_code == 201
    assert (await client.get(f"/api/v1/projects/{SLUG}")).status_code == 200  # reads need nothing
    client.cookies.set("linju_session", "expired-or-made-up")  # no session: an anonymous write
    assert (await client.post(url, json=gift)).status_code == 201


async def test_the_english_refusal_speaks_english(client: AppClient) -> None:
    await log_in(client, await make_account("sec@example.cn", "secretary", community="lvjingyuan"))
    client.cookies.set("linju_lang", "en")
    answer = await client.post(
        f"/api/v1/projects/{SLUG}/donations",
        json={"amount": {"amount": 5_000, "currency": "CNY"}},
    )
    problem = _assert_problem(answer, 403)
    assert problem["detail"] == (
        "Send the CSRF token of the linju_csrf cookie in the X-CSRF-Token header"
    )
