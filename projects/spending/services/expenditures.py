"""Expenditures: propose, decide by quorum, pay once, withdraw.

Each use case is one write transaction that starts by locking the project's ledger head
(`ledger.lock.locked_project`), so "available" (the balance less approved but unpaid) is read and
acted on under the same lock that every ledger append takes: two approvals racing for the last
of a fund are serialised on PostgreSQL, and exactly one of them finds the money still there.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from linju.platform.db import is_postgres, write_transaction
from linju.platform.kernel.clock import local_today, utc_now
from linju.platform.kernel.errors import N_, Conflict, NotFound, ValidationErrors
from linju.projects.core.files import AttachmentUpload
from linju.projects.core.rules import ProjectStatus
from linju.projects.core.services.funding import close_when_goal_reached
from linju.projects.core.services.projects import change_status
from linju.projects.core.tables import BudgetLine
from linju.projects.donations.services import open_refunds_fen
from linju.projects.ledger import services as ledger
from linju.projects.ledger.format import EntryKind, fund_account
from linju.projects.ledger.lock import LockedProject, locked_project
from linju.projects.spending import notify
from linju.projects.spending.attachments import (
    discard_uploads,
    insert_attachments,
    store_uploads,
)
from linju.projects.spending.rules import (
    ExpenditureStatus,
    LineFigures,
    Outcome,
    Person,
    SubjectKind,
    approval_problem,
    approved_unpaid,
    available,
    becomes_in_progress,
    can_move,
    figures_by_line,
    proposal_problems,
    reason_problem,
)
from linju.projects.spending.services.committee import (
    record_decision,
)
from linju.projects.spending.tables import Expenditure

logger = logging.getLogger("linju.spending")
MAX_METHOD_LENGTH = 100


@dataclass(frozen=True, slots=True)
class Proposal:
    """What a secretary gives to propose an expenditure."""

    budget_line_id: int
    payee: str
    purpose: str
    amount_fen: int
    justification: str = ""
    payee_account_id: int | None = None
    attachments: Sequence[AttachmentUpload] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class Payment:
    paid_on: date
    method: str
    proof: AttachmentUpload


@dataclass(frozen=True, slots=True)
class PaymentResult:
    seq: int
    created: bool  # False when the payment had already been recorded


@dataclass(frozen=True, slots=True)
class FundFigures:
    balance: int
    approved_unpaid: int
    refunding: int = 0  # refunds asked for and not yet posted: reserved for the donors

    @property
    def available(self) -> int:
        return available(self.balance, self.approved_unpaid, self.refunding)


async def _open_amounts(project_id: int) -> list[dict[str, Any]]:
    return list(
        await Expenditure.select(
            Expenditure.budget_line, Expenditure.status, Expenditure.amount_fen
        ).where(
            (Expenditure.project == project_id)
            & Expenditure.status.is_in(
                [ExpenditureStatus.APPROVED.value, ExpenditureStatus.PAID.value]
            )
        )
    )


async def fund_figures(project_id: int, balance: int) -> FundFigures:
    return FundFigures(
        balance,
        approved_unpaid(await _open_amounts(project_id)),
        await open_refunds_fen(project_id),
    )


async def line_figures(project_id: int) -> dict[int, LineFigures]:
    """Every budget line's plan, spent (paid) and approved-but-unpaid, by line id."""
    lines = await BudgetLine.select(BudgetLine.id, BudgetLine.amount_fen).where(
        BudgetLine.project == project_id
    )
    plans = {int(line["id"]): int(line["amount_fen"]) for line in lines}
    return figures_by_line(plans, await _open_amounts(project_id))


async def _locked_expenditure(project: LockedProject, public_id: str) -> dict[str, Any]:
    query = Expenditure.select().where(
        (Expenditure.public_id == public_id) & (Expenditure.project == project.id)
    )
    if is_postgres():
        query = query.lock_rows("UPDATE")
    row = await query.first()
    if row is None:
        raise NotFound(N_("No expenditure %(id)s"), id=public_id)
    return row


async def propose(slug: str, proposal: Proposal, proposer: Person) -> str:
    """Record a proposal for the committee; returns its public id. Files are checked first."""
    await close_when_goal_reached(slug)
    stored = await store_uploads(proposal.attachments)
    try:
        async with write_transaction():
            project = await locked_project(slug)
            lines = await line_figures(project.id)
            line = lines.get(proposal.budget_line_id)
            if line is None:
                raise ValidationErrors({"budget_line": N_("Choose one of the budget lines")})
            fund = await fund_figures(project.id, project.balance)
            problems = proposal_problems(
                status=project.status,
                payee=proposal.payee,
                purpose=proposal.purpose,
                amount=proposal.amount_fen,
                line=line,
                justification=proposal.justification,
                available_now=fund.available,
            )
            if problems:
                raise ValidationErrors(problems)
            public_id = f"exp-{secrets.token_hex(6)}"
            rows = await Expenditure.insert(
                Expenditure(
                    public_id=public_id,
                    project=project.id,
                    budget_line=proposal.budget_line_id,
                    payee=proposal.payee.strip(),
                    payee_account_id=proposal.payee_account_id,
                    purpose=proposal.purpose.strip(),
                    amount_fen=proposal.amount_fen,
                    currency=project.currency,
                    justification=proposal.justification.strip(),
                    status=ExpenditureStatus.PROPOSED.value,
                    proposer_name=proposer.name,
                    proposer_account_id=proposer.account_id,
                    proposed_at=utc_now(),
                )
            )
            await insert_attachments(project.id, "expenditure", int(rows[0]["id"]), stored)
            await notify.proposal_awaits(public_id)  # queued with the proposal, sent by a job
    except BaseException:
        await discard_uploads(stored)
        raise
    return public_id


async def decide(slug: str, public_id: str, member_id: int, approve: bool, reason: str) -> Outcome:
    """One committee member approves or rejects, anchored to the ledger head; returns the outcome.

    An approving vote is refused when the amount is more than is available at this moment.
    The vote that reaches the quorum approves (or rejects) the expenditure, and the first
    approval of a funded project moves it to `in_progress`.
    """
    async with write_transaction():
        project = await locked_project(slug)
        row = await _locked_expenditure(project, public_id)
        status = ExpenditureStatus(row["status"])
        fund = await fund_figures(project.id, project.balance)
        outcome = await record_decision(
            project,
            SubjectKind.EXPENDITURE,
            int(row["id"]),
            member_id,
            approve,
            reason,
            proposer=Person(row["proposer_name"], row["proposer_account_id"]),
            payee=Person(row["payee"], row["payee_account_id"]),
            decided=status is not ExpenditureStatus.PROPOSED,
            check_approval=approval_problem(row["amount_fen"], fund.available),
        )
        if outcome is Outcome.PENDING:
            return outcome
        target = (
            ExpenditureStatus.APPROVED
            if outcome is Outcome.APPROVED
            else ExpenditureStatus.REJECTED
        )
        await Expenditure.update(
            {Expenditure.status: target.value, Expenditure.decided_at: utc_now()}
        ).where(Expenditure.id == row["id"])
        if outcome is Outcome.APPROVED and becomes_in_progress(project.status):
            await change_status(slug, ProjectStatus.IN_PROGRESS)
    return outcome


def ledger_event(row: dict[str, Any], slug: str) -> ledger.LedgerEvent:
    """The `expenditure` entry: fund −x, payees +x, the payee and purpose in the memo."""
    amount = int(row["amount_fen"])
    return ledger.LedgerEvent(
        kind=EntryKind.EXPENDITURE,
        memo=f"{row['payee']}：{row['purpose']}"[: ledger.MAX_MEMO_LENGTH],
        ref=row["public_id"],
        postings=(
            ledger.Posting(fund_account(slug), -amount, row["currency"]),
            ledger.Posting("payees", amount, row["currency"]),
        ),
        idempotency_key=f"expenditure:{row['public_id']}",
    )


async def record_payment(slug: str, public_id: str, payment: Payment) -> PaymentResult:
    """Record that an approved expenditure was paid: posts its ledger entry exactly once.

    The state check, the entry and the status change are one transaction under the project's
    lock; a repeated or concurrent request finds the expenditure paid and posts nothing.
    """
    method = payment.method.strip()
    if not method or len(method) > MAX_METHOD_LENGTH:
        raise ValidationErrors({"method": N_("Say how it was paid (at most 100 characters)")})
    # Civil dates are the community's (Asia/Shanghai), not UTC's: before 08:00 there, UTC is
    # still on yesterday and would call today's payment "in the future".
    if payment.paid_on > local_today():
        raise ValidationErrors({"paid_on": N_("The payment date is in the future")})
    stored = await store_uploads([payment.proof])
    try:
        async with write_transaction():
            project = await locked_project(slug)
            row = await _locked_expenditure(project, public_id)
            status = ExpenditureStatus(row["status"])
            if status is ExpenditureStatus.PAID:
                await discard_uploads(stored)
                return PaymentResult(seq=int(row["ledger_seq"]), created=False)
            if not can_move(status, ExpenditureStatus.PAID):
                raise Conflict(N_("Only an approved expenditure can be paid"))
            result = await ledger.append(slug, ledger_event(row, slug))
            seq = int(result.entry["seq"])
            await Expenditure.update(
                {
                    Expenditure.status: ExpenditureStatus.PAID.value,
                    Expenditure.paid_on: payment.paid_on,
                    Expenditure.payment_method: method,
                    Expenditure.payment_recorded_at: utc_now(),
                    Expenditure.ledger_seq: seq,
                }
            ).where(Expenditure.id == row["id"])
            await insert_attachments(project.id, "payment", int(row["id"]), stored)
    except BaseException:
        await discard_uploads(stored)
        raise
    return PaymentResult(seq=seq, created=result.created)


def _refuse_withdrawal(reason: str, status: ExpenditureStatus | None) -> None:
    """What `withdraw` refuses: no reason (beside the field), or a paid, rejected or withdrawn
    expenditure (`status` None: not yet read)."""
    problem = reason_problem(reason)
    if problem is not None:
        raise ValidationErrors({"reason": problem})
    if status is not None and not can_move(status, ExpenditureStatus.WITHDRAWN):
        raise Conflict(N_("Only an unpaid expenditure can be withdrawn"))


async def check_withdrawal(slug: str, public_id: str, reason: str) -> None:
    """Refuse, writing nothing, what `withdraw` would refuse now: its confirmation page asks
    only when the expenditure can be withdrawn (ADR 0024)."""
    _refuse_withdrawal(reason, None)
    row = await (
        Expenditure.select(Expenditure.status)
        .where((Expenditure.public_id == public_id) & (Expenditure.project.slug == slug))
        .first()
    )
    if row is None:
        raise NotFound(N_("No expenditure %(id)s"), id=public_id)
    _refuse_withdrawal(reason, ExpenditureStatus(row["status"]))


async def withdraw(slug: str, public_id: str, reason: str) -> None:
    """Withdraw a proposed or approved (unpaid) expenditure with a reason; its money is free."""
    _refuse_withdrawal(reason, None)
    async with write_transaction():
        project = await locked_project(slug)
        row = await _locked_expenditure(project, public_id)
        _refuse_withdrawal(reason, ExpenditureStatus(row["status"]))
        await Expenditure.update(
            {
                Expenditure.status: ExpenditureStatus.WITHDRAWN.value,
                Expenditure.withdrawal_reason: reason.strip(),
                Expenditure.withdrawn_at: utc_now(),
            }
        ).where(Expenditure.id == row["id"])


async def open_expenditures(project_id: int) -> int:
    """How many expenditures are proposed or approved and not yet paid."""
    return int(
        await Expenditure.count().where(
            (Expenditure.project == project_id)
            & Expenditure.status.is_in(
                [ExpenditureStatus.PROPOSED.value, ExpenditureStatus.APPROVED.value]
            )
        )
    )
