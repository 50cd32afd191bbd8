"""Disclosures (项目公示) on a real database, both engines: the figures are the ledger's, a
published disclosure is frozen by the database, periods follow each other, only the community's
secretary publishes, and a completed project owes its final one (docs/adr/0029)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

import linju.projects.spending.services.completion as completion
from linju.platform.accounts.audit import Actor
from linju.platform.accounts.tables import AuditRecord
from linju.platform.kernel.clock import local_today
from linju.platform.kernel.errors import ValidationErrors
from linju.projects.core.files import AttachmentUpload, Upload
from linju.projects.core.tables import Community, Project
from linju.projects.ledger.format import EntryKind
from linju.projects.ledger.services import LedgerEvent, Posting, append
from linju.projects.ledger.tables import LedgerHead
from linju.projects.spending.rules import LeftoverChoice
from linju.projects.spending.services import expenditures as spending
from linju.projects.spending.services.expenditures import Payment, Proposal
from linju.projects.stewardship.rules import DisclosureKind, DisclosurePlan, add_months
from linju.projects.stewardship.services import disclosures
from linju.projects.stewardship.services.disclosures import NotTheSecretary
from linju.projects.stewardship.tables import Disclosure
from tests.projects.spending.spending_support import (
    SECRETARY,
    SLUG,
    Funded,
    donate,
    funded_project,
    invoice,
    png_bytes,
)

pytestmark = pytest.mark.usefixtures("db")

ACTOR = Actor(id=7, label="sec@example.cn")
TODAY = local_today()
PLAN_START = TODAY - timedelta(days=100)


@pytest.fixture
async def funded(db: str) -> Funded:
    funded = await funded_project(balance=1_000_000)
    await Project.update(
        {Project.plan_starts_on: PLAN_START, Project.plan_ends_on: PLAN_START + timedelta(days=365)}
    ).where(Project.slug == SLUG)
    return funded


async def community_ids() -> frozenset[int]:
    row = await Community.select(Community.id).where(Community.slug == "lvjingyuan").first()
    assert row is not None
    return frozenset({int(row["id"])})


async def pay(funded: Funded, line: int, amount: int, purpose: str) -> str:
    proposal = Proposal(
        budget_line_id=funded.lines[line],
        payee="青山游乐设备厂",
        purpose=purpose,
        amount_fen=amount,
        attachments=(invoice(),),
    )
    public_id = await spending.propose(SLUG, proposal, SECRETARY)
    for member in funded.members[:2]:
        await spending.decide(SLUG, public_id, member, True, "合理")
    payment = Payment(TODAY, "银行转账", AttachmentUpload(Upload("回单.png", png_bytes())))
    await spending.record_payment(SLUG, public_id, payment)
    return public_id


async def fee(amount: int, key: str) -> None:
    await append(
        SLUG,
        LedgerEvent(
            kind=EntryKind.FEE,
            memo="手续费",
            ref=f"don_{key}",
            postings=(Posting(f"fund:{SLUG}", -amount), Posting("fees:sandbox", amount)),
            idempotency_key=f"fee:{key}",
        ),
    )


async def head() -> dict[str, object]:
    row = await LedgerHead.select().where(LedgerHead.project.slug == SLUG).first()
    assert row is not None
    return row


async def publish(starts_on: date, ends_on: date = TODAY, text: str = "安装了跷跷板") -> int:
    plan = DisclosurePlan(starts_on, ends_on, text)
    return await disclosures.publish_disclosure(ACTOR, await community_ids(), "刘书记", SLUG, plan)


async def test_the_figures_are_the_ledgers_by_kind_and_by_budget_line(funded: Funded) -> None:
    await donate(50_000, "second")
    await fee(300, "second")
    await pay(funded, 0, 480_000, "跷跷板两台")
    await pay(funded, 1, 200_000, "转椅定金")
    status = disclosures.status_of(*(await _project_and_published()))
    assert status.overdue  # the plan started 100 days ago: the first was due 10 days ago
    assert status.due is not None
    assert status.due.due_on == add_months(PLAN_START, 3)

    seq = await publish(PLAN_START)
    assert seq == 1
    row = await Disclosure.select().first()
    assert row is not None
    figures = json.loads(row["figures"])
    assert figures["online_fen"] == 1_050_000
    assert figures["fees_fen"] == 300
    assert figures["refunds_fen"] == 0
    assert [(s["title"], s["spent_fen"]) for s in figures["spent"]] == [
        ("跷跷板", 480_000),
        ("转椅", 200_000),
    ]
    now = await head()
    assert (row["head_seq"], row["head_hash"]) == (now["seq"], now["hash"])
    assert row["closing_fen"] == now["balance_fen"] == 1_050_000 - 300 - 680_000
    assert (row["opening_fen"], row["first_seq"], row["kind"]) == (0, 1, "periodic")
    assert (row["published_by"], row["published_by_name"]) == (7, "刘书记")

    after = disclosures.status_of(*(await _project_and_published()))
    assert not after.overdue
    assert after.next_starts_on == TODAY + timedelta(days=1)
    audit = await AuditRecord.select().where(AuditRecord.action == "disclosure.publish").first()
    assert audit is not None
    assert audit["object_id"] == SLUG


async def _project_and_published() -> tuple[dict[str, object], list[dict[str, object]]]:
    project = await disclosures._project(SLUG)
    return project, await disclosures.disclosures_of(int(project["id"]))


@pytest.mark.parametrize("change", ["update", "delete"])
async def test_a_published_disclosure_is_frozen_by_the_database(
    funded: Funded, change: str
) -> None:
    await publish(PLAN_START)
    query = (
        Disclosure.update({Disclosure.what_was_done: "改过"}, force=True)
        if change == "update"
        else Disclosure.delete(force=True)
    )
    with pytest.raises(Exception, match=r"(?i)refused|frozen"):
        await query
    row = await Disclosure.select(Disclosure.what_was_done).first()
    assert row == {"what_was_done": "安装了跷跷板"}


async def test_each_period_follows_the_last_without_gap_or_overlap(funded: Funded) -> None:
    earlier = TODAY - timedelta(days=10)
    first = await publish(PLAN_START, earlier)
    assert first == 1
    before = await Disclosure.count()
    # an overlap (the same last day, the plan's start again) and a gap (four days left out)
    for starts_on in (earlier, PLAN_START, earlier + timedelta(days=5)):
        with pytest.raises(ValidationErrors) as refused:
            await publish(starts_on)
        assert set(refused.value.problems) == {"starts_on"}
    assert await Disclosure.count() == before  # nothing written on a refusal

    await donate(20_000, "today")
    assert await publish(earlier + timedelta(days=1)) == 2
    rows = await Disclosure.select().order_by(Disclosure.seq)
    one, two = rows
    # The first ran to ten days ago, but every entry is today's: the first counted none.
    assert (one["head_seq"], one["closing_fen"]) == (0, 0)
    assert two["first_seq"] == one["head_seq"] + 1
    assert two["opening_fen"] == one["closing_fen"]
    assert two["closing_fen"] == (await head())["balance_fen"]


async def test_a_period_cannot_end_in_the_future_and_says_what_was_done(funded: Funded) -> None:
    with pytest.raises(ValidationErrors) as future:
        await publish(PLAN_START, TODAY + timedelta(days=1))
    assert set(future.value.problems) == {"ends_on"}
    with pytest.raises(ValidationErrors) as backwards:
        await publish(PLAN_START, PLAN_START - timedelta(days=1))
    assert set(backwards.value.problems) == {"ends_on"}
    with pytest.raises(ValidationErrors) as empty:
        await publish(PLAN_START, TODAY, text="  ")
    assert set(empty.value.problems) == {"what_was_done"}
    assert await Disclosure.count() == 0


async def test_only_the_communitys_secretary_publishes(funded: Funded) -> None:
    plan = DisclosurePlan(PLAN_START, TODAY, "安装了跷跷板")
    with pytest.raises(NotTheSecretary):
        await disclosures.publish_disclosure(ACTOR, frozenset({999}), "别人", SLUG, plan)
    assert await Disclosure.count() == 0


async def test_a_completed_project_owes_a_final_disclosure_and_then_nothing(
    funded: Funded,
) -> None:
    await pay(funded, 0, 480_000, "跷跷板两台")
    await pay(funded, 1, 500_000, "转椅")
    report = await completion.file_report(
        SLUG, "乐园建成", SECRETARY, leftover=LeftoverChoice.TRANSFER
    )
    for member in funded.members[:2]:
        await completion.decide_report(SLUG, report, member, True, "验收合格")
    status = disclosures.status_of(*(await _project_and_published()))
    assert status.next_kind is DisclosureKind.FINAL
    assert status.due is not None
    assert status.due.kind is DisclosureKind.FINAL
    assert status.due.due_on > TODAY
    assert not status.overdue
    # A final disclosure runs at least to the day of completion (today).
    with pytest.raises(ValidationErrors) as short:
        await publish(PLAN_START, TODAY - timedelta(days=1))
    assert set(short.value.problems) == {"ends_on"}

    await publish(PLAN_START)
    row = await Disclosure.select().first()
    assert row is not None
    assert row["kind"] == "final"
    figures = json.loads(row["figures"])
    assert figures["transfers_fen"] == 20_000  # the leftover went to the community's fund
    assert row["closing_fen"] == 0
    after = disclosures.status_of(*(await _project_and_published()))
    assert after.due is None
    assert after.duty.final_published
    with pytest.raises(ValidationErrors):
        await publish(TODAY + timedelta(days=1), TODAY + timedelta(days=1))
    assert await Disclosure.count() == 1
