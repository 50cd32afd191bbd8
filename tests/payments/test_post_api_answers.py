"""The POST APIs answer typed structs: the OpenAPI schema describes them, the bytes are compact
JSON with keys in the contract's order, and an unreachable provider is a 503 problem to a donor
(a refund asks no provider in the request: it is accepted, 202, and a worker sends it)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from linju.payments import services
from linju.payments.gateway import GatewayError
from tests.accounts_support import csrf_header, log_in, make_account

from .helpers import sandbox_event, signed

pytestmark = pytest.mark.usefixtures("demo")
SLUG = "tongqu-leyuan"
Client = httpx.AsyncClient
DONATIONS = "/api/v1/projects/{slug}/donations"
REFUNDS = "/api/v1/projects/{slug}/donations/{donation_id}/refunds"


def _compact(ordered: dict[str, Any]) -> bytes:
    return json.dumps(ordered, separators=(",", ":"), ensure_ascii=False).encode()


async def _donate(client: Client, fen: int) -> httpx.Response:
    return await client.post(
        DONATIONS.format(slug=SLUG), json={"amount": {"amount": fen, "currency": "CNY"}}
    )


async def test_a_started_donation_is_the_bytes_it_always_was(client: Client) -> None:
    answer = await _donate(client, 10_000)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    token = body["receipt_url"].removeprefix("http://testserver.local/donations/")
    assert len(token) == 43  # the receipt's own secret (ADR 0020), not the public id
    assert answer.content == _compact(
        {
            "id": body["id"],
            "status": "pending",
            "amount": {"amount": 10_000, "currency": "CNY"},
            "checkout_url": body["checkout_url"],
            "receipt_url": body["receipt_url"],
        }
    )


async def test_a_refund_asked_for_is_accepted_with_its_id_and_status(client: Client) -> None:
    created = (await _donate(client, 10_000)).json()
    payload, headers = signed(await sandbox_event(created["checkout_url"], "paid"))
    assert (await client.post("/webhooks/sandbox", content=payload, headers=headers)).is_success
    await log_in(client, await make_account("admin@example.cn", "admin"))
    answer = await client.post(
        REFUNDS.format(slug=SLUG, donation_id=created["id"]),
        json={"amount": {"amount": 1_000, "currency": "CNY"}, "reason": "捐错了"},
        headers=await csrf_header(client),
    )
    assert answer.status_code == 202, answer.text  # accepted: a worker sends it to the provider
    assert answer.content == _compact(
        {
            "id": answer.json()["id"],
            "status": "requested",
            "donation": created["id"],
            "amount": {"amount": 1_000, "currency": "CNY"},
        }
    )
    donation = f"/api/v1/projects/{SLUG}/donations/{created['id']}"
    assert answer.headers["location"] == donation


async def test_an_unreachable_provider_is_a_503_problem(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def unreachable(*_args: Any, **_kwargs: Any) -> Any:
        raise GatewayError("connection refused")

    monkeypatch.setattr(services, "begin_donation", unreachable)
    answer = await _donate(client, 10_000)
    assert answer.status_code == 503
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["status"] == 503


async def test_the_schema_describes_what_the_post_apis_answer(client: Client) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    components = schema["components"]["schemas"]
    for path, name, status in (
        (DONATIONS, "DonationStartedOut", "201"),
        (REFUNDS, "RefundOut", "202"),
    ):
        answer = schema["paths"][path]["post"]["responses"][status]
        assert answer["content"]["application/json"]["schema"] == {
            "$ref": f"#/components/schemas/{name}"
        }
        properties = components[name]["properties"]
        assert properties["amount"] == {"$ref": "#/components/schemas/AmountOut"}
    assert [name for name in components if "AmountOut" in name] == ["AmountOut"]
