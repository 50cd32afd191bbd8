"""The end of a project: completion signed off by quorum (leftover moved or kept), and
cancellation by committee decision returning every yuan — online, offline and matched — once."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from linju.payments import services as payments
from linju.payments.sandbox import (
    SandboxOutcome,
    events_from_payload,
    finish_session,
    session_payload,
)
from linju.platform.accounts.audit import Actor
from linju.platform.jobs.worker import drain_jobs
from linju.platform.kernel.clock import utc_now
from linju.platform.kernel.errors import Conflict, ValidationErrors
from linju.projects.core.files import AttachmentUpload, Upload
from linju.projects.core.tables import Project
from linju.projects.donations.rules import DonationInput
from linju.projects.ledger.services import load_entry
from linju.projects.ledger.tables import LedgerEntry, LedgerHead, LedgerPosting
from linju.projects.ledger.verify import verify_entries
from linju.projects.spending.rules import LeftoverChoice, Outcome, Person
from linju.projects.spending.services import cancellation, completion
from linju.projects.spending.services import expenditures as spending
from linju.projects.spending.services.expenditures import Payment, Proposal
from linju.projects.stewardship.rules import OfflineGift, PledgePlan
from linju.projects.stewardship.services.matching import create_pledge, decide_pledge
from linju.projects.stewardship.services.offline_donations import (
    confirm_offline_donation,
    record_offline_donation,
)
from tests.projects.spending.spending_support import (
    SECRETARY,
    SLUG,
    Funded,
    funded_project,
    invoice,
    png_bytes,
)

pytestmark = pytest.mark.usefixtures("db")


async def balance() -> int:
    head = await LedgerHead.select(LedgerHead.balance_fen).first()
    assert head is not None
    return int(head["balance_fen"])


async def status() -> str:
    row = await Project.select(Project.status).first()
    assert row is not None
    return str(row["status"])


async def kinds() -> list[str]:
    return [r["kind"] for r in await LedgerEntry.select(LedgerEntry.kind).order_by(LedgerEntry.seq)]


async def chain_is_valid() -> None:
    ids = await LedgerEntry.select(LedgerEntry.id).order_by(LedgerEntry.seq)
    entries = [await load_entry(r["id"], SLUG) for r in ids]
    result = verify_entries([(None, entry) for entry in entries], SLUG)
    assert result.ok, result


async def spend(funded: Funded, amount: int) -> None:
    public_id = await spending.propose(
        SLUG,
        Proposal(funded.lines[0], "青山游乐设备厂", "跷跷板两台", amount, "", None, (invoice(),)),
        SECRETARY,
    )
    for member in funded.members[:2]:
        await spending.decide(SLUG, public_id, member, True, "同意")
    proof = AttachmentUpload(Upload("回单.png", png_bytes()))
    await spending.record_payment(SLUG, public_id, Payment(date(2026, 11, 20), "转账", proof))


async def test_completion_signed_off_by_quorum_moves_the_leftover_to_the_community() -> None:
    funded = await funded_project(balance=1_200_000)
    await spend(funded, 480_000)
    assert await status() == "in_progress"
    with pytest.raises(ValidationErrors) as refused:
        await completion.file_report(SLUG, "两台跷跷板已安装", SECRETARY)
    assert "leftover" in refused.value.problems
    report = await completion.file_report(
        SLUG, "两台跷跷板已安装", SECRETARY, LeftoverChoice.TRANSFER, photos=(invoice(),)
    )
    with pytest.raises(Conflict):
        await completion.file_report(SLUG, "再交一份", SECRETARY, LeftoverChoice.TRANSFER)
    assert await completion.decide_report(SLUG, report, funded.members[0], True, "属实") is (
        Outcome.PENDING
    )
    assert await status() == "in_progress"
    assert await completion.decide_report(SLUG, report, funded.members[1], True, "验收合格") is (
        Outcome.APPROVED
    )
    assert await status() == "completed"
    assert await balance() == 0
    transfer = await LedgerEntry.select().where(LedgerEntry.kind == "transfer").first()
    assert transfer is not None
    postings = await LedgerPosting.select(LedgerPosting.account, LedgerPosting.amount).where(
        LedgerPosting.entry == transfer["id"]
    )
    assert sorted((p["account"], p["amount"]) for p in postings) == [
        ("community:lvjingyuan", 720_000),
        (f"fund:{SLUG}", -720_000),
    ]
    with pytest.raises(Conflict, match="already been decided"):
        await completion.decide_report(SLUG, report, funded.members[2], False, "晚了")
    await chain_is_valid()


async def test_a_follow_up_keeps_the_leftover_and_the_filer_cannot_sign_off() -> None:
    funded = await funded_project(balance=1_200_000)
    await spend(funded, 480_000)
    report = await completion.file_report(
        SLUG, "完工", Person("张建国"), LeftoverChoice.FOLLOW_UP, "二期：遮阳棚"
    )
    with pytest.raises(Conflict, match="proposer"):
        await completion.decide_report(SLUG, report, funded.members[0], True, "我写的")
    await completion.decide_report(SLUG, report, funded.members[1], True, "好")
    await completion.decide_report(SLUG, report, funded.members[2], True, "好")
    assert await status() == "completed"
    assert await balance() == 720_000
    assert "transfer" not in await kinds()


async def test_no_completion_with_an_open_expenditure() -> None:
    funded = await funded_project(balance=1_200_000)
    await spend(funded, 100_000)
    await spending.propose(
        SLUG, Proposal(funded.lines[1], "某公司", "转椅", 100_000, "", None, ()), SECRETARY
    )
    with pytest.raises(ValidationErrors) as refused:
        await completion.file_report(SLUG, "完工", SECRETARY, LeftoverChoice.TRANSFER)
    assert "expenditures" in refused.value.problems


async def test_cancellation_returns_online_offline_and_matched_money_once() -> None:
    funded = await funded_project(balance=0, close=False)
    secretary, member = Actor(1, "secretary"), Actor(2, "member")
    now = utc_now()
    pledge = await create_pledge(
        secretary,
        SLUG,
        PledgePlan(
            "fulian", "区妇联", 1, 1, 100_000, now - timedelta(days=1), now + timedelta(days=9),
            "/photos/letter.jpg", "0" * 64,
        ),
    )  # fmt: skip
    await decide_pledge(member, SLUG, pledge, funded.members[0], True, "看过承诺函")
    online = []
    for amount, name in ((5_000, "王阿姨"), (20_000, "李叔")):
        started = await payments.begin_donation(
            SLUG, DonationInput(amount, "CNY", name, False, "", "")
        )
        session = await finish_session(
            started.checkout_url.rsplit("/", 1)[1], SandboxOutcome.SUCCEED
        )
        assert session is not None
        await payments.apply_events("sandbox", events_from_payload(session_payload(session)))
        online.append(started.donation.id)
    gift = await record_offline_donation(
        secretary,
        SLUG,
        OfflineGift(30_000, "赵大爷", False, date(2026, 11, 20), "cash", "/photos/x.jpg", "0" * 64),
    )
    await confirm_offline_donation(member, SLUG, gift)
    assert await balance() > 0
    assert "matching" in await kinds()

    motion = await cancellation.propose_cancellation(SLUG, "场地无法落实", SECRETARY)
    assert await cancellation.decide_cancellation(
        SLUG, motion, funded.members[0], True, "同意"
    ) is (Outcome.PENDING)
    assert (
        await cancellation.decide_cancellation(SLUG, motion, funded.members[1], True, "同意取消")
        is Outcome.APPROVED
    )
    assert await status() == "cancelled"
    # The approval queued the settlement job, which asks the online refunds; their jobs send them.
    assert await LedgerEntry.count().where(LedgerEntry.kind == "refund") == 0
    await drain_jobs()
    assert await LedgerEntry.count().where(LedgerEntry.kind == "refund") == 2

    proof = AttachmentUpload(Upload("退款签收.png", png_bytes()))
    first = await cancellation.refund_offline(SLUG, gift, proof)
    again = await cancellation.refund_offline(SLUG, gift, proof)
    assert first == again
    settled = await cancellation.settle(SLUG)  # running it again does nothing more
    assert settled.offline_to_return == []

    refunds = await LedgerEntry.select(LedgerEntry.public_ref).where(LedgerEntry.kind == "refund")
    refs = sorted(r["public_ref"] for r in refunds)
    assert len(refs) == len(set(refs)) == 3, refs
    reversals = await LedgerEntry.count().where(LedgerEntry.kind == "reversal")
    matchings = await LedgerEntry.count().where(LedgerEntry.kind == "matching")
    assert reversals == matchings == 3
    assert await balance() == 0, (await kinds(), settled)
    await chain_is_valid()
