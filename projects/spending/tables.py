"""Spending's tables: columns only. Rules live in `rules.py`, use cases in `services/`."""

from __future__ import annotations

from piccolo.columns import (
    BigInt,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    OnDelete,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from linju.projects.core.tables import BudgetLine, CommitteeMember, Project


class Expenditure(Table, tablename="expenditure"):
    """A proposal to pay money out of a fund, from proposal to payment (or refusal)."""

    id = Serial(primary_key=True)
    public_id = Varchar(length=32, unique=True)  # the ledger entry's public `ref`
    project = ForeignKey(references=Project, on_delete=OnDelete.restrict, null=False, index=True)
    budget_line = ForeignKey(references=BudgetLine, on_delete=OnDelete.restrict, null=False)
    payee = Varchar(length=200)
    payee_account_id = BigInt(null=True, default=None)
    purpose = Varchar(length=300)
    amount_fen = BigInt()
    currency = Varchar(length=3, default="CNY")
    justification = Text(default="")
    status = Varchar(length=16, default="proposed", index=True)
    proposer_name = Varchar(length=100)
    proposer_account_id = BigInt(null=True, default=None)
    proposed_at = Timestamptz()
    decided_at = Timestamptz(null=True, default=None)
    paid_on = Date(null=True, default=None)
    payment_method = Varchar(length=100, default="")
    payment_recorded_at = Timestamptz(null=True, default=None)
    ledger_seq = BigInt(null=True, default=None)
    withdrawal_reason = Text(default="")
    withdrawn_at = Timestamptz(null=True, default=None)


class Motion(Table, tablename="spending_motion"):
    """A completion report or a cancellation put to the committee for a decision by quorum."""

    id = Serial(primary_key=True)
    project = ForeignKey(references=Project, on_delete=OnDelete.restrict, null=False, index=True)
    kind = Varchar(length=16)  # SubjectKind.COMPLETION or SubjectKind.CANCELLATION
    status = Varchar(length=16, default="pending")
    summary = Text(default="")  # the completion report's summary, or the cancellation's reason
    leftover_choice = Varchar(length=16, default="")
    follow_up = Varchar(length=200, default="")
    filed_by_name = Varchar(length=100)
    filed_by_account_id = BigInt(null=True, default=None)
    filed_at = Timestamptz()
    decided_at = Timestamptz(null=True, default=None)
    head_seq = BigInt(default=0)  # the ledger head when it was filed
    head_hash = Varchar(length=64, default="0" * 64)


class Decision(Table, tablename="committee_decision"):
    """One member's approval or rejection, anchored to the ledger head at that moment."""

    id = Serial(primary_key=True)
    project = ForeignKey(references=Project, on_delete=OnDelete.restrict, null=False, index=True)
    subject_kind = Varchar(length=16)
    subject_id = BigInt(index=True)
    member = ForeignKey(references=CommitteeMember, on_delete=OnDelete.restrict, null=False)
    member_name = Varchar(length=100)
    approve = Boolean()
    reason = Text()
    decided_at = Timestamptz()
    head_seq = BigInt()
    head_hash = Varchar(length=64)
    # The transparency log's latest checkpoint at that moment (docs/transparency.md,
    # guarantee 4): its size and base64 root; 0 and "" before the log had one.
    log_size = BigInt(default=0)
    log_root = Varchar(length=44, default="")


class Attachment(Table, tablename="spending_attachment"):
    """An uploaded file: the original kept privately, an optional public (redacted) version."""

    id = Serial(primary_key=True)
    public_id = Varchar(length=32, unique=True)
    project = ForeignKey(references=Project, on_delete=OnDelete.restrict, null=False, index=True)
    owner_kind = Varchar(length=16)  # "expenditure", "payment", "completion"
    owner_id = BigInt(index=True)
    label = Varchar(length=200, default="")
    original_name = Varchar(length=200, default="")
    content_type = Varchar(length=40)
    size = BigInt()
    sha256 = Varchar(length=64)
    private_path = Varchar(length=100)
    public_path = Varchar(length=100, default="")
    public_content_type = Varchar(length=40, default="")
    public_sha256 = Varchar(length=64, default="")
    position = Integer(default=0)
    created_at = Timestamptz()
