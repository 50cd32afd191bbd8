"""Expenditures on a real database: propose, decide by quorum, pay once, withdraw, bad input."""

from __future__ import annotations

from datetime import date

import pytest

from linju.platform.accounts.tables import SentMail
from linju.platform.jobs import queue
from linju.platform.jobs.worker import drain_jobs
from linju.platform.kernel.errors import Conflict, NotFound, ValidationErrors
from linju.platform.storage import get_storage
from linju.projects.core.files import AttachmentUpload, BadAttachment, Upload
from linju.projects.core.tables import CommitteeMember, Project
from linju.projects.ledger.tables import LedgerEntry, LedgerHead
from linju.projects.spending.rules import ExpenditureStatus, Outcome, Person
from linju.projects.spending.services import expenditures as spending
from linju.projects.spending.services.expenditures import Payment, Proposal
from linju.projects.spending.tables import Attachment, Decision, Expenditure
from tests.accounts_support import make_account
from tests.projects.spending.spending_support import (
    PDF_BYTES,
    SECRETARY,
    SLUG,
    Funded,
    donate,
    funded_project,
    invoice,
    png_bytes,
)
from tests.storage_support import stored_keys

pytestmark = pytest.mark.usefixtures("db")


@pytest.fixture
async def funded(db: str) -> Funded:
    return await funded_project()


def see_saws(funded: Funded, amount: int = 480_000, **changes: object) -> Proposal:
    fields: dict[str, object] = {
        "budget_line_id": funded.lines[0],
        "payee": "青山游乐设备厂",
        "purpose": "跷跷板两台",
        "amount_fen": amount,
        "attachments": (invoice(),),
    }
    fields.update(changes)
    return Proposal(**fields)  # type: ignore[arg-type]


def a_payment() -> Payment:
    return Payment(
        date(2026, 11, 20), "银行转账", AttachmentUpload(Upload("回单.png", png_bytes()))
    )


async def status_of(public_id: str) -> str:
    row = (
        await Expenditure.select(Expenditure.status)
        .where(Expenditure.public_id == public_id)
        .first()
    )
    assert row is not None
    return str(row["status"])


async def project_status() -> str:
    row = await Project.select(Project.status).where(Project.slug == SLUG).first()
    assert row is not None
    return str(row["status"])


async def test_the_whole_path_posts_one_expenditure_entry(funded: Funded) -> None:
    public_id = await spending.propose(SLUG, see_saws(funded), SECRETARY)
    assert await status_of(public_id) == "proposed"
    head = await LedgerHead.select().where(LedgerHead.project.slug == SLUG).first()
    assert head is not None

    first = await spending.decide(SLUG, public_id, funded.members[0], True, "价格合理")
    assert first is Outcome.PENDING
    assert await project_status() == "funded"
    second = await spending.decide(SLUG, public_id, funded.members[1], True, "有三家报价")
    assert second is Outcome.APPROVED
    assert await status_of(public_id) == "approved"
    assert await project_status() == "in_progress"

    decisions = await Decision.select().order_by(Decision.id)
    assert [(d["member_name"], d["approve"]) for d in decisions] == [
        ("张建国", True),
        ("李敏", True),
    ]
    assert all((d["head_seq"], d["head_hash"]) == (head["seq"], head["hash"]) for d in decisions)

    paid = await spending.record_payment(SLUG, public_id, a_payment())
    assert paid.created
    again = await spending.record_payment(SLUG, public_id, a_payment())
    assert (again.seq, again.created) == (paid.seq, False)
    entries = await LedgerEntry.select().where(LedgerEntry.kind == "expenditure")
    assert len(entries) == 1
    assert entries[0]["memo"] == "青山游乐设备厂：跷跷板两台"
    assert entries[0]["public_ref"] == public_id
    assert await status_of(public_id) == "paid"
    head = await LedgerHead.select().where(LedgerHead.project.slug == SLUG).first()
    assert head is not None
    assert (head["balance_fen"], head["spent_fen"]) == (720_000, 480_000)
    lines = await spending.line_figures(int((await Project.select(Project.id).first() or {})["id"]))
    assert lines[funded.lines[0]].spent == 480_000
    # one proof of payment stored (the repeat's file was discarded), one invoice
    kinds = sorted(r["owner_kind"] for r in await Attachment.select(Attachment.owner_kind))
    assert kinds == ["expenditure", "payment"]
    assert len(await stored_keys("private")) == 2


async def test_the_public_copy_is_the_redacted_one_and_the_original_stays_private(
    funded: Funded,
) -> None:
    await spending.propose(SLUG, see_saws(funded), SECRETARY)
    row = await Attachment.select().first()
    assert row is not None
    assert row["private_path"].startswith("private/")
    assert row["public_path"].startswith("public/")
    assert row["content_type"] == "application/pdf"
    assert row["public_content_type"] == "image/png"
    assert await get_storage().get(row["private_path"]) == PDF_BYTES
    assert row["sha256"] != row["public_sha256"]


async def test_rejection_by_a_majority(funded: Funded) -> None:
    public_id = await spending.propose(SLUG, see_saws(funded), SECRETARY)
    assert await spending.decide(SLUG, public_id, funded.members[0], False, "太贵") is (
        Outcome.PENDING
    )
    assert await spending.decide(SLUG, public_id, funded.members[1], True, "可以") is (
        Outcome.PENDING
    )
    assert await spending.decide(SLUG, public_id, funded.members[2], False, "再比价") is (
        Outcome.REJECTED
    )
    assert await status_of(public_id) == "rejected"
    assert await project_status() == "funded"


async def test_a_decision_on_a_decided_proposal_is_refused_and_changes_nothing(
    funded: Funded,
) -> None:
    public_id = await spending.propose(SLUG, see_saws(funded), SECRETARY)
    await spending.decide(SLUG, public_id, funded.members[0], True, "好")
    await spending.decide(SLUG, public_id, funded.members[1], True, "好")
    with pytest.raises(Conflict, match="already been decided"):
        await spending.decide(SLUG, public_id, funded.members[2], False, "晚了")
    assert await Decision.count() == 2


async def test_a_member_decides_once(funded: Funded) -> None:
    public_id = await spending.propose(SLUG, see_saws(funded), SECRETARY)
    await spending.decide(SLUG, public_id, funded.members[0], False, "不行")
    with pytest.raises(Conflict, match="already decided"):
        await spending.decide(SLUG, public_id, funded.members[0], True, "改主意")
    assert await Decision.count() == 1


async def test_the_proposer_and_the_payee_cannot_vote(funded: Funded) -> None:
    await CommitteeMember.update({CommitteeMember.account_id: 41}).where(
        CommitteeMember.id == funded.members[0]
    )
    public_id = await spending.propose(SLUG, see_saws(funded), Person("张建国同志", 41))
    with pytest.raises(Conflict, match="proposer"):
        await spending.decide(SLUG, public_id, funded.members[0], True, "我自己提的")
    paying_li = await spending.propose(SLUG, see_saws(funded, 10_000, payee="李敏"), SECRETARY)
    with pytest.raises(Conflict, match="payee"):
        await spending.decide(SLUG, paying_li, funded.members[1], True, "付给我")
    assert await Decision.count() == 0


async def test_a_stranger_and_an_empty_reason_are_refused(funded: Funded) -> None:
    public_id = await spending.propose(SLUG, see_saws(funded), SECRETARY)
    with pytest.raises(NotFound):
        await spending.decide(SLUG, public_id, 99_999, True, "路人")
    with pytest.raises(ValidationErrors) as refused:
        await spending.decide(SLUG, public_id, funded.members[0], True, "  ")
    assert refused.value.problems == {"reason": "Give a reason"}
    assert await Decision.count() == 0


async def test_an_amount_over_what_is_available_is_refused_at_proposal_and_approval(
    funded: Funded,
) -> None:
    with pytest.raises(ValidationErrors) as refused:
        await spending.propose(SLUG, see_saws(funded, 1_200_001, justification="超预算"), SECRETARY)
    assert refused.value.problems == {"amount": "The amount is more than the fund has available"}
    assert await Expenditure.count() == 0
    assert await stored_keys("private") == []

    big = await spending.propose(
        SLUG, see_saws(funded, 700_000, budget_line_id=funded.lines[1]), SECRETARY
    )
    other = await spending.propose(
        SLUG,
        see_saws(funded, 600_000, justification="两台加安装，超出计划"),
        SECRETARY,
    )
    for member in funded.members[:2]:
        await spending.decide(SLUG, big, member, True, "同意")
    await spending.decide(SLUG, other, funded.members[0], False, "先等等")
    with pytest.raises(Conflict, match="available"):
        await spending.decide(SLUG, other, funded.members[1], True, "同意")
    assert await Decision.count() == 3
    assert await status_of(other) == "proposed"


async def test_over_the_line_needs_a_justification(funded: Funded) -> None:
    with pytest.raises(ValidationErrors) as refused:
        await spending.propose(SLUG, see_saws(funded, 500_001), SECRETARY)
    assert set(refused.value.problems) == {"justification"}
    public_id = await spending.propose(
        SLUG, see_saws(funded, 500_001, justification="运费"), SECRETARY
    )
    row = (
        await Expenditure.select(Expenditure.justification)
        .where(Expenditure.public_id == public_id)
        .first()
    )
    assert row == {"justification": "运费"}


@pytest.mark.parametrize(
    "data",
    [b"%PDX-1.4 not a pdf", b"\x89PNG\r\n\x1a\n" + b"garbage" * 10, b"", b"GIF89a......"],
    ids=["not a pdf", "fake png", "empty", "gif"],
)
async def test_an_attachment_that_is_not_what_it_claims_is_refused(
    funded: Funded, data: bytes
) -> None:
    bad = AttachmentUpload(Upload("发票.pdf", data))
    with pytest.raises(BadAttachment):
        await spending.propose(SLUG, see_saws(funded, attachments=(bad,)), SECRETARY)
    assert await Expenditure.count() == 0
    assert await Attachment.count() == 0


async def test_a_file_over_ten_megabytes_is_refused(funded: Funded) -> None:
    huge = AttachmentUpload(Upload("大.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024)))
    with pytest.raises(BadAttachment, match="10 MB"):
        await spending.propose(SLUG, see_saws(funded, attachments=(huge,)), SECRETARY)
    assert await Expenditure.count() == 0


async def test_withdrawal_frees_the_money_and_needs_a_reason(funded: Funded) -> None:
    public_id = await spending.propose(
        SLUG, see_saws(funded, 1_200_000, justification="全部"), SECRETARY
    )
    for member in funded.members[:2]:
        await spending.decide(SLUG, public_id, member, True, "同意")
    with pytest.raises(ValidationErrors):
        await spending.withdraw(SLUG, public_id, " ")
    await spending.withdraw(SLUG, public_id, "供应商无法供货")
    assert await status_of(public_id) == ExpenditureStatus.WITHDRAWN.value
    with pytest.raises(Conflict):
        await spending.record_payment(SLUG, public_id, a_payment())
    with pytest.raises(Conflict):
        await spending.withdraw(SLUG, public_id, "再撤一次")
    # the money is available again
    again = await spending.propose(SLUG, see_saws(funded, 100_000), SECRETARY)
    assert await status_of(again) == "proposed"


async def test_a_paid_expenditure_cannot_be_withdrawn(funded: Funded) -> None:
    public_id = await spending.propose(SLUG, see_saws(funded), SECRETARY)
    for member in funded.members[:2]:
        await spending.decide(SLUG, public_id, member, True, "同意")
    await spending.record_payment(SLUG, public_id, a_payment())
    with pytest.raises(Conflict):
        await spending.withdraw(SLUG, public_id, "后悔")


async def test_an_unapproved_expenditure_cannot_be_paid(funded: Funded) -> None:
    public_id = await spending.propose(SLUG, see_saws(funded), SECRETARY)
    with pytest.raises(Conflict, match="approved"):
        await spending.record_payment(SLUG, public_id, a_payment())
    assert await LedgerEntry.count().where(LedgerEntry.kind == "expenditure") == 0


async def test_no_proposal_while_fundraising(db: str) -> None:
    funded = await funded_project(balance=500_000, close=False)
    with pytest.raises(ValidationErrors) as refused:
        await spending.propose(SLUG, see_saws(funded), SECRETARY)
    assert "project" in refused.value.problems


async def test_a_project_that_reached_its_goal_is_funded_when_spending_starts(db: str) -> None:
    funded = await funded_project(balance=1_199_999, close=False)
    with pytest.raises(ValidationErrors):
        await spending.propose(SLUG, see_saws(funded), SECRETARY)
    assert await project_status() == "fundraising"
    await donate(1, "last-fen")
    public_id = await spending.propose(SLUG, see_saws(funded), SECRETARY)
    assert await project_status() == "funded"
    assert await status_of(public_id) == "proposed"


async def test_a_proposal_queues_one_notice_per_member_and_a_refused_one_none(
    funded: Funded,
) -> None:
    for index, member in enumerate(funded.members):
        account = await make_account(f"m{index}@example.cn")
        await CommitteeMember.update({CommitteeMember.account_id: account}).where(
            CommitteeMember.id == member
        )
    with pytest.raises(ValidationErrors):
        await spending.propose(SLUG, see_saws(funded, amount=99_999_999), SECRETARY)
    assert await queue.list_jobs() == []  # the refused proposal queued nothing

    await spending.propose(SLUG, see_saws(funded), SECRETARY)
    [job] = await queue.list_jobs()
    assert job.name == "accounts.mail"
    assert await SentMail.count() == 0  # nothing was sent in the request
    await drain_jobs()
    sent = await SentMail.select(SentMail.recipient, SentMail.subject).order_by(SentMail.recipient)
    assert [row["recipient"] for row in sent] == [f"m{i}@example.cn" for i in range(3)]
    assert all("童趣乐园" in row["subject"] for row in sent)
    await drain_jobs()
    assert await SentMail.count() == 3  # sent once
