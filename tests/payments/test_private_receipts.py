"""A receipt opens by its own secret token, never by the donation's id (docs/adr/0020).

The id is public: the ledger shows it as every entry's `ref`. So the receipt page and the
donor's status API answer 404 to it, exactly as to an address that never existed, and only the
`receipt_url` given to the donor (the API's 201 answer, the gateway's return address) opens them.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

import httpx
import pytest

from linju.payments.sandbox import get_session
from linju.platform.kernel.clock import utc_now
from linju.projects.donations.rules import receipt_token_digest
from linju.projects.donations.tables import Donation
from linju.projects.ledger.tables import LedgerEntry
from tests.client_support import BASE_URL

from .helpers import sandbox_event, signed

pytestmark = pytest.mark.usefixtures("demo")
SLUG = "tongqu-leyuan"
Client = httpx.AsyncClient
RECEIPT = re.compile(re.escape(BASE_URL) + r"/donations/([A-Za-z0-9_-]{43})")
FILLING_MIGRATION = (
    "linju.projects.donations.piccolo_migrations.donations_2026_11_27t17_30_01_000000"
)


async def _started(client: Client, fen: int = 5_000) -> dict[str, Any]:
    answer = await client.post(
        f"/api/v1/projects/{SLUG}/donations",
        json={"amount": {"amount": fen, "currency": "CNY"}, "display_name": "周阿姨"},
    )
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


async def _confirm(client: Client, started: dict[str, Any]) -> None:
    payload, headers = signed(await sandbox_event(started["checkout_url"], "paid"))
    assert (await client.post("/webhooks/sandbox", content=payload, headers=headers)).is_success


def _token(receipt_url: str) -> str:
    match = RECEIPT.fullmatch(receipt_url)
    assert match, receipt_url
    return match.group(1)


def _assert_private(answer: httpx.Response) -> None:
    assert answer.headers["cache-control"] == "private, no-store"
    assert answer.headers["referrer-policy"] == "no-referrer"


async def test_the_201_answer_gives_a_receipt_url_that_opens_page_and_api(client: Client) -> None:
    started = await _started(client)
    token = _token(started["receipt_url"])
    assert started["id"] not in started["receipt_url"]
    stored = await Donation.select(Donation.receipt_token_hash).where(
        Donation.public_id == started["id"]
    )
    assert stored == [{"receipt_token_hash": receipt_token_digest(token)}]  # never the token

    page = await client.get(started["receipt_url"].removeprefix(BASE_URL))
    assert page.status_code == 200
    _assert_private(page)
    assert '<meta name="robots" content="noindex">' in page.text
    assert 'data-status="pending"' in page.text
    assert f'href="/donations/{token}"' in page.text  # "refresh now" keeps the token

    api = await client.get(f"/api/v1/donations/{token}")
    assert api.status_code == 200
    _assert_private(api)
    body = api.json()
    assert (body["id"], body["status"], body["receipt_url"]) == (
        started["id"],
        "pending",
        started["receipt_url"],
    )


async def test_the_public_id_from_the_ledger_opens_no_receipt(client: Client) -> None:
    started = await _started(client)
    await _confirm(client, started)
    ledger = (await client.get(f"/api/v1/projects/{SLUG}/ledger?limit=1000")).json()
    [entry] = [
        e for e in ledger["entries"] if e["kind"] == "donation" and e["memo"][:3] == "周阿姨"
    ]
    ref = entry["ref"]
    assert ref == started["id"]

    unknown = "x" * 43
    for path in ("/donations/{}", "/api/v1/donations/{}"):
        by_ref = await client.get(path.format(ref))
        by_nothing = await client.get(path.format(unknown))
        assert by_ref.status_code == by_nothing.status_code == 404
        assert "周阿姨" not in by_ref.text
        assert by_ref.text.replace(ref, unknown) == by_nothing.text  # alike but for the path
    problem = (await client.get(f"/api/v1/donations/{ref}")).json()
    assert problem["detail"] == "这个地址没有捐款回执"

    token = _token(started["receipt_url"])
    receipt = await client.get(f"/donations/{token}")
    assert receipt.status_code == 200
    assert entry["hash"] in receipt.text
    status = (await client.get(f"/api/v1/donations/{token}")).json()
    assert status["ledger_entry"]["hash"] == entry["hash"]


async def test_the_gateway_sends_the_donor_back_to_the_token_address(client: Client) -> None:
    started = await _started(client)
    session = await get_session(started["checkout_url"].rsplit("/", 1)[1])
    assert session is not None
    assert session["success_url"] == session["cancel_url"] == started["receipt_url"]


async def test_the_stewards_read_a_donation_by_its_id_but_not_its_receipt(client: Client) -> None:
    from tests.accounts_support import log_in, make_account

    started = await _started(client)
    path = f"/api/v1/projects/{SLUG}/donations/{started['id']}"
    assert (await client.get(path)).status_code == 401
    await log_in(client, await make_account("sec@example.cn", "secretary", community="lvjingyuan"))
    body = (await client.get(path)).json()
    assert (body["id"], body["status"]) == (started["id"], "pending")
    assert "receipt_url" not in body
    assert _token(started["receipt_url"]) not in (await client.get(f"/p/{SLUG}/donations")).text
    elsewhere = f"/api/v1/projects/yuelanshi/donations/{started['id']}"
    assert (await client.get(elsewhere)).status_code == 403  # not their community's project


async def test_donations_made_before_tokens_get_one_nobody_knows(client: Client) -> None:
    started = await _started(client)
    now = utc_now()
    project = (
        await LedgerEntry.select(LedgerEntry.project)
        .where(LedgerEntry.project.slug == SLUG)
        .first()
    )
    assert project is not None
    for public_id in ("don_before_tokens_00000001", "don_before_tokens_00000002"):
        await Donation.insert(
            Donation(
                public_id=public_id,
                receipt_token_hash=None,
                project=project["project"],
                amount_fen=1_000,
                status="pending",
                gateway="sandbox",
                created_at=now,
                updated_at=now,
            )
        )
    migration = importlib.import_module(FILLING_MIGRATION)
    await migration.fill_receipt_tokens()  # what the migration does to a database with donations

    rows = await Donation.select(Donation.public_id, Donation.receipt_token_hash)
    digests = [row["receipt_token_hash"] for row in rows]
    assert all(d and re.fullmatch(r"[0-9a-f]{64}", d) for d in digests)
    assert len(set(digests)) == len(digests)
    assert (await client.get("/donations/don_before_tokens_00000001")).status_code == 404
    # A donation that had its token keeps it.
    assert (await client.get(started["receipt_url"].removeprefix(BASE_URL))).status_code == 200
