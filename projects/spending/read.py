"""The read side of spending: what the project page, the committee's page and the secretary's
pages show. No writes here; figures come from the expenditures and the ledger head.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from linju.platform.db import select_rows
from linju.platform.kernel.money import Money
from linju.projects.core import read as queries
from linju.projects.core.rules import ProjectStatus
from linju.projects.donations.services import open_refunds_fen
from linju.projects.ledger.read import TransferOut, transfers_out
from linju.projects.spending.attachments import attachments_of
from linju.projects.spending.rules import (
    ExpenditureStatus,
    SubjectKind,
    approved_unpaid,
    available,
    figures_by_line,
    quorum,
)
from linju.projects.spending.services.cancellation import settlement_progress
from linju.projects.spending.tables import Decision, Expenditure, Motion


@dataclass(frozen=True, slots=True)
class DecisionView:
    member_id: int
    name: str
    approve: bool
    reason: str
    at: datetime
    head_seq: int
    head_hash: str
    log_size: int = 0  # the transparency log's checkpoint at the time (0: none yet)
    log_root: str = ""


@dataclass(frozen=True, slots=True)
class AttachmentView:
    public_id: str
    label: str
    content_type: str
    size: int
    sha256: str  # of the original, always shown
    is_public: bool
    public_content_type: str


@dataclass(frozen=True, slots=True)
class LineView:
    id: int
    title: str
    plan: Money
    spent: Money
    approved: Money

    @property
    def remaining(self) -> Money:
        return self.plan - self.spent - self.approved


# How money left a fund is what the secretary typed. The usual ways are named in the visitor's
# language (by a code the page translates, ADR 0023); anything else is shown as typed.
_PAYMENT_METHOD_WORDS = {
    "transfer": ("transfer", "bank transfer", "银行转账", "转账", "对公转账", "银行汇款"),
    "cash": ("cash", "现金"),
    "wechat": ("wechat", "wechat pay", "微信", "微信支付", "微信转账"),
    "alipay": ("alipay", "支付宝", "支付宝转账"),
}
_PAYMENT_METHOD_CODES = {
    word: code for code, words in _PAYMENT_METHOD_WORDS.items() for word in words
}


def payment_method_code(typed: str) -> str:
    """The code of a usual payment method ("transfer", "cash"...), or "" for other words."""
    return _PAYMENT_METHOD_CODES.get(" ".join(typed.split()).casefold(), "")


@dataclass(frozen=True, slots=True)
class ExpenditureView:
    public_id: str
    line_id: int
    line_title: str
    payee: str
    purpose: str
    amount: Money
    justification: str
    status: ExpenditureStatus
    proposer_name: str
    proposed_at: datetime
    decided_at: datetime | None
    paid_on: date | None
    payment_method: str
    ledger_seq: int | None
    withdrawal_reason: str
    decisions: list[DecisionView]
    attachments: list[AttachmentView]
    proofs: list[AttachmentView]

    @property
    def payment_method_code(self) -> str:
        return payment_method_code(self.payment_method)

    @property
    def approvals(self) -> int:
        return sum(1 for d in self.decisions if d.approve)

    @property
    def rejections(self) -> int:
        return sum(1 for d in self.decisions if not d.approve)


@dataclass(frozen=True, slots=True)
class MotionView:
    id: int
    kind: SubjectKind
    status: str
    summary: str
    leftover_choice: str
    follow_up: str
    filed_by_name: str
    filed_at: datetime
    decided_at: datetime | None
    head_seq: int
    head_hash: str
    decisions: list[DecisionView]
    attachments: list[AttachmentView]


@dataclass(frozen=True, slots=True)
class SpendingView:
    project_id: int
    slug: str
    currency: str
    balance: Money
    approved_unpaid: Money
    available: Money
    committee_size: int
    quorum: int
    lines: list[LineView]
    expenditures: list[ExpenditureView]
    motions: list[MotionView] = field(default_factory=list)

    def line(self, line_id: int) -> LineView | None:
        return next((line for line in self.lines if line.id == line_id), None)


def _attachment(row: dict[str, Any]) -> AttachmentView:
    return AttachmentView(
        public_id=row["public_id"],
        label=row["label"],
        content_type=row["content_type"],
        size=int(row["size"]),
        sha256=row["sha256"],
        is_public=bool(row["is_public"]),
        public_content_type=row["public_content_type"],
    )


def _decision(d: dict[str, Any]) -> DecisionView:
    return DecisionView(
        member_id=int(d["member"]),
        name=d["member_name"],
        approve=bool(d["approve"]),
        reason=d["reason"],
        at=d["decided_at"],
        head_seq=int(d["head_seq"]),
        head_hash=d["head_hash"],
        log_size=int(d.get("log_size") or 0),
        log_root=d.get("log_root") or "",
    )


async def _decisions_by_subject(project_id: int) -> dict[tuple[str, int], list[DecisionView]]:
    """Every decision on the project's proposals and motions, in the order they were taken."""
    rows = (
        await Decision.select(
            Decision.subject_kind,
            Decision.subject_id,
            Decision.member,
            Decision.member_name,
            Decision.approve,
            Decision.reason,
            Decision.decided_at,
            Decision.head_seq,
            Decision.head_hash,
            Decision.log_size,
            Decision.log_root,
        )
        .where(Decision.project == project_id)
        .order_by(Decision.id)
    )
    grouped: dict[tuple[str, int], list[DecisionView]] = {}
    for row in rows:
        key = (row["subject_kind"], int(row["subject_id"]))
        grouped.setdefault(key, []).append(_decision(row))
    return grouped


async def spending_view(slug: str) -> SpendingView:
    """Everything public about a project's spending, in one object."""
    return await project_spending(await queries.get_project(slug, include_drafts=True))


async def project_spending(project: queries.ProjectDetail) -> SpendingView:
    """A project's spending from what its page already read (budget, committee, balance) and
    four reads of its own, or two while nothing was ever proposed or moved."""
    currency = project.summary.goal.currency
    rows = await select_rows(
        where=[(Expenditure.project, project.id)], order_by=[(Expenditure.id, False)]
    )
    motion_rows = await select_rows(
        where=[(Motion.project, project.id)], order_by=[(Motion.id, False)]
    )
    decisions = await _decisions_by_subject(project.id) if rows or motion_rows else {}
    files = await attachments_of(project.id) if rows or motion_rows else {}
    figures = figures_by_line({line.id: line.amount.amount for line in project.budget}, rows)
    titles = {line.id: line.title for line in project.budget}
    lines = [
        LineView(
            id=line_id,
            title=title,
            plan=Money(figures[line_id].plan, currency),
            spent=Money(figures[line_id].spent, currency),
            approved=Money(figures[line_id].approved, currency),
        )
        for line_id, title in titles.items()
    ]
    expenditures = [
        ExpenditureView(
            public_id=r["public_id"],
            line_id=int(r["budget_line"]),
            line_title=titles.get(int(r["budget_line"]), ""),
            payee=r["payee"],
            purpose=r["purpose"],
            amount=Money(int(r["amount_fen"]), r["currency"]),
            justification=r["justification"],
            status=ExpenditureStatus(r["status"]),
            proposer_name=r["proposer_name"],
            proposed_at=r["proposed_at"],
            decided_at=r["decided_at"],
            paid_on=r["paid_on"],
            payment_method=r["payment_method"],
            ledger_seq=r["ledger_seq"],
            withdrawal_reason=r["withdrawal_reason"],
            decisions=decisions.get((SubjectKind.EXPENDITURE.value, int(r["id"])), []),
            attachments=[_attachment(a) for a in files.get(("expenditure", int(r["id"])), [])],
            proofs=[_attachment(a) for a in files.get(("payment", int(r["id"])), [])],
        )
        for r in rows
    ]
    motions = [
        MotionView(
            id=int(m["id"]),
            kind=SubjectKind(m["kind"]),
            status=m["status"],
            summary=m["summary"],
            leftover_choice=m["leftover_choice"],
            follow_up=m["follow_up"],
            filed_by_name=m["filed_by_name"],
            filed_at=m["filed_at"],
            decided_at=m["decided_at"],
            head_seq=int(m["head_seq"]),
            head_hash=m["head_hash"],
            decisions=decisions.get((m["kind"], int(m["id"])), []),
            attachments=[_attachment(a) for a in files.get((m["kind"], int(m["id"])), [])],
        )
        for m in motion_rows
    ]
    unpaid = approved_unpaid(rows)
    balance = project.summary.balance.amount
    refunding = await open_refunds_fen(project.id)
    size = len(project.committee)
    return SpendingView(
        project_id=project.id,
        slug=project.summary.slug,
        currency=currency,
        balance=Money(balance, currency),
        approved_unpaid=Money(unpaid, currency),
        available=Money(available(balance, unpaid, refunding), currency),
        committee_size=size,
        quorum=quorum(size) if size else 0,
        lines=lines,
        expenditures=expenditures,
        motions=motions,
    )


async def project_section(project: queries.ProjectDetail) -> dict[str, Any]:
    """The loader for templates/projects/_spending.html on the project page; a cancelled
    project's settlement (退款进行中 n/m until the fund is at zero) and a completed project's
    leftover transfers with it."""
    settlement = None
    if project.summary.status is ProjectStatus.CANCELLED:
        settlement = await settlement_progress(project.summary.slug)
    # A completed project shows where its leftover went, each transfer with its ledger entry.
    leftover: list[TransferOut] = []
    if project.summary.status is ProjectStatus.COMPLETED:
        leftover = await transfers_out(project.id)
    return {
        "spending": await project_spending(project),
        "settlement": settlement,
        "leftover_transfers": leftover,
    }


async def expenditure_lines(project_id: int) -> dict[str, int]:
    """Each expenditure's budget line by its public id (its ledger entry's `ref`): what a
    disclosure's "money out by budget line" needs (stewardship's port, docs/adr/0029)."""
    rows = await Expenditure.select(Expenditure.public_id, Expenditure.budget_line).where(
        Expenditure.project == project_id
    )
    return {row["public_id"]: int(row["budget_line"]) for row in rows}
