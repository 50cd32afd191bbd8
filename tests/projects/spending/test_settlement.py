"""Settling a cancelled project (docs/adr/0015-settlement.md): the deciding vote queues the
`projects.settle` job and talks to no provider, so it answers while Stripe is down; the job asks
for each online refund once, is retried until every refund is taken, asks again a refund that
failed for good, and `linju projects settle SLUG` resumes it by hand; the project page shows
退款进行中 n/m until the fund is at zero. A project that no longer takes money takes none: a
payment arriving after it stopped (cancelled, completed, closed) is confirmed and given back
through its gateway, and an offline gift recorded before is refused. Refunds asked and not yet
posted are reserved: not available to spend, not moved to the community at completion."""

from __future__ import annotations

import asyncio
import dataclasses
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from linju.payments import services as payments
from linju.payments.registry import configured_gateway
from linju.payments.sandbox import (
    SandboxOutcome,
    events_from_payload,
    finish_session,
    session_payload,
)
from linju.payments.services import REFUND_JOB, Started
from linju.payments.tables import SandboxRefund
from linju.platform.accounts.audit import Actor
from linju.platform.jobs import queue, registry
from linju.platform.jobs.registry import JobContext
from linju.platform.jobs.worker import drain_jobs
from linju.platform.kernel.clock import local_today
from linju.platform.kernel.errors import Conflict, ValidationErrors
from linju.projects.core.files import AttachmentUpload, Upload
from linju.projects.core.rules import ProjectStatus
from linju.projects.core.services.projects import change_status
from linju.projects.core.tables import Project
from linju.projects.donations.rules import DonationInput
from linju.projects.donations.services import refund_failed
from linju.projects.donations.tables import Donation, DonationRefund
from linju.projects.ledger.tables import LedgerEntry, LedgerHead
from linju.projects.spending.jobs import settle_job
from linju.projects.spending.rules import LeftoverChoice, Outcome, Person
from linju.projects.spending.services import cancellation, completion
from linju.projects.spending.services import expenditures as spending
from linju.projects.spending.services.cancellation import SETTLE_JOB, settlement_progress
from linju.projects.spending.services.expenditures import Payment, Proposal, fund_figures
from linju.projects.stewardship.rules import OfflineGift
from linju.projects.stewardship.services.offline_donations import (
    NO_LONGER_TAKING_MONEY,
    confirm_offline_donation,
    record_offline_donation,
)
from tests.accounts_support import log_in, log_out, make_account
from tests.client_support import AppClient
from tests.fakes.stripe_fixtures import WEBHOOK_SECRET
from tests.fakes.stripe_server import FakeStripe
from tests.forms import assert_form_refused, confirm_shown, submit, submit_shown
from tests.projects.spending.spending_support import (
    SECRETARY,
    SLUG,
    Funded,
    drain_until_quiet,
    funded_project,
    invoice,
    png_bytes,
)

pytestmark = pytest.mark.usefixtures("db")
MILLISECOND = timedelta(milliseconds=1)
LINJU = str(Path(sys.executable).parent / "linju")


# --- helpers ----------------------------------------------------------------------------------


def _retries(after: timedelta) -> Iterator[None]:
    originals = [registry.kind(SETTLE_JOB), registry.kind(REFUND_JOB)]
    for original in originals:
        registry.register(
            dataclasses.replace(original, max_attempts=3, first_retry=after, max_retry=after)
        )
    yield
    for original in originals:
        registry.register(original)


# Asked for after the app's client, whose start registers the jobs again as they are.


@pytest.fixture
def quick_retries() -> Iterator[None]:
    """The settle and refund jobs with three attempts a millisecond apart: one drain runs all."""
    yield from _retries(MILLISECOND)


@pytest.fixture
def retry_in_a_second() -> Iterator[None]:
    """The settle and refund jobs with three attempts a second apart: one drain runs one."""
    yield from _retries(timedelta(seconds=1))


async def start(fen: int, name: str = "王阿姨") -> Started:
    return await payments.begin_donation(SLUG, DonationInput(fen, "CNY", name, False, "", ""))


async def pay_in_sandbox(started: Started) -> None:
    """The donor presses 支付成功 and the sandbox's report is applied as its webhook is."""
    session = await finish_session(started.checkout_url.rsplit("/", 1)[1], SandboxOutcome.SUCCEED)
    assert session is not None
    await payments.apply_events("sandbox", events_from_payload(session_payload(session)))


async def paid_in_sandbox(fen: int, name: str = "王阿姨") -> str:
    started = await start(fen, name)
    await pay_in_sandbox(started)
    return started.donation.id


async def paid_through_stripe(fake: FakeStripe, fen: int) -> str:
    started = await start(fen, "李叔")
    session = started.checkout_url.rsplit("/", 1)[1]
    event = fake.event("checkout.session.completed", fake.pay(session, fee=fen // 100))
    body, headers = fake.webhook(event, WEBHOOK_SECRET)
    reported = await configured_gateway().parse_webhook(
        body, {k.lower(): v for k, v in headers.items()}
    )
    await payments.apply_events("stripe", reported)
    return started.donation.id


async def cancel(funded: Funded) -> None:
    motion = await cancellation.propose_cancellation(SLUG, "场地无法落实", SECRETARY)
    await cancellation.decide_cancellation(SLUG, motion, funded.members[0], True, "同意")
    outcome = await cancellation.decide_cancellation(SLUG, motion, funded.members[1], True, "同意")
    assert outcome is Outcome.APPROVED


async def balance() -> int:
    head = (
        await LedgerHead.select(LedgerHead.balance_fen)
        .where(LedgerHead.project.slug == SLUG)
        .first()
    )
    assert head is not None
    return int(head["balance_fen"])


async def status() -> str:
    row = await Project.select(Project.status).where(Project.slug == SLUG).first()
    assert row is not None
    return str(row["status"])


async def refunds_of(donation_id: str) -> list[str]:
    rows = (
        await DonationRefund.select(DonationRefund.status)
        .where(DonationRefund.donation.public_id == donation_id)
        .order_by(DonationRefund.id)
    )
    return [r["status"] for r in rows]


async def kinds_of(ref: str) -> list[str]:
    rows = (
        await LedgerEntry.select(LedgerEntry.kind)
        .where(LedgerEntry.public_ref == ref)
        .order_by(LedgerEntry.seq)
    )
    return [r["kind"] for r in rows]


async def donation(donation_id: str) -> dict[str, Any]:
    row = await Donation.select().where(Donation.public_id == donation_id).first()
    assert row is not None
    return dict(row)


async def jobs_named(name: str) -> list[queue.JobRow]:
    return [job for job in await queue.list_jobs() if job.name == name]


def linju(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([LINJU, *args], capture_output=True, text=True, check=False, timeout=120)


def stripe_refund_keys(fake: FakeStripe) -> list[str]:
    return [r.headers["idempotency-key"] for r in fake.requests_to("POST", "/v1/refunds")]


# --- the settlement job -----------------------------------------------------------------------


@pytest.mark.usefixtures("quick_retries")
async def test_the_deciding_vote_queues_the_settlement_which_refunds_each_gift_once() -> None:
    funded = await funded_project(balance=0, close=False)
    gifts = [await paid_in_sandbox(5_000), await paid_in_sandbox(20_000, "李叔")]
    assert await balance() == 25_000 - 30 - 120  # less the sandbox's 0.6 % fees

    await cancel(funded)
    assert await status() == "cancelled"
    # The vote asked no refund itself: it queued the settlement, once.
    assert await DonationRefund.count() == 0
    assert len(await jobs_named(SETTLE_JOB)) == 1
    progress = await settlement_progress(SLUG)
    assert (progress.done, progress.total, progress.in_progress) == (0, 2, True)

    await drain_until_quiet()
    assert [await refunds_of(g) for g in gifts] == [["posted"], ["posted"]]
    assert [await kinds_of(g) for g in gifts] == [["donation", "fee", "refund"]] * 2
    assert [(await donation(g))["refunded_fen"] for g in gifts] == [5_000 - 30, 20_000 - 120]
    assert await balance() == 0
    assert await SandboxRefund.count() == 2
    assert not await jobs_named(SETTLE_JOB)  # done, not held
    progress = await settlement_progress(SLUG)
    assert (progress.done, progress.total, progress.in_progress) == (2, 2, False)

    # Run again, by the service or as the job: nothing is asked twice.
    again = await cancellation.settle(SLUG)
    assert again.refunds_requested == []
    assert again.failures == []
    await queue.enqueue(SETTLE_JOB, {"project": SLUG})
    await drain_until_quiet()
    assert await DonationRefund.count() == 2
    assert await SandboxRefund.count() == 2
    assert await balance() == 0


async def test_the_deciding_vote_answers_while_stripe_is_down_and_the_page_shows_the_refunds(
    stripe_client: AppClient, fake_stripe: FakeStripe, retry_in_a_second: None
) -> None:
    client = stripe_client
    await funded_project(balance=0, close=False)
    zhang = await make_account("zhang@example.cn", "committee", name="张建国", project=SLUG)
    li = await make_account("li@example.cn", "committee", name="李敏", project=SLUG)
    gifts = [await paid_through_stripe(fake_stripe, 10_000) for _ in range(2)]
    assert await balance() == 2 * (10_000 - 100)
    motion = await cancellation.propose_cancellation(SLUG, "场地无法落实", SECRETARY)
    fake_stripe.down = True

    for member, reason in ((zhang, "同意"), (li, "同意取消")):
        log_out(client)
        await log_in(client, member)
        awaiting = await client.get("/committee")
        asked = await submit_shown(
            client, awaiting.text, f"form-decision-{motion}", {"reason": reason}, press="approve"
        )
        assert "取消" in asked.text  # the confirmation page says what approving does
        decided = await confirm_shown(client, asked, page="/committee")
        assert decided.status_code == 303, decided.text
    assert await status() == "cancelled"
    assert stripe_refund_keys(fake_stripe) == []  # the vote asked Stripe nothing

    await drain_jobs()  # the settlement asks both refunds; Stripe refuses both (503)
    assert [await refunds_of(g) for g in gifts] == [["requested"], ["requested"]]
    sending = await jobs_named(REFUND_JOB)
    assert [job.status for job in sending] == ["queued"] * 2  # each to be retried
    [settle_job] = await jobs_named(SETTLE_JOB)
    assert settle_job.status == "queued"  # its next round, due in a second
    log_out(client)
    page = await client.get(f"/p/{SLUG}")
    assert "退款进行中 0/2" in page.text
    assert await balance() == 2 * (10_000 - 100)

    fake_stripe.down = False
    await asyncio.sleep(1.1)  # the retries are due
    await drain_until_quiet()
    assert [await refunds_of(g) for g in gifts] == [["posted"], ["posted"]]
    assert await balance() == 0
    assert len(fake_stripe.refunds) == 2  # each refunded once, each with its own key
    keys = stripe_refund_keys(fake_stripe)
    assert len(keys) == len(set(keys)) == 2
    assert not await jobs_named(SETTLE_JOB)
    page = await client.get(f"/p/{SLUG}")
    assert "退款进行中" not in page.text
    assert "退款已全部完成，项目资金已归零。" in page.text
    await client.get("/lang/en")
    english = await client.get(f"/p/{SLUG}")
    assert "Every refund is done: the fund is at zero." in english.text


@pytest.mark.usefixtures("quick_retries")
async def test_a_refund_that_failed_for_good_is_asked_again_when_the_settlement_resumes(
    fake_stripe: FakeStripe,
) -> None:
    funded = await funded_project(balance=0, close=False)
    gifts = [await paid_through_stripe(fake_stripe, 8_000) for _ in range(2)]
    fake_stripe.down = True
    await cancel(funded)
    await drain_until_quiet()  # every attempt of every job fails while Stripe is down

    [held] = await jobs_named(SETTLE_JOB)
    assert held.status == "failed"
    assert "unfinished" in held.last_error
    for gift in gifts:  # each attempt of the settlement asked what the last one failed to
        assert set(await refunds_of(gift)) == {"failed"}
    assert await balance() == 2 * (8_000 - 80)
    assert stripe_refund_keys(fake_stripe) == []

    fake_stripe.down = False
    resumed = linju("projects", "settle", SLUG)
    assert resumed.returncode == 0, resumed.stderr
    [line] = resumed.stdout.strip().splitlines()
    assert line.startswith(f"settle {SLUG}: refunds in progress, 0/2 given back")
    assert "2 refunds asked now" in line
    await drain_until_quiet()
    for gift in gifts:
        statuses = await refunds_of(gift)
        assert statuses.count("posted") == 1
        assert set(statuses) == {"failed", "posted"}
        assert await kinds_of(gift) == ["donation", "fee", "refund"]
    assert len(fake_stripe.refunds) == 2
    assert await balance() == 0

    done = linju("projects", "settle", SLUG)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"settle {SLUG}: settled, the fund is at zero, 2/2 given back")
    assert "0 refunds asked now" in done.stdout
    assert len(fake_stripe.refunds) == 2


@pytest.mark.usefixtures("quick_retries")
async def test_a_refund_failing_for_good_while_a_round_runs_brings_the_next_round() -> None:
    """The refund jobs run beside the settlement's round: a refund that fails for good just
    after the round found it open (so asked nothing for its gift) must not end the settlement."""
    funded = await funded_project(balance=0, close=False)
    gifts = [await paid_in_sandbox(5_000), await paid_in_sandbox(20_000, "李叔")]
    await cancel(funded)
    assert len((await cancellation.settle(SLUG)).refunds_requested) == 2  # both open now
    [first_round] = await jobs_named(SETTLE_JOB)

    async def refund_job_fails_right_after(donation_id: str, reason: str, actor: str) -> None:
        """The round asks (nothing: the gift's refund is open), then that refund's job gives up
        on its last attempt, as it may on another worker at this very moment."""
        assert await payments.refund_remaining(donation_id, reason, actor) is None
        [open_refund] = await DonationRefund.select(DonationRefund.public_id).where(
            (DonationRefund.donation.public_id == donation_id)
            & (DonationRefund.status == "requested")
        )
        await refund_failed(open_refund["public_id"])

    cancellation.register_refund_online(refund_job_fails_right_after)
    try:
        await settle_job({"project": SLUG, "round": 1}, JobContext(0, "round-1", 0))
    finally:
        cancellation.register_refund_online(payments.refund_remaining)

    progress = await settlement_progress(SLUG)
    assert (progress.waiting_to_be_sent, progress.not_asked) == (0, 2)
    assert [await refunds_of(g) for g in gifts] == [["failed"], ["failed"]]
    next_rounds = [job for job in await jobs_named(SETTLE_JOB) if job.id != first_round.id]
    assert [job.status for job in next_rounds] == ["queued"]  # round 2 asks them again

    await drain_until_quiet()
    assert [await refunds_of(g) for g in gifts] == [["failed", "posted"]] * 2
    assert await balance() == 0
    assert not await jobs_named(SETTLE_JOB)


async def test_settle_refuses_an_unknown_project_or_one_not_being_settled() -> None:
    await funded_project(balance=0, close=False)
    for args, words in (
        (("nowhere",), "linju: no project nowhere"),
        ((SLUG,), f"linju: project {SLUG} is not being settled"),
    ):
        result = linju("projects", "settle", *args)
        assert result.returncode == 2
        assert result.stdout == ""
        [line] = result.stderr.strip().splitlines()
        assert line.startswith(words), line
    assert await DonationRefund.count() == 0


# --- a project that does not take money takes none --------------------------------------------


async def _spend(funded: Funded, amount: int) -> None:
    public_id = await spending.propose(
        SLUG,
        Proposal(funded.lines[0], "青山游乐设备厂", "跷跷板两台", amount, "", None, (invoice(),)),
        SECRETARY,
    )
    for member in funded.members[:2]:
        await spending.decide(SLUG, public_id, member, True, "同意")
    proof = AttachmentUpload(Upload("回单.png", png_bytes()))
    await spending.record_payment(SLUG, public_id, Payment(date(2026, 11, 20), "转账", proof))


async def _cancelled(funded: Funded) -> None:
    await cancel(funded)


async def _completed(funded: Funded) -> None:
    await change_status(SLUG, ProjectStatus.FUNDED)
    await _spend(funded, 480_000)
    report = await completion.file_report(SLUG, "完工", SECRETARY, LeftoverChoice.TRANSFER)
    for member in funded.members[:2]:
        await completion.decide_report(SLUG, report, member, True, "验收合格")


async def _closed(funded: Funded) -> None:
    await change_status(SLUG, ProjectStatus.FUNDED)  # fundraising closed, no more donations


ENDINGS: dict[str, Callable[[Funded], Awaitable[None]]] = {
    "cancelled": _cancelled,
    "completed": _completed,
    "funded": _closed,
}


@pytest.mark.parametrize("ending", sorted(ENDINGS))
async def test_a_checkout_paid_after_the_project_stopped_taking_money_is_given_back(
    ending: str,
) -> None:
    seed = 0 if ending == "cancelled" else 1_200_000
    funded = await funded_project(balance=seed, close=False)
    late = await start(30_000, "晚到的捐款人")  # the checkout opened while it took money
    await ENDINGS[ending](funded)
    assert await status() == ending
    await drain_until_quiet()
    before = await balance()

    await pay_in_sandbox(late)  # paid after: confirmed (the money did arrive)
    row = await donation(late.donation.id)
    assert row["status"] == "succeeded"
    assert await refunds_of(late.donation.id) == ["requested"]  # asked in the same transaction
    assert await kinds_of(late.donation.id) == ["donation", "fee"]
    await drain_until_quiet()
    assert await refunds_of(late.donation.id) == ["posted"]
    assert await kinds_of(late.donation.id) == ["donation", "fee", "refund"]
    assert (await donation(late.donation.id))["refunded_fen"] == 30_000 - 180
    assert await SandboxRefund.count() == 1
    assert await balance() == before  # the fund ends where it was: zero when cancelled
    if ending != "funded":
        assert before == 0
    assert await status() == ending


async def _gift(actor: Actor) -> str:
    gift = OfflineGift(30_000, "赵大爷", False, local_today(), "cash", "/photos/x.jpg", "0" * 64)
    return await record_offline_donation(actor, SLUG, gift)


@pytest.mark.parametrize("ending", ["cancelled", "funded"])
async def test_an_offline_gift_recorded_before_the_project_stopped_cannot_be_confirmed_after(
    ending: str,
) -> None:
    funded = await funded_project(balance=0, close=False)
    gift = await _gift(Actor(1, "secretary"))
    await ENDINGS[ending](funded)
    await drain_until_quiet()
    with pytest.raises(Conflict) as refused:
        await confirm_offline_donation(Actor(2, "member"), SLUG, gift)
    assert refused.value.message == NO_LONGER_TAKING_MONEY
    assert await kinds_of(gift) == []
    assert await balance() == 0


async def test_the_offline_confirmation_form_says_why_it_is_refused(client: AppClient) -> None:
    funded = await funded_project(balance=0, close=False)
    secretary = await make_account(
        "liu@example.cn", "secretary", name="刘书记", community="lvjingyuan"
    )
    zhang = await make_account("zhang@example.cn", "committee", name="张建国", project=SLUG)
    gift = await _gift(Actor(secretary, "secretary"))
    await cancel(funded)
    await log_in(client, zhang)
    page = f"/p/{SLUG}/offline"
    answer = await submit(client, page, f"/p/{SLUG}/committee/gifts/{gift}", {})
    assert_form_refused(
        answer, "本项目已不再接受捐款，这笔捐款不能确认，请退还给捐款人。", status=409
    )
    assert await kinds_of(gift) == []


# --- refunds asked are reserved ---------------------------------------------------------------


async def test_refunds_asked_and_not_yet_posted_are_not_available_to_spend_or_move() -> None:
    funded = await funded_project(balance=0, close=False)
    gift = await paid_in_sandbox(100_000)
    await change_status(SLUG, ProjectStatus.FUNDED)
    held = await balance()
    await payments.refund_donation(gift, 40_000, "捐错了项目", "admin:1")  # not yet sent

    project = await Project.select(Project.id).where(Project.slug == SLUG).first()
    assert project is not None
    figures = await fund_figures(int(project["id"]), held)
    assert (figures.balance, figures.refunding, figures.available) == (held, 40_000, held - 40_000)
    with pytest.raises(ValidationErrors) as refused:
        await spending.propose(
            SLUG,
            Proposal(funded.lines[1], "某公司", "转椅", held, "", None, (invoice(),)),
            SECRETARY,
        )
    assert "amount" in refused.value.problems
    await _spend(funded, held - 40_000)  # what is not reserved can be spent
    report = await completion.file_report(SLUG, "完工", Person("刘书记"), LeftoverChoice.TRANSFER)
    for member in funded.members[:2]:
        await completion.decide_report(SLUG, report, member, True, "验收合格")
    assert await balance() == 40_000  # the refund's money stayed in the fund

    await drain_until_quiet()  # the refund is sent, confirmed and posted: no overdraft
    assert await refunds_of(gift) == ["posted"]
    assert await balance() == 0
