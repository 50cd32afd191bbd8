"""The Stripe gateway against a fake Stripe API over real HTTP, with webhooks signed as Stripe
signs them: checkout requests, every event type, duplicates, concurrency, any order, crashes."""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

import httpx
import pytest
from piccolo.engine.finder import engine_finder

from linju.payments import services
from linju.platform.jobs.worker import drain_jobs
from linju.projects.donations.tables import Donation
from tests.fakes.stripe_fixtures import WEBHOOK_SECRET
from tests.fakes.stripe_server import FakeStripe

from .helpers import balance, donation_row, entries

pytestmark = pytest.mark.usefixtures("demo")
SLUG = "tongqu-leyuan"


Client = httpx.AsyncClient


async def _donate(client: Client, fen: int = 5000) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/projects/{SLUG}/donations",
        json={
            "amount": {"amount": fen, "currency": "CNY"},
            "display_name": "王阿姨",
            "anonymous": False,
            "message": None,
            "email": "wang@example.cn",
        },
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _session_id(donation: dict[str, Any]) -> str:
    return str(donation["checkout_url"].rsplit("/", 1)[1])


async def _deliver(
    client: Client, fake: FakeStripe, event: dict[str, Any], timestamp: int | None = None
) -> httpx.Response:
    body, headers = fake.webhook(event, WEBHOOK_SECRET, timestamp)
    return await client.post("/webhooks/stripe", content=body, headers=headers)


async def _of_donation(donation_id: str, kind: str) -> list[dict[str, Any]]:
    return [e for e in await entries(SLUG, kind) if e["public_ref"] == donation_id]


async def test_a_checkout_session_is_asked_for_as_the_issue_says(
    stripe_client: Client, fake_stripe: FakeStripe
) -> None:
    donation = await _donate(stripe_client, 8850)
    assert donation["checkout_url"].startswith("https://checkout.stripe.test/c/pay/cs_test_")
    [request] = fake_stripe.requests_to("POST", "/v1/checkout/sessions")
    p = request.params
    assert request.headers["authorization"] == "Bearer sk_test_linju_fake"
    assert request.headers["idempotency-key"] == f"checkout:{donation['id']}"
    assert p["mode"] == "payment"
    assert p["currency"] == "cny"
    assert [p[f"payment_method_types[{i}]"] for i in range(3)] == ["card", "alipay", "wechat_pay"]
    assert p["payment_method_options[wechat_pay][client]"] == "web"
    assert p["client_reference_id"] == donation["id"]
    assert p["metadata[donation_id]"] == donation["id"]
    assert p["line_items[0][price_data][unit_amount]"] == "8850"
    assert p["line_items[0][price_data][currency]"] == "cny"
    assert p["success_url"] == p["cancel_url"] == donation["receipt_url"]  # the secret address
    assert donation["id"] not in donation["receipt_url"]
    assert p["customer_email"] == "wang@example.cn"
    row = await donation_row(donation["id"])
    assert row["gateway"] == "stripe"
    assert row["provider_ref"] == _session_id(donation)


async def test_a_paid_checkout_posts_the_donation_and_the_fee_from_the_balance_transaction(
    stripe_client: Client, fake_stripe: FakeStripe
) -> None:
    before = await balance(SLUG)
    donation = await _donate(stripe_client, 10_000)
    session = fake_stripe.pay(_session_id(donation), fee=340)
    response = await _deliver(
        stripe_client, fake_stripe, fake_stripe.event("checkout.session.completed", session)
    )
    assert response.status_code == 200, response.text
    assert len(await _of_donation(donation["id"], "donation")) == 1
    assert len(await _of_donation(donation["id"], "fee")) == 1
    assert await balance(SLUG) == before + 10_000 - 340
    assert (await donation_row(donation["id"]))["status"] == "succeeded"
    assert fake_stripe.requests_to("GET", f"/v1/balance_transactions/{_txn(fake_stripe, session)}")


def _txn(fake: FakeStripe, session: dict[str, Any]) -> str:
    return str(fake.charge_of(session["id"])["balance_transaction"])


async def test_completed_but_unpaid_stays_pending_until_the_async_payment_succeeds(
    stripe_client: Client, fake_stripe: FakeStripe
) -> None:
    donation = await _donate(stripe_client)
    session = fake_stripe.pay(_session_id(donation), fee=0, payment_status="unpaid")
    completed = fake_stripe.event("checkout.session.completed", session)
    assert (await _deliver(stripe_client, fake_stripe, completed)).status_code == 200
    assert (await donation_row(donation["id"]))["status"] == "pending"
    assert await _of_donation(donation["id"], "donation") == []
    paid = {**session, "payment_status": "paid"}
    succeeded = fake_stripe.event("checkout.session.async_payment_succeeded", paid)
    assert (await _deliver(stripe_client, fake_stripe, succeeded)).status_code == 200
    assert (await donation_row(donation["id"]))["status"] == "succeeded"
    assert len(await _of_donation(donation["id"], "donation")) == 1
    assert await _of_donation(donation["id"], "fee") == []  # a fee of 0 posts nothing


@pytest.mark.parametrize(
    ("event_type", "status"),
    [("checkout.session.async_payment_failed", "failed"), ("checkout.session.expired", "expired")],
)
async def test_failed_and_expired_checkouts_post_nothing(
    stripe_client: Client, fake_stripe: FakeStripe, event_type: str, status: str
) -> None:
    before = await entries(SLUG)
    donation = await _donate(stripe_client)
    session = fake_stripe.session(_session_id(donation))
    response = await _deliver(stripe_client, fake_stripe, fake_stripe.event(event_type, session))
    assert response.status_code == 200
    assert (await donation_row(donation["id"]))["status"] == status
    assert await entries(SLUG) == before


async def test_unknown_event_types_are_acknowledged_and_ignored(
    stripe_client: Client, fake_stripe: FakeStripe
) -> None:
    before = await entries(SLUG)
    plan = fake_stripe.event("plan.created", {"id": "price_x", "object": "plan"})
    response = await _deliver(stripe_client, fake_stripe, plan)
    assert response.status_code == 200
    assert response.json()["events"] == []
    assert await entries(SLUG) == before


async def test_bad_stale_or_missing_signatures_are_400_and_post_nothing(
    stripe_client: Client, fake_stripe: FakeStripe
) -> None:
    donation = await _donate(stripe_client)
    session = fake_stripe.pay(_session_id(donation), fee=30)
    event = fake_stripe.event("checkout.session.completed", session)
    before = await entries(SLUG)
    stale = await _deliver(stripe_client, fake_stripe, event, timestamp=int(time.time()) - 301)
    assert stale.status_code == 400
    body, headers = fake_stripe.webhook(event, "whsec_someone_else_" + "x" * 20)
    wrong = await stripe_client.post("/webhooks/stripe", content=body, headers=headers)
    assert wrong.status_code == 400
    body, headers = fake_stripe.webhook(event, WEBHOOK_SECRET)
    tampered = body.replace(b'"paid"', b'"unpaid"')
    assert tampered != body
    changed = await stripe_client.post("/webhooks/stripe", content=tampered, headers=headers)
    assert changed.status_code == 400
    unsigned = await stripe_client.post(
        "/webhooks/stripe", content=body, headers={"Content-Type": "application/json"}
    )
    assert unsigned.status_code == 400
    assert await entries(SLUG) == before
    assert (await donation_row(donation["id"]))["status"] == "pending"


async def test_malformed_json_and_unknown_donations_are_4xx(
    stripe_client: Client, fake_stripe: FakeStripe
) -> None:
    from tests.fakes.stripe_server import stripe_signature_header

    before = await entries(SLUG)
    junk = b"{this is not json"
    headers = {"Stripe-Signature": stripe_signature_header(junk, WEBHOOK_SECRET)}
    assert (
        await stripe_client.post("/webhooks/stripe", content=junk, headers=headers)
    ).status_code == 400
    donation = await _donate(stripe_client)
    session = fake_stripe.pay(_session_id(donation), fee=30)
    stranger = {**session, "client_reference_id": "don_nobody000000000000000", "metadata": {}}
    response = await _deliver(
        stripe_client, fake_stripe, fake_stripe.event("checkout.session.completed", stranger)
    )
    assert response.status_code == 404
    assert await entries(SLUG) == before


async def test_eight_concurrent_deliveries_of_one_event_post_once(
    stripe_client: Client, fake_stripe: FakeStripe
) -> None:
    donation = await _donate(stripe_client, 20_000)
    session = fake_stripe.pay(_session_id(donation), fee=120)
    event = fake_stripe.event("checkout.session.completed", session)
    body, headers = fake_stripe.webhook(event, WEBHOOK_SECRET)
    before = await balance(SLUG)
    answers = await asyncio.gather(
        *[stripe_client.post("/webhooks/stripe", content=body, headers=headers) for _ in range(8)]
    )
    assert [a.status_code for a in answers] == [200] * 8
    outcomes = [a.json()["events"][0]["outcome"] for a in answers]
    assert outcomes.count("applied") == 1
    assert outcomes.count("duplicate") == 7
    assert len(await _of_donation(donation["id"], "donation")) == 1
    assert len(await _of_donation(donation["id"], "fee")) == 1
    assert await balance(SLUG) == before + 20_000 - 120


EVENT_NAMES = ("completed", "async_succeeded", "expired", "refunded")


async def test_every_order_of_events_ends_in_the_same_state(
    stripe_client: Client, fake_stripe: FakeStripe
) -> None:
    fen, fee = 6_000, 50
    finals = set()
    for order in itertools.permutations(EVENT_NAMES):
        donation = await _donate(stripe_client, fen)
        session_id = _session_id(donation)
        open_session = fake_stripe.session(session_id)
        paid = fake_stripe.pay(session_id, fee=fee)
        fake_stripe.refund_externally(session_id, fen)
        made = {
            "completed": fake_stripe.event("checkout.session.completed", paid),
            "async_succeeded": fake_stripe.event("checkout.session.async_payment_succeeded", paid),
            "expired": fake_stripe.event("checkout.session.expired", open_session),
            "refunded": fake_stripe.event("charge.refunded", fake_stripe.charge_of(session_id)),
        }
        for name in order:
            response = await _deliver(stripe_client, fake_stripe, made[name])
            assert response.status_code == 200, (order, name, response.text)
        row = await donation_row(donation["id"])
        final = (
            row["status"],
            row["refunded_fen"],
            row["fee_fen"],
            len(await _of_donation(donation["id"], "donation")),
            len(await _of_donation(donation["id"], "fee")),
            len(await _of_donation(donation["id"], "refund")),
        )
        finals.add(final)
        assert final == ("refunded", fen, fee, 1, 1, 1), order
    assert len(finals) == 1


def _crash_trigger_sql(create: bool) -> list[str]:
    """A fault inside the confirming transaction AFTER the ledger append, as a killed process:
    the donation's own status update (which follows the `donation` entry's append in
    `apply_outcome`) fails, so the whole transaction must roll back."""
    engine = engine_finder()
    assert engine is not None
    if engine.engine_type == "postgres":
        if create:
            return [
                "CREATE OR REPLACE FUNCTION linju_test_crash() RETURNS trigger LANGUAGE plpgsql "
                "AS $$ BEGIN RAISE EXCEPTION 'simulated crash before commit'; END; $$",
                "CREATE TRIGGER linju_test_crash BEFORE UPDATE ON donation FOR EACH ROW "
                "WHEN (NEW.status = 'succeeded') EXECUTE FUNCTION linju_test_crash()",
            ]
        return ["DROP TRIGGER linju_test_crash ON donation"]
    if create:
        return [
            "CREATE TRIGGER linju_test_crash BEFORE UPDATE ON donation "
            "WHEN NEW.status = 'succeeded' "
            "BEGIN SELECT RAISE(ABORT, 'simulated crash before commit'); END"
        ]
    return ["DROP TRIGGER linju_test_crash"]


async def _run_ddl(statements: list[str]) -> None:
    engine = engine_finder()
    assert engine is not None
    for statement in statements:
        await engine.run_ddl(statement)


async def test_a_crash_between_confirmation_and_commit_then_redelivery_posts_once(
    stripe_client: Client, fake_stripe: FakeStripe
) -> None:
    donation = await _donate(stripe_client, 7_700)
    session = fake_stripe.pay(_session_id(donation), fee=40)
    event = fake_stripe.event("checkout.session.completed", session)
    before_entries = await entries(SLUG)
    before = await balance(SLUG)
    await _run_ddl(_crash_trigger_sql(create=True))
    try:
        crashed = await _deliver(stripe_client, fake_stripe, event)
        assert crashed.status_code == 500
    finally:
        await _run_ddl(_crash_trigger_sql(create=False))
    assert await entries(SLUG) == before_entries  # nothing half-done
    assert (await donation_row(donation["id"]))["status"] == "pending"
    redelivered = await _deliver(stripe_client, fake_stripe, event)
    assert redelivered.status_code == 200
    again = await _deliver(stripe_client, fake_stripe, event)
    assert again.status_code == 200
    assert len(await _of_donation(donation["id"], "donation")) == 1
    assert len(await _of_donation(donation["id"], "fee")) == 1
    assert await balance(SLUG) == before + 7_700 - 40


async def test_a_refund_goes_through_stripe_with_an_idempotency_key_and_posts_once(
    stripe_client: Client, fake_stripe: FakeStripe
) -> None:
    donation = await _donate(stripe_client, 10_000)
    session = fake_stripe.pay(_session_id(donation), fee=0)
    await _deliver(
        stripe_client, fake_stripe, fake_stripe.event("checkout.session.completed", session)
    )
    before = await balance(SLUG)
    refund_id = await services.refund_donation(donation["id"], 4_000, "捐错了项目", "admin:1")
    assert fake_stripe.requests_to("POST", "/v1/refunds") == []  # asked for; the job sends it
    await drain_jobs()
    [request] = fake_stripe.requests_to("POST", "/v1/refunds")
    assert request.headers["idempotency-key"] == f"refund:{refund_id}"
    assert request.params["amount"] == "4000"
    assert request.params["payment_intent"] == session["payment_intent"]
    assert len(await _of_donation(donation["id"], "refund")) == 1
    assert await balance(SLUG) == before - 4_000
    # Stripe's own report of the same refund changes nothing.
    report = fake_stripe.event("charge.refunded", fake_stripe.charge_of(session["id"]))
    assert (await _deliver(stripe_client, fake_stripe, report)).status_code == 200
    assert len(await _of_donation(donation["id"], "refund")) == 1
    row = await donation_row(donation["id"])
    assert row["status"] == "succeeded"
    assert row["refunded_fen"] == 4_000


async def test_reconcile_applies_what_the_webhooks_missed(
    stripe_client: Client, fake_stripe: FakeStripe
) -> None:
    from linju.payments.reconcile import reconcile

    donation = await _donate(stripe_client, 3_300)
    session = fake_stripe.pay(_session_id(donation), fee=20)
    fake_stripe.event("checkout.session.completed", session)  # made, never delivered
    summary = await reconcile(None)
    assert summary.applied == 2  # the payment and its fee
    assert (await donation_row(donation["id"]))["status"] == "succeeded"
    again = await reconcile(None)
    assert again.applied == 0
    assert len(await _of_donation(donation["id"], "donation")) == 1
    assert await Donation.count().where(Donation.gateway == "stripe") == 1


async def test_an_expired_session_without_amounts_is_still_understood(
    stripe_client: Client, fake_stripe: FakeStripe
) -> None:
    donation = await _donate(stripe_client)
    bare = {**fake_stripe.session(_session_id(donation)), "amount_total": None, "currency": None}
    response = await _deliver(
        stripe_client, fake_stripe, fake_stripe.event("checkout.session.expired", bare)
    )
    assert response.status_code == 200, response.text
    assert (await donation_row(donation["id"]))["status"] == "expired"
