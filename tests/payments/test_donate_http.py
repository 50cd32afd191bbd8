"""Donating through the HTTP edge with the sandbox gateway: form, API, webhook, receipt."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from linju.projects.donations.tables import Donation
from tests.forms import assert_form_refused, submit, submit_shown

from .helpers import (
    balance,
    donation_count,
    donation_row,
    entries,
    sandbox_event,
    signed,
)

pytestmark = pytest.mark.usefixtures("demo")
SLUG = "tongqu-leyuan"
CLOSED = "wuding-huayuan"  # completed: takes no donations
Client = httpx.AsyncClient


async def _form_post(client: Client, fields: dict[str, str], slug: str = SLUG) -> Any:
    """The project page's donate form, as rendered, with `fields` typed in."""
    return await submit(client, f"/p/{slug}", f"/p/{slug}/donate", fields)


async def _api_donate(client: Client, fen: Any = 5000, **fields: Any) -> Any:
    body = {
        "amount": {"amount": fen, "currency": "CNY"},
        "display_name": "王阿姨",
        "anonymous": False,
        "message": "加油",
        "email": None,
        **fields,
    }
    return await client.post(f"/api/v1/projects/{SLUG}/donations", json=body)


def _receipt(created: dict[str, Any]) -> str:
    """The receipt page's path, from the secret address the donor was given."""
    return str(created["receipt_url"]).removeprefix("http://testserver.local")


def _status_api(created: dict[str, Any]) -> str:
    return "/api/v1" + _receipt(created)


async def _deliver(client: Client, payload: dict[str, Any]) -> Any:
    body, headers = signed(payload)
    return await client.post("/webhooks/sandbox", content=body, headers=headers)


async def test_project_page_shows_the_donate_form(client: Client) -> None:
    page = await client.get(f"/p/{SLUG}")
    assert page.status_code == 200
    assert 'action="/p/tongqu-leyuan/donate"' in page.text
    for preset in ("¥10.00", "¥50.00", "¥100.00", "¥500.00"):
        assert preset in page.text
    assert 'name="custom_amount"' in page.text
    assert "匿名" in page.text
    closed = await client.get(f"/p/{CLOSED}")
    assert 'data-testid="donate-form"' not in closed.text


async def test_a_form_donation_goes_to_the_sandbox_checkout(client: Client) -> None:
    review = await _form_post(
        client, {"amount_choice": "custom", "custom_amount": "88.5", "display_name": "小李"}
    )
    assert review.status_code == 200  # the review step (ADR 0027): nothing written yet
    assert await donation_count() == 0
    response = await submit_shown(
        client, review.text, "form-review", page=f"/p/{SLUG}/donate", press="pay"
    )
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("http://testserver.local/sandbox/checkout/sbx_")
    rows = await Donation.select(Donation.amount_fen, Donation.status, Donation.display_name).where(
        Donation.status == "pending"
    )
    assert rows == [{"amount_fen": 8850, "status": "pending", "display_name": "小李"}]
    checkout = await client.get(location.removeprefix("http://testserver.local"))
    assert checkout.status_code == 200
    assert "¥88.50" in checkout.text
    assert "童趣乐园" in checkout.text
    for label in ("支付成功", "支付失败", "放弃支付"):
        assert label in checkout.text


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"amount_choice": "custom", "custom_amount": "0.99"}, "最少捐 ¥1.00"),
        ({"amount_choice": "custom", "custom_amount": "50000.01"}, "超过了平台单笔捐款的上限"),
        ({"amount_choice": "custom", "custom_amount": "十元"}, "请输入以元为单位的金额"),
        ({"amount_choice": "custom", "custom_amount": "1.005"}, "请输入以元为单位的金额"),
        ({"amount_choice": "custom"}, "请输入以元为单位的金额"),
        ({"amount_choice": "1000", "display_name": "名" * 41}, "署名最多 40 个字"),
        ({"amount_choice": "1000", "message": "话" * 201}, "留言最多 200 个字"),
        ({"amount_choice": "1000", "email": "not-an-email"}, "电子邮箱地址格式不对"),
    ],
)
async def test_bad_form_input_re_renders_in_chinese_and_writes_nothing(
    client: Client, fields: dict[str, str], message: str
) -> None:
    response = await _form_post(client, fields)
    assert_form_refused(response, message, status=422)
    assert 'data-testid="donate-form"' in response.text
    assert await donation_count() == 0


async def test_a_forged_amount_choice_is_refused(client: Client) -> None:
    """A choice the form does not offer (sent by hand, not by the page) is refused too."""
    # An anonymous donation carries no token: it is checked by its origin (ADR 0036).
    data = {"amount_choice": "777"}
    response = await client.post(f"/p/{SLUG}/donate", data=data, follow_redirects=False)
    assert_form_refused(response, "请选择或输入金额", status=422)
    assert await donation_count() == 0


async def test_a_project_not_fundraising_refuses_the_form(client: Client) -> None:
    response = await client.post(
        f"/p/{CLOSED}/donate",
        data={"amount_choice": "1000"},
        follow_redirects=False,
    )
    assert response.status_code == 409
    assert "本项目目前不接受捐款" in response.text
    assert await donation_count() == 0


async def test_the_api_creates_a_pending_donation(client: Client) -> None:
    response = await _api_donate(client)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "pending"
    assert body["id"].startswith("don_")
    assert len(body["id"]) == 26
    assert body["checkout_url"].startswith("http://testserver.local/sandbox/checkout/")
    assert body["receipt_url"].startswith("http://testserver.local/donations/")
    assert body["id"] not in body["receipt_url"]  # the id is public; the receipt is not
    got = (await client.get(_status_api(body))).json()
    assert got["project"] == SLUG
    assert got["status"] == "pending"
    assert got["amount"] == {"amount": 5000, "currency": "CNY"}
    assert got["ledger_entry"] is None
    assert "email" not in got


@pytest.mark.parametrize(
    "override",
    [
        {"amount": {"amount": 99, "currency": "CNY"}},
        {"amount": {"amount": 5_000_001, "currency": "CNY"}},
        {"amount": {"amount": 50.5, "currency": "CNY"}},
        {"amount": {"amount": "5000", "currency": "CNY"}},
        {"amount": {"amount": 5000, "currency": "USD"}},
        {"amount": 5000},
        {"display_name": "名" * 41},
        {"message": "话" * 201},
        {"anonymous": "yes"},
        {"email": "nope"},
    ],
)
async def test_the_api_refuses_bad_input_with_422(client: Client, override: dict[str, Any]) -> None:
    response = await _api_donate(client, **override)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert await donation_count() == 0


async def test_the_api_refuses_malformed_json_and_closed_projects(client: Client) -> None:
    broken = await client.post(
        f"/api/v1/projects/{SLUG}/donations",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert broken.status_code == 422
    closed = await client.post(
        f"/api/v1/projects/{CLOSED}/donations",
        json={"amount": {"amount": 5000, "currency": "CNY"}, "anonymous": True},
    )
    assert closed.status_code == 409
    missing = await client.post(
        "/api/v1/projects/no-such-project/donations",
        json={"amount": {"amount": 5000, "currency": "CNY"}, "anonymous": True},
    )
    assert missing.status_code == 404
    assert await donation_count() == 0


async def test_a_signed_confirmation_posts_donation_and_fee_once(client: Client) -> None:
    before = await balance(SLUG)
    created = (await _api_donate(client, fen=10_000)).json()
    payload = await sandbox_event(created["checkout_url"], "paid")
    first = await _deliver(client, payload)
    assert first.status_code == 200, first.text
    again = await _deliver(client, payload)
    assert again.status_code == 200
    assert [e["outcome"] for e in again.json()["events"]] == ["duplicate", "duplicate"]

    donation_entries = [
        e for e in await entries(SLUG, "donation") if e["public_ref"] == created["id"]
    ]
    fee_entries = [e for e in await entries(SLUG, "fee") if e["public_ref"] == created["id"]]
    assert len(donation_entries) == 1
    assert len(fee_entries) == 1
    assert donation_entries[0]["memo"] == "王阿姨（测试模式，不收真钱）"  # the sandbox says so
    assert await balance(SLUG) == before + 10_000 - 60
    row = await donation_row(created["id"])
    assert row["status"] == "succeeded"
    assert row["fee_fen"] == 60
    seq = donation_entries[0]["seq"]

    receipt = await client.get(_receipt(created))
    assert receipt.status_code == 200
    assert 'http-equiv="refresh"' not in receipt.text
    assert f"#{seq}" in receipt.text
    assert f"/api/v1/projects/{SLUG}/ledger/{seq}" in receipt.text
    api = (await client.get(_status_api(created))).json()
    assert api["status"] == "succeeded"
    assert api["ledger_entry"]["seq"] == seq
    assert len(api["ledger_entry"]["hash"]) == 64
    assert api["ledger_entry"]["hash"] in receipt.text

    wall = await client.get(f"/p/{SLUG}")
    assert "加油" in wall.text


@pytest.mark.parametrize("status", ["failed", "abandoned"])
async def test_failed_and_abandoned_payments_post_nothing(client: Client, status: str) -> None:
    before = await entries(SLUG)
    created = (await _api_donate(client)).json()
    pending = await client.get(_receipt(created))
    assert '<meta http-equiv="refresh" content="3">' in pending.text
    response = await _deliver(client, await sandbox_event(created["checkout_url"], status))
    assert response.status_code == 200
    assert await entries(SLUG) == before
    row = await donation_row(created["id"])
    assert row["status"] == {"failed": "failed", "abandoned": "expired"}[status]
    receipt = await client.get(_receipt(created))
    assert 'http-equiv="refresh"' not in receipt.text
    assert "没有记入账本" in receipt.text


async def test_bad_signatures_and_bad_callbacks_post_nothing(client: Client) -> None:
    created = (await _api_donate(client)).json()
    payload = await sandbox_event(created["checkout_url"], "paid")
    before = await entries(SLUG)

    body, headers = signed(payload, secret="another-secret-entirely-0123456789")
    assert (
        await client.post("/webhooks/sandbox", content=body, headers=headers)
    ).status_code == 400
    body, headers = signed(payload, at=1_700_000_000)  # long ago: stale
    assert (
        await client.post("/webhooks/sandbox", content=body, headers=headers)
    ).status_code == 400
    body, _ = signed(payload)
    unsigned = await client.post("/webhooks/sandbox", content=body)
    assert unsigned.status_code == 400
    body, headers = signed(payload)
    tampered = body.replace(b"5000", b"9000")
    assert (
        await client.post("/webhooks/sandbox", content=tampered, headers=headers)
    ).status_code == 400

    bad_json = b"{not json"
    _, headers = signed({})
    from linju.payments import signatures
    from linju.payments.sandbox import SIGNATURE_HEADER

    from .helpers import SANDBOX_SECRET

    headers[SIGNATURE_HEADER] = signatures.sign(bad_json, SANDBOX_SECRET)
    assert (
        await client.post("/webhooks/sandbox", content=bad_json, headers=headers)
    ).status_code == 400

    unknown = {**payload, "data": {**payload["data"], "donation_id": "don_doesnotexist000000000"}}
    response = await _deliver(client, unknown)
    assert response.status_code == 404
    assert await entries(SLUG) == before
    assert (await donation_row(created["id"]))["status"] == "pending"
