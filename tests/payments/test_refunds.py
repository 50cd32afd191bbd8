"""Refunds by a platform admin or the project's secretary, through the sandbox gateway.

A refund is asked for in the request (recorded `requested`, with its audit record and its job)
and sent to the provider by the `payments.refund` job: the tests run it with `drain_jobs()`.
The provider being down, retries and the final failure are in test_payment_jobs.py (Stripe).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from linju.payments.services import REFUND_JOB
from linju.payments.tables import SandboxRefund
from linju.platform.accounts.tables import AuditRecord
from linju.platform.jobs import queue
from linju.platform.jobs.worker import drain_jobs
from linju.projects.donations.tables import DonationRefund
from linju.projects.ledger import services as ledger
from linju.projects.ledger.format import EntryKind
from tests.accounts_support import csrf_header, log_in, make_account
from tests.forms import assert_form_refused, submit

from .helpers import balance, donation_row, entries, sandbox_event, signed

pytestmark = pytest.mark.usefixtures("demo")
SLUG = "tongqu-leyuan"
Client = httpx.AsyncClient


async def _confirmed_donation(client: Client, fen: int = 10_000) -> str:
    created = await client.post(
        f"/api/v1/projects/{SLUG}/donations",
        json={"amount": {"amount": fen, "currency": "CNY"}, "display_name": "老周"},
    )
    assert created.status_code == 201
    body = created.json()
    payload, headers = signed(await sandbox_event(body["checkout_url"], "paid"))
    assert (await client.post("/webhooks/sandbox", content=payload, headers=headers)).is_success
    return str(body["id"])


def _page(donation_id: str) -> str:
    return f"/p/{SLUG}/donations/{donation_id}/refund"


async def _refund_form(client: Client, donation_id: str, amount: str, reason: str) -> Any:
    path = _page(donation_id)
    return await submit(client, path, path, {"amount": amount, "reason": reason})


async def _refund_entries(donation_id: str) -> list[dict[str, Any]]:
    return [e for e in await entries(SLUG, "refund") if e["public_ref"] == donation_id]


async def _statuses(donation_id: str) -> list[str]:
    rows = (
        await DonationRefund.select(DonationRefund.status)
        .where(DonationRefund.donation.public_id == donation_id)
        .order_by(DonationRefund.id)
    )
    return [r["status"] for r in rows]


async def _refund_jobs() -> int:
    return len([job for job in await queue.list_jobs() if job.name == REFUND_JOB])


async def test_the_secretary_refunds_part_then_the_rest(client: Client) -> None:
    donation_id = await _confirmed_donation(client)
    secretary = await make_account("sec@example.cn", "secretary", community="lvjingyuan")
    await log_in(client, secretary)
    before = await balance(SLUG)

    answer = await _refund_form(client, donation_id, "30", "捐错了金额")
    assert answer.status_code == 303
    assert answer.headers["location"] == _page(donation_id)
    # Asked for, not yet sent: the provider has not been asked, nothing posted.
    assert await _statuses(donation_id) == ["requested"]
    assert await _refund_jobs() == 1
    assert await SandboxRefund.count() == 0
    assert await balance(SLUG) == before
    assert await AuditRecord.count().where(AuditRecord.action == "donation.refund") == 1
    page = await client.get(answer.headers["location"])
    assert "退款申请已提交，支付机构稍后会确认" in page.text
    assert 'data-stage="requested"' in page.text
    assert "已申请：等待发送给支付机构" in page.text
    assert "捐错了金额" in page.text
    # What is asked for counts at once: ¥70 can still be refunded, not ¥70.01.
    assert '<dd data-testid="refundable">¥70.00</dd>' in page.text
    too_much = await _refund_form(client, donation_id, "70.01", "再退一些")
    assert_form_refused(too_much, "退款不能超过这笔捐款的金额", status=422)

    await drain_jobs()
    row = await donation_row(donation_id)
    assert (row["status"], row["refunded_fen"]) == ("succeeded", 3_000)
    assert await balance(SLUG) == before - 3_000
    assert await SandboxRefund.count() == 1
    assert await _statuses(donation_id) == ["posted"]
    page = await client.get(_page(donation_id))
    assert 'data-stage="confirmed"' in page.text
    assert "支付机构已确认" in page.text
    assert "退款申请已提交" not in page.text  # the notice follows the request only

    rest = await _refund_form(client, donation_id, "70", "全部退回")
    assert rest.status_code == 303
    await drain_jobs()
    row = await donation_row(donation_id)
    assert (row["status"], row["refunded_fen"]) == ("refunded", 10_000)
    assert len(await _refund_entries(donation_id)) == 2
    assert await balance(SLUG) == before - 10_000
    assert await _refund_jobs() == 0


async def test_the_refund_page_speaks_english_when_chosen(client: Client) -> None:
    donation_id = await _confirmed_donation(client)
    await log_in(client, await make_account("sec3@example.cn", "secretary", community="lvjingyuan"))
    client.cookies.set("linju_lang", "en")
    answer = await _refund_form(client, donation_id, "10", "wrong project")
    page = await client.get(answer.headers["location"])
    assert "The refund was requested. The payment provider will confirm it shortly" in page.text
    assert "Requested: waiting to be sent to the payment provider" in page.text


async def test_the_api_answers_202_and_never_beyond_the_fund(client: Client) -> None:
    donation_id = await _confirmed_donation(client, 10_000)
    admin = await make_account("admin@example.cn", "admin")
    await log_in(client, admin)
    client.headers.update(await csrf_header(client))  # a logged-in client's API writes
    url = f"/api/v1/projects/{SLUG}/donations/{donation_id}/refunds"
    ok = await client.post(
        url, json={"amount": {"amount": 1_000, "currency": "CNY"}, "reason": "x"}
    )
    assert ok.status_code == 202, ok.text
    body = ok.json()
    assert (body["status"], body["donation"]) == ("requested", donation_id)
    assert body["amount"] == {"amount": 1_000, "currency": "CNY"}
    assert ok.headers["location"] == f"/api/v1/projects/{SLUG}/donations/{donation_id}"
    assert (await client.get(ok.headers["location"])).json()["refunded"]["amount"] == 0
    await drain_jobs()
    read = (await client.get(ok.headers["location"])).json()
    assert read["refunded"] == {"amount": 1_000, "currency": "CNY"}
    assert await _statuses(donation_id) == ["posted"]

    # Spend the fund down to ¥5.00: a refund of ¥50 would overdraw it.
    spend = await balance(SLUG) - 500
    await ledger.append(
        SLUG,
        ledger.LedgerEvent(
            kind=EntryKind.EXPENDITURE,
            memo="test spending",
            ref="exp_test",
            postings=(ledger.Posting(f"fund:{SLUG}", -spend), ledger.Posting("payees", spend)),
            idempotency_key="expenditure:test-refund-overdraft",
        ),
    )
    refused = await client.post(
        url, json={"amount": {"amount": 5_000, "currency": "CNY"}, "reason": "退回"}
    )
    assert refused.status_code == 409
    # Two refunds asked one after the other cannot together take more than the fund holds,
    # though neither has been sent yet.
    first = await client.post(
        url, json={"amount": {"amount": 300, "currency": "CNY"}, "reason": "退回一部分"}
    )
    assert first.status_code == 202
    second = await client.post(
        url, json={"amount": {"amount": 300, "currency": "CNY"}, "reason": "再退一部分"}
    )
    assert second.status_code == 409
    await drain_jobs()
    assert len(await _refund_entries(donation_id)) == 2
    assert await SandboxRefund.count() == 2
    assert await balance(SLUG) == 200
    bad = await client.post(url, json={"amount": 5, "reason": "x"})
    assert bad.status_code == 422
    wrong_currency = await client.post(
        url, json={"amount": {"amount": 100, "currency": "USD"}, "reason": "x"}
    )
    assert wrong_currency.status_code == 422
    assert await _refund_jobs() == 0


async def test_a_refund_job_run_again_refunds_nothing_more(client: Client) -> None:
    donation_id = await _confirmed_donation(client)
    await log_in(client, await make_account("admin2@example.cn", "admin"))
    answer = await _refund_form(client, donation_id, "20", "重复捐款")
    assert answer.status_code == 303
    [refund] = await DonationRefund.select(DonationRefund.public_id).where(
        DonationRefund.donation.public_id == donation_id
    )
    await queue.enqueue(REFUND_JOB, {"refund": refund["public_id"]})  # the same job, twice
    before = await balance(SLUG)
    await drain_jobs()
    await drain_jobs()
    assert await SandboxRefund.count() == 1
    assert len(await _refund_entries(donation_id)) == 1
    assert await balance(SLUG) == before - 2_000
    assert (await donation_row(donation_id))["refunded_fen"] == 2_000


async def test_only_an_admin_or_the_projects_secretary_may_refund(client: Client) -> None:
    donation_id = await _confirmed_donation(client)
    path = _page(donation_id)
    anonymous = await client.get(path, follow_redirects=False)
    assert anonymous.status_code == 303
    api = f"/api/v1/projects/{SLUG}/donations/{donation_id}/refunds"
    body = {"amount": {"amount": 100, "currency": "CNY"}, "reason": "x"}
    assert (await client.post(api, json=body)).status_code == 401
    other = await make_account("other@example.cn", "secretary", community="hepingli")
    await log_in(client, other)
    assert (await client.get(path)).status_code == 403
    assert (await client.post(api, json=body, headers=await csrf_header(client))).status_code == 403
    assert await _refund_entries(donation_id) == []
    assert await _statuses(donation_id) == []
    assert await _refund_jobs() == 0
    assert (await donation_row(donation_id))["refunded_fen"] == 0


async def test_the_secretary_sees_the_projects_donations_with_refund_links(client: Client) -> None:
    donation_id = await _confirmed_donation(client)
    secretary = await make_account("sec2@example.cn", "secretary", community="lvjingyuan")
    await log_in(client, secretary)
    page = await client.get(f"/p/{SLUG}/donations")
    assert page.status_code == 200
    assert f"/p/{SLUG}/donations/{donation_id}/refund" in page.text
    assert "老周" in page.text
