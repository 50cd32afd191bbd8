"""Refunds by a platform admin or the project's secretary, through the sandbox gateway."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from linju.payments.tables import SandboxRefund
from linju.platform.accounts.tables import AuditRecord
from linju.projects.ledger import services as ledger
from linju.projects.ledger.format import EntryKind
from tests.accounts_support import log_in, make_account
from tests.forms import submit

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


async def _refund_form(client: Client, donation_id: str, amount: str, reason: str) -> Any:
    path = f"/p/{SLUG}/donations/{donation_id}/refund"
    return await submit(client, path, path, {"amount": amount, "reason": reason})


async def _refund_entries(donation_id: str) -> list[dict[str, Any]]:
    return [e for e in await entries(SLUG, "refund") if e["public_ref"] == donation_id]


async def test_the_secretary_refunds_part_then_the_rest(client: Client) -> None:
    donation_id = await _confirmed_donation(client)
    secretary = await make_account("sec@example.cn", "secretary", community="lvjingyuan")
    await log_in(client, secretary)
    before = await balance(SLUG)
    answer = await _refund_form(client, donation_id, "30", "捐错了金额")
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/donations/{donation_id}"
    row = await donation_row(donation_id)
    assert (row["status"], row["refunded_fen"]) == ("succeeded", 3_000)
    assert await balance(SLUG) == before - 3_000
    assert await SandboxRefund.count() == 1
    assert await AuditRecord.count().where(AuditRecord.action == "donation.refund") == 1

    too_much = await _refund_form(client, donation_id, "70.01", "再退一些")
    assert too_much.status_code == 422
    assert "退款不能超过这笔捐款的金额" in too_much.text
    rest = await _refund_form(client, donation_id, "70", "全部退回")
    assert rest.status_code == 303
    row = await donation_row(donation_id)
    assert (row["status"], row["refunded_fen"]) == ("refunded", 10_000)
    assert len(await _refund_entries(donation_id)) == 2
    assert await balance(SLUG) == before - 10_000


async def test_the_api_refunds_for_an_admin_and_never_beyond_the_fund(client: Client) -> None:
    donation_id = await _confirmed_donation(client, 10_000)
    admin = await make_account("admin@example.cn", "admin")
    await log_in(client, admin)
    url = f"/api/v1/projects/{SLUG}/donations/{donation_id}/refunds"
    ok = await client.post(
        url, json={"amount": {"amount": 1_000, "currency": "CNY"}, "reason": "x"}
    )
    assert ok.status_code == 201, ok.text
    assert ok.json()["refunded"] == {"amount": 1_000, "currency": "CNY"}
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
    assert len(await _refund_entries(donation_id)) == 1
    assert await SandboxRefund.count() == 1
    bad = await client.post(url, json={"amount": 5, "reason": "x"})
    assert bad.status_code == 422


async def test_only_an_admin_or_the_projects_secretary_may_refund(client: Client) -> None:
    donation_id = await _confirmed_donation(client)
    path = f"/p/{SLUG}/donations/{donation_id}/refund"
    anonymous = await client.get(path, follow_redirects=False)
    assert anonymous.status_code == 303
    api = f"/api/v1/projects/{SLUG}/donations/{donation_id}/refunds"
    body = {"amount": {"amount": 100, "currency": "CNY"}, "reason": "x"}
    assert (await client.post(api, json=body)).status_code == 401
    other = await make_account("other@example.cn", "secretary", community="hepingli")
    await log_in(client, other)
    assert (await client.get(path)).status_code == 403
    assert (await client.post(api, json=body)).status_code == 403
    assert await _refund_entries(donation_id) == []
    assert (await donation_row(donation_id))["refunded_fen"] == 0


async def test_the_secretary_sees_the_projects_donations_with_refund_links(client: Client) -> None:
    donation_id = await _confirmed_donation(client)
    secretary = await make_account("sec2@example.cn", "secretary", community="lvjingyuan")
    await log_in(client, secretary)
    page = await client.get(f"/p/{SLUG}/donations")
    assert page.status_code == 200
    assert f"/p/{SLUG}/donations/{donation_id}/refund" in page.text
    assert "老周" in page.text
