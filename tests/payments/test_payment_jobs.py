"""The payment adapter's jobs run through the queue on both engines: abandoned checkouts expire
(sandbox and Stripe), a late payment still counts, reconciliation runs from its watermark and
an unreachable provider is retried, then held as failed; a refund is asked for without Stripe
and sent by its job, retried while Stripe is down, failed for good on its last attempt (and then
free to ask again), and refunded once however often its job runs."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest

from linju.payments import services
from linju.payments.expiry import MARGIN
from linju.payments.gateway import PaymentEvent, PaymentEventKind
from linju.payments.jobs import EXPIRE_CHECKOUTS_JOB, RECONCILE_JOB
from linju.payments.reconcile import OVERLAP, watermark
from linju.payments.registry import configured_gateway
from linju.payments.sandbox import (
    CHECKOUT_LIFETIME as SANDBOX_LIFETIME,
)
from linju.payments.sandbox import (
    SandboxOutcome,
    events_from_payload,
    finish_session,
    get_session,
    session_payload,
)
from linju.payments.services import REFUND_JOB, Started
from linju.payments.stripe_gateway import CHECKOUT_LIFETIME as STRIPE_LIFETIME
from linju.payments.tables import ProcessedEvent, ReconcileWatermark, SandboxSession
from linju.platform.jobs import queue, registry, schedules
from linju.platform.jobs.tables import JobSchedule
from linju.platform.jobs.worker import drain_jobs
from linju.platform.kernel.clock import utc_now
from linju.platform.kernel.money import Money
from linju.platform.settings import get_settings
from linju.projects.donations import services as donations
from linju.projects.donations.rules import DonationInput
from linju.projects.donations.services import create_donation
from linju.projects.donations.tables import Donation, DonationRefund
from tests.accounts_support import csrf_header, log_in, make_account
from tests.client_support import AppClient
from tests.fakes.stripe_fixtures import WEBHOOK_SECRET
from tests.fakes.stripe_server import FakeStripe
from tests.forms import submit

from .helpers import balance, donation_row, entries, sandbox_event

SLUG = "tongqu-leyuan"
MILLISECOND = timedelta(milliseconds=1)


# --- fixtures and helpers ---------------------------------------------------------------------


@pytest.fixture
def setting(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str, str], None]]:
    """`setting(NAME, value)`: an environment variable for this test, the settings read again."""

    def change(name: str, value: str) -> None:
        monkeypatch.setenv(name, value)
        get_settings.cache_clear()

    yield change
    get_settings.cache_clear()  # read again once monkeypatch has restored the environment


@pytest.fixture
def only_expiry(setting: Callable[[str, str], None]) -> None:
    """Scheduled reconciliation off, so what changes is the expiry job's doing alone."""
    setting("LINJU_RECONCILE_EVERY", "off")


@pytest.fixture
def quick_reconcile_retries() -> Iterator[None]:
    """The reconcile job with its backoff cut to a millisecond and three attempts."""
    original = registry.kind(RECONCILE_JOB)
    registry.register(
        dataclasses.replace(
            original, max_attempts=3, first_retry=MILLISECOND, max_retry=MILLISECOND
        )
    )
    yield
    registry.register(original)


async def donate(fen: int = 5_000) -> Started:
    return await services.begin_donation(SLUG, DonationInput(fen, "CNY", "李叔", False, "", ""))


def checkout_of(started: Started) -> str:
    return started.checkout_url.rsplit("/", 1)[1]


async def started_ago(donation_id: str, age: timedelta) -> None:
    """Time travel: the donation (and its sandbox session, if any) started `age` ago."""
    moment = utc_now() - age
    await Donation.update({Donation.created_at: moment}).where(Donation.public_id == donation_id)
    await SandboxSession.update({SandboxSession.created_at: moment}).where(
        SandboxSession.donation_id == donation_id
    )


async def run_scheduled(name: str) -> None:
    """Schedule `name` made due now (its interval passed), then everything due is run."""
    await JobSchedule.update({JobSchedule.next_run_at: utc_now() - timedelta(seconds=1)}).where(
        JobSchedule.name == name
    )
    await drain_jobs()


async def drain_until_quiet() -> None:
    """Run what is due, again after the (millisecond) backoffs, until nothing is queued."""
    for _ in range(20):
        await drain_jobs()
        if not await queue.list_jobs("queued"):
            return
        await asyncio.sleep(0.05)


async def statuses(*donations: Started | str) -> list[str]:
    ids = [d if isinstance(d, str) else d.donation.id for d in donations]
    return [(await donation_row(i))["status"] for i in ids]


async def mine(donation_id: str) -> list[str]:
    return [e["kind"] for e in await entries(SLUG) if e["public_ref"] == donation_id]


async def everything() -> tuple[Any, ...]:
    """What a run of a job could change: the ledger, the donations, the events applied."""
    donations = await Donation.select(Donation.public_id, Donation.status, Donation.fee_fen)
    processed = await ProcessedEvent.select(ProcessedEvent.event_id, ProcessedEvent.outcome)
    return (
        await entries(SLUG),
        sorted((d["public_id"], d["status"], d["fee_fen"]) for d in donations),
        sorted((p["event_id"], p["outcome"]) for p in processed),
    )


PAST_SANDBOX = SANDBOX_LIFETIME + MARGIN + timedelta(minutes=1)
PAST_STRIPE = STRIPE_LIFETIME + MARGIN + timedelta(minutes=1)


# --- expiring abandoned checkouts -------------------------------------------------------------


@pytest.mark.usefixtures("demo", "only_expiry")
async def test_old_pending_checkouts_expire_and_nothing_else_changes() -> None:
    abandoned = await donate()
    young = await donate()
    paid_unheard = await donate(8_000)  # paid at the sandbox, but its webhook never arrived
    confirmed = await donate()
    await services.apply_events(
        "sandbox", events_from_payload(await sandbox_event(confirmed.checkout_url, "paid"))
    )
    await finish_session(checkout_of(paid_unheard), SandboxOutcome.SUCCEED)
    never_opened = await create_donation(  # the provider failed while the donor waited
        SLUG, DonationInput(3_000, "CNY", "", True, "", ""), "sandbox", 5_000_000
    )
    for donation in (abandoned.donation.id, paid_unheard.donation.id, confirmed.donation.id):
        await started_ago(donation, PAST_SANDBOX)
    await started_ago(never_opened.id, PAST_SANDBOX)
    await started_ago(young.donation.id, PAST_SANDBOX - timedelta(minutes=5))
    confirmed_entries = await mine(confirmed.donation.id)
    before = await balance(SLUG)

    await drain_jobs()

    assert await statuses(abandoned, young, paid_unheard, confirmed, never_opened.id) == [
        "expired",
        "pending",
        "succeeded",
        "succeeded",
        "expired",
    ]
    # The sandbox closed the abandoned checkout: it can no longer be paid.
    assert (await get_session(checkout_of(abandoned)) or {})["status"] == "abandoned"
    assert (await get_session(checkout_of(young)) or {})["status"] == "open"
    # The payment whose report was lost is not dropped: confirmed with its fee, once.
    assert await mine(paid_unheard.donation.id) == ["donation", "fee"]
    assert await balance(SLUG) == before + 8_000 - 48
    assert await mine(confirmed.donation.id) == confirmed_entries
    assert await mine(abandoned.donation.id) == []

    after = await everything()
    await run_scheduled(EXPIRE_CHECKOUTS_JOB)
    assert await everything() == after  # a second run changes nothing

    # The sandbox's own report of the ending, arriving now, is the same event: a duplicate.
    late = events_from_payload(session_payload(await get_session(checkout_of(abandoned)) or {}))
    assert [a.outcome for a in await services.apply_events("sandbox", late)] == ["duplicate"]
    assert await everything() == after


@pytest.mark.usefixtures("demo", "only_expiry")
async def test_a_late_confirmation_after_expiry_posts_the_money_once() -> None:
    """Money received wins (rules.next_status): expired, then paid, is confirmed and posted."""
    donation = await donate(6_000)
    await started_ago(donation.donation.id, PAST_SANDBOX)
    await drain_jobs()
    assert await statuses(donation) == ["expired"]
    before = await balance(SLUG)

    session = checkout_of(donation)
    late = [
        PaymentEvent(
            "evt_late",
            PaymentEventKind.SUCCEEDED,
            donation.donation.id,
            Money(6_000),
            utc_now(),
            session,
        ),
        PaymentEvent(
            "evt_late:fee",
            PaymentEventKind.FEE,
            donation.donation.id,
            Money(36),
            utc_now(),
            session,
        ),
    ]
    applied = await services.apply_events("sandbox", late)
    assert [a.outcome for a in applied] == ["applied", "applied"]
    assert await statuses(donation) == ["succeeded"]
    assert await mine(donation.donation.id) == ["donation", "fee"]
    assert await balance(SLUG) == before + 6_000 - 36

    again = await services.apply_events("sandbox", late)
    assert [a.outcome for a in again] == ["duplicate", "duplicate"]
    await run_scheduled(EXPIRE_CHECKOUTS_JOB)
    assert await statuses(donation) == ["succeeded"]
    assert await mine(donation.donation.id) == ["donation", "fee"]


@pytest.mark.usefixtures("demo")
async def test_a_sandbox_checkout_pressed_after_its_lifetime_is_expired() -> None:
    donation = await donate()
    await started_ago(donation.donation.id, SANDBOX_LIFETIME + timedelta(seconds=1))
    session = await finish_session(checkout_of(donation), SandboxOutcome.SUCCEED)
    assert session is not None
    assert session["status"] == "abandoned"
    assert session_payload(session)["type"] == "checkout.expired"


@pytest.mark.usefixtures("demo", "only_expiry")
async def test_stripe_checkouts_are_asked_for_and_expired_at_stripe(
    fake_stripe: FakeStripe,
) -> None:
    still_open = await donate()
    paid_unheard = await donate(10_000)
    expired_there = await donate()
    young = await donate()
    fake_stripe.pay(checkout_of(paid_unheard), fee=340)  # no event delivered
    fake_stripe.sessions[checkout_of(expired_there)]["status"] = "expired"
    for donation in (still_open, paid_unheard, expired_there):
        await started_ago(donation.donation.id, PAST_STRIPE)
    await started_ago(young.donation.id, STRIPE_LIFETIME)
    before = await balance(SLUG)

    await drain_jobs()

    assert await statuses(still_open, paid_unheard, expired_there, young) == [
        "expired",
        "succeeded",
        "expired",
        "pending",
    ]
    assert await mine(paid_unheard.donation.id) == ["donation", "fee"]
    assert await balance(SLUG) == before + 10_000 - 340
    # Only the session still open was expired at Stripe, with an idempotency key.
    expire = f"/v1/checkout/sessions/{checkout_of(still_open)}/expire"
    [request] = [r for r in fake_stripe.requests if r.path.endswith("/expire")]
    assert request.path == expire
    assert request.headers["idempotency-key"] == f"expire:{checkout_of(still_open)}"
    assert fake_stripe.session(checkout_of(still_open))["status"] == "expired"
    # The young one was not even asked about.
    young_path = f"/v1/checkout/sessions/{checkout_of(young)}"
    assert not [r for r in fake_stripe.requests if r.path.startswith(young_path)]

    after = await everything()
    asked = len(fake_stripe.requests)
    await run_scheduled(EXPIRE_CHECKOUTS_JOB)
    assert await everything() == after
    assert len(fake_stripe.requests) == asked

    # Stripe's own `checkout.session.expired` for the session, delivered now, changes nothing.
    event = fake_stripe.event(
        "checkout.session.expired", fake_stripe.session(checkout_of(still_open))
    )
    body, headers = fake_stripe.webhook(event, WEBHOOK_SECRET)
    reported = await configured_gateway().parse_webhook(
        body, {k.lower(): v for k, v in headers.items()}
    )
    assert [a.outcome for a in await services.apply_events("stripe", reported)] == ["no-op"]
    assert (await everything())[:2] == after[:2]  # the ledger and the donations as they were


@pytest.mark.usefixtures("demo", "only_expiry")
async def test_a_stripe_payment_reported_after_expiry_is_confirmed_through_the_webhook(
    stripe_client: AppClient, fake_stripe: FakeStripe
) -> None:
    donation = await donate(7_000)
    await started_ago(donation.donation.id, PAST_STRIPE)
    await drain_jobs()
    assert await statuses(donation) == ["expired"]
    before = await balance(SLUG)

    # The donor's payment was already under way when the session was expired; Stripe took it.
    paid = fake_stripe.pay(checkout_of(donation), fee=250)
    body, headers = fake_stripe.webhook(
        fake_stripe.event("checkout.session.completed", paid), WEBHOOK_SECRET
    )
    response = await stripe_client.post("/webhooks/stripe", content=body, headers=headers)
    assert response.status_code == 200, response.text
    assert await statuses(donation) == ["succeeded"]
    assert await mine(donation.donation.id) == ["donation", "fee"]
    assert await balance(SLUG) == before + 7_000 - 250
    again = await stripe_client.post("/webhooks/stripe", content=body, headers=headers)
    assert again.status_code == 200
    assert await mine(donation.donation.id) == ["donation", "fee"]


# --- scheduled reconciliation -----------------------------------------------------------------


@pytest.mark.usefixtures("demo")
async def test_the_reconcile_job_applies_a_missed_payment_and_moves_its_watermark() -> None:
    donation = await donate(2_000)
    await finish_session(checkout_of(donation), SandboxOutcome.SUCCEED)  # webhook lost
    assert await watermark("sandbox") is None
    started = utc_now()

    await drain_jobs()  # the first tick enqueues it: asks for the last three days

    assert await statuses(donation) == ["succeeded"]
    assert await mine(donation.donation.id) == ["donation", "fee"]
    first = await watermark("sandbox")
    assert first is not None
    assert started <= first <= utc_now()

    after = await everything()
    await run_scheduled(RECONCILE_JOB)
    assert await everything() == after  # idempotent: the same events are duplicates
    second = await watermark("sandbox")
    assert second is not None
    assert second > first


async def _watermark_at(gateway: str, moment: Any) -> None:
    await ReconcileWatermark.insert(
        ReconcileWatermark(gateway=gateway, reconciled_until=moment, updated_at=moment)
    ).on_conflict(
        target=ReconcileWatermark.gateway,
        action="DO UPDATE",
        values=[ReconcileWatermark.reconciled_until],
    )


@pytest.mark.usefixtures("demo")
async def test_the_reconcile_job_asks_from_its_watermark_less_the_overlap() -> None:
    donation = await donate(2_000)
    await finish_session(checkout_of(donation), SandboxOutcome.SUCCEED)  # webhook lost
    paid_at = utc_now() - timedelta(hours=2)
    await SandboxSession.update({SandboxSession.completed_at: paid_at}).where(
        SandboxSession.public_id == checkout_of(donation)
    )

    await _watermark_at("sandbox", paid_at + OVERLAP + timedelta(minutes=5))
    await drain_jobs()
    assert await statuses(donation) == ["pending"]  # before what this run asked for

    await _watermark_at("sandbox", paid_at + OVERLAP - timedelta(minutes=5))
    await run_scheduled(RECONCILE_JOB)
    assert await statuses(donation) == ["succeeded"]  # within the overlap


@pytest.mark.usefixtures("demo", "quick_reconcile_retries")
async def test_an_unreachable_provider_fails_the_job_which_retries_then_is_held(
    fake_stripe: FakeStripe,
) -> None:
    await drain_jobs()  # a first run that succeeds
    mark = await watermark("stripe")
    assert mark is not None
    donation = await donate(3_300)
    paid = fake_stripe.pay(checkout_of(donation), fee=20)
    fake_stripe.event("checkout.session.completed", paid)  # made, never delivered
    listings = len(fake_stripe.requests_to("GET", "/v1/events"))

    fake_stripe.down = True
    await queue.enqueue(RECONCILE_JOB)
    await drain_until_quiet()

    assert len(fake_stripe.requests_to("GET", "/v1/events")) == listings + 3  # every attempt
    [held] = [job for job in await queue.list_jobs() if job.name == RECONCILE_JOB]
    assert held.status == "failed"
    assert "GatewayError" in held.last_error
    assert await watermark("stripe") == mark  # moves only on success
    assert await statuses(donation) == ["pending"]

    fake_stripe.down = False
    await queue.retry_job(held.id)
    await drain_until_quiet()
    assert not [job for job in await queue.list_jobs() if job.name == RECONCILE_JOB]
    assert await statuses(donation) == ["succeeded"]
    assert await mine(donation.donation.id) == ["donation", "fee"]
    moved = await watermark("stripe")
    assert moved is not None
    assert moved > mark


async def test_the_reconcile_schedule_runs_only_when_set(
    db: str, setting: Callable[[str, str], None]
) -> None:
    setting("LINJU_RECONCILE_EVERY", "off")
    enqueued = await schedules.tick()
    assert EXPIRE_CHECKOUTS_JOB in enqueued  # the expiry's schedule is always on
    assert RECONCILE_JOB not in enqueued
    assert not await JobSchedule.exists().where(JobSchedule.name == RECONCILE_JOB)

    setting("LINJU_RECONCILE_EVERY", "2h")
    assert RECONCILE_JOB in await schedules.tick()
    row = await JobSchedule.select().where(JobSchedule.name == RECONCILE_JOB).first()
    assert row is not None
    assert timedelta(hours=2) - timedelta(minutes=1) < row["next_run_at"] - utc_now()
    assert RECONCILE_JOB not in await schedules.tick()  # not due again for two hours
    assert [job.name for job in await queue.list_jobs()].count(RECONCILE_JOB) == 1


# --- refunds, sent by their job -----------------------------------------------------------------


def _refund_retries(after: timedelta) -> Iterator[None]:
    original = registry.kind(REFUND_JOB)
    registry.register(
        dataclasses.replace(original, max_attempts=3, first_retry=after, max_retry=after)
    )
    yield
    registry.register(original)


# Both are asked for after the app's client, whose start registers the jobs again as they are.


@pytest.fixture
def quick_refund_retries() -> Iterator[None]:
    """The refund job with three attempts a millisecond apart: one drain runs them all."""
    yield from _refund_retries(MILLISECOND)


@pytest.fixture
def refund_retry_in_a_second() -> Iterator[None]:
    """The refund job with three attempts a second apart: one drain runs one attempt."""
    yield from _refund_retries(timedelta(seconds=1))


async def paid_through_stripe(fake: FakeStripe, fen: int = 10_000) -> str:
    """A donation paid at the fake Stripe, its confirmation applied as its webhook would be."""
    started = await donate(fen)
    event = fake.event("checkout.session.completed", fake.pay(checkout_of(started), fee=0))
    body, headers = fake.webhook(event, WEBHOOK_SECRET)
    reported = await configured_gateway().parse_webhook(
        body, {k.lower(): v for k, v in headers.items()}
    )
    await services.apply_events("stripe", reported)
    assert await statuses(started) == ["succeeded"]
    return started.donation.id


async def refund_rows(donation_id: str) -> list[dict[str, Any]]:
    return list(
        await DonationRefund.select(DonationRefund.public_id, DonationRefund.status)
        .where(DonationRefund.donation.public_id == donation_id)
        .order_by(DonationRefund.id)
    )


async def refund_statuses(donation_id: str) -> list[str]:
    return [r["status"] for r in await refund_rows(donation_id)]


def refund_requests(fake: FakeStripe) -> list[str]:
    """The idempotency key of every refund request Stripe received, in order."""
    return [r.headers["idempotency-key"] for r in fake.requests_to("POST", "/v1/refunds")]


async def refund_entries(donation_id: str) -> int:
    return len([e for e in await entries(SLUG, "refund") if e["public_ref"] == donation_id])


@pytest.mark.usefixtures("demo", "only_expiry")
async def test_a_refund_asked_while_stripe_is_down_is_answered_at_once_and_sent_when_it_is_back(
    stripe_client: AppClient, fake_stripe: FakeStripe, refund_retry_in_a_second: None
) -> None:
    by_form, by_api = await paid_through_stripe(fake_stripe), await paid_through_stripe(fake_stripe)
    await log_in(stripe_client, await make_account("admin@example.cn", "admin"))
    before = await balance(SLUG)
    fake_stripe.down = True

    page = f"/p/{SLUG}/donations/{by_form}/refund"
    answer = await submit(stripe_client, page, page, {"amount": "40", "reason": "捐错了项目"})
    assert answer.status_code == 303
    api = await stripe_client.post(
        f"/api/v1/projects/{SLUG}/donations/{by_api}/refunds",
        json={"amount": {"amount": 2_500, "currency": "CNY"}, "reason": "重复捐款"},
        headers=await csrf_header(stripe_client),
    )
    assert api.status_code == 202, api.text
    assert refund_requests(fake_stripe) == []  # the requests never waited on Stripe
    assert await refund_statuses(by_form) == await refund_statuses(by_api) == ["requested"]

    asked = len(fake_stripe.requests)
    await drain_jobs()  # Stripe is down: each job fails its first attempt and waits to retry
    assert len(fake_stripe.requests) == asked + 2  # each job asked, and was answered 503
    assert refund_requests(fake_stripe) == []
    assert await refund_statuses(by_form) == await refund_statuses(by_api) == ["requested"]
    assert await balance(SLUG) == before
    shown = await stripe_client.get(page)
    assert 'data-stage="requested"' in shown.text

    fake_stripe.down = False
    await asyncio.sleep(1.1)  # the retries are due
    await drain_until_quiet()
    assert await refund_statuses(by_form) == await refund_statuses(by_api) == ["posted"]
    assert await balance(SLUG) == before - 4_000 - 2_500
    assert await refund_entries(by_form) == await refund_entries(by_api) == 1
    # Each refund was asked for once Stripe was back, with its key: refunded once each.
    ids = [r["public_id"] for r in await refund_rows(by_form) + await refund_rows(by_api)]
    assert sorted(refund_requests(fake_stripe)) == sorted(f"refund:{i}" for i in ids)
    assert len(fake_stripe.refunds) == 2
    assert not [job for job in await queue.list_jobs() if job.name == REFUND_JOB]
    shown = await stripe_client.get(page)
    assert 'data-stage="confirmed"' in shown.text


@pytest.mark.usefixtures("demo", "only_expiry")
async def test_a_refund_stripe_never_took_fails_on_the_last_attempt_and_can_be_asked_again(
    stripe_client: AppClient, fake_stripe: FakeStripe, quick_refund_retries: None
) -> None:
    donation_id = await paid_through_stripe(fake_stripe, 6_000)
    before = await balance(SLUG)
    fake_stripe.down = True
    first = await services.refund_donation(donation_id, 6_000, "项目取消", "admin:1")
    asked = len(fake_stripe.requests)
    await drain_until_quiet()

    assert len(fake_stripe.requests) == asked + 3  # every attempt asked
    assert refund_requests(fake_stripe) == []
    [held] = [job for job in await queue.list_jobs() if job.name == REFUND_JOB]
    assert held.status == "failed"
    assert "GatewayError" in held.last_error
    assert await refund_statuses(donation_id) == ["failed"]
    assert await balance(SLUG) == before
    await log_in(stripe_client, await make_account("admin@example.cn", "admin"))
    page = await stripe_client.get(f"/p/{SLUG}/donations/{donation_id}/refund")
    assert 'data-stage="failed"' in page.text
    assert "失败：支付机构未能退款，这笔金额可以重新申请退款" in page.text
    assert '<dd data-testid="refundable">¥60.00</dd>' in page.text

    # The job retried by hand finds the refund failed: it asks Stripe for nothing.
    fake_stripe.down = False
    await queue.retry_job(held.id)
    await drain_until_quiet()
    assert len(fake_stripe.requests) == asked + 3
    assert await refund_statuses(donation_id) == ["failed"]

    # The amount is free again: asked anew, it is refunded once.
    second = await services.refund_donation(donation_id, 6_000, "项目取消", "admin:1")
    await drain_until_quiet()
    assert await refund_statuses(donation_id) == ["failed", "posted"]
    assert refund_requests(fake_stripe) == [f"refund:{second}"]
    assert second != first
    assert len(fake_stripe.refunds) == 1
    assert await refund_entries(donation_id) == 1
    assert await balance(SLUG) == before - 6_000
    assert await statuses(donation_id) == ["refunded"]


@pytest.mark.usefixtures("demo", "only_expiry", "quick_refund_retries")
async def test_a_refund_job_that_dies_after_stripe_refunded_is_run_again_and_refunds_once(
    fake_stripe: FakeStripe, monkeypatch: pytest.MonkeyPatch
) -> None:
    donation_id = await paid_through_stripe(fake_stripe, 8_000)
    before = await balance(SLUG)
    refund_id = await services.refund_donation(donation_id, 3_000, "退一部分", "admin:1")

    # The worker dies between Stripe's answer and our commit (once).
    real_attach = donations.attach_refund_ref
    deaths: list[str] = []

    async def dies_once(refund: str, provider_ref: str) -> None:
        if not deaths:
            deaths.append(provider_ref)
            raise RuntimeError("the worker died")
        await real_attach(refund, provider_ref)

    monkeypatch.setattr(donations, "attach_refund_ref", dies_once)
    await drain_until_quiet()

    assert refund_requests(fake_stripe) == [f"refund:{refund_id}"] * 2  # asked again, one key
    assert len(fake_stripe.refunds) == 1  # Stripe replayed its first answer
    [stripe_refund] = fake_stripe.refunds
    assert deaths == [stripe_refund]
    assert await refund_statuses(donation_id) == ["posted"]
    assert await refund_entries(donation_id) == 1
    assert await balance(SLUG) == before - 3_000

    # The job queued again, and Stripe's own report of the refund: nothing more.
    await queue.enqueue(REFUND_JOB, {"refund": refund_id})
    await drain_until_quiet()
    report = fake_stripe.event("refund.updated", fake_stripe.refunds[stripe_refund])
    body, headers = fake_stripe.webhook(report, WEBHOOK_SECRET)
    reported = await configured_gateway().parse_webhook(
        body, {k.lower(): v for k, v in headers.items()}
    )
    assert [a.outcome for a in await services.apply_events("stripe", reported)] == ["no-op"]
    assert len(refund_requests(fake_stripe)) == 2
    assert await refund_entries(donation_id) == 1
    assert (await donation_row(donation_id))["refunded_fen"] == 3_000


@pytest.mark.usefixtures("demo", "only_expiry")
async def test_a_refund_stripe_confirms_later_is_sent_then_confirmed_by_its_webhook(
    stripe_client: AppClient, fake_stripe: FakeStripe
) -> None:
    donation_id = await paid_through_stripe(fake_stripe, 5_000)
    before = await balance(SLUG)
    fake_stripe.refund_status = "pending"
    await services.refund_donation(donation_id, 5_000, "捐错了", "admin:1")
    await drain_jobs()
    assert await refund_statuses(donation_id) == ["sent"]
    assert await balance(SLUG) == before
    await log_in(stripe_client, await make_account("admin@example.cn", "admin"))
    page = f"/p/{SLUG}/donations/{donation_id}/refund"
    assert "已发送：等待支付机构确认" in (await stripe_client.get(page)).text

    [stripe_refund] = fake_stripe.refunds
    fake_stripe.refunds[stripe_refund]["status"] = "succeeded"
    event = fake_stripe.event("refund.updated", fake_stripe.refunds[stripe_refund])
    body, headers = fake_stripe.webhook(event, WEBHOOK_SECRET)
    delivered = await stripe_client.post("/webhooks/stripe", content=body, headers=headers)
    assert delivered.status_code == 200, delivered.text
    assert await refund_statuses(donation_id) == ["posted"]
    assert await refund_entries(donation_id) == 1
    assert await balance(SLUG) == before - 5_000
    assert 'data-stage="confirmed"' in (await stripe_client.get(page)).text
