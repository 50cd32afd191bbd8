"""The domain's tables: columns only. Rules live in `rules.py` and `services/`.

Money columns are BigInt minor units (fen) beside a currency code; Piccolo's SQLite adapter
turns Decimal into float process-wide, so no Numeric column holds money anywhere.
"""

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


class Community(Table, tablename="community"):
    id = Serial(primary_key=True)
    slug = Varchar(length=64, unique=True)
    name = Varchar(length=100)
    district = Varchar(length=100)
    description = Text(default="")
    created_at = Timestamptz()


class Project(Table, tablename="project"):
    id = Serial(primary_key=True)
    slug = Varchar(length=64, unique=True)
    community = ForeignKey(
        references=Community, on_delete=OnDelete.restrict, null=False, index=True
    )
    title = Varchar(length=200)
    summary = Varchar(length=500, default="")
    story = Text(default="")
    goal_fen = BigInt()
    currency = Varchar(length=3, default="CNY")
    deadline = Date(null=True, default=None)
    status = Varchar(length=16, default="draft", index=True)
    cover_image = Varchar(length=255, default="")
    accepts_donations_when_funded = Boolean(default=False)
    created_at = Timestamptz()
    status_changed_at = Timestamptz()


class BudgetLine(Table, tablename="budget_line"):
    id = Serial(primary_key=True)
    project = ForeignKey(references=Project, on_delete=OnDelete.cascade, null=False, index=True)
    title = Varchar(length=200)
    amount_fen = BigInt()
    position = Integer(default=0)


class CommitteeMember(Table, tablename="committee_member"):
    id = Serial(primary_key=True)
    project = ForeignKey(references=Project, on_delete=OnDelete.cascade, null=False, index=True)
    name = Varchar(length=100)
    role = Varchar(length=16, default="member")  # "chair" or "member"
    background = Varchar(length=200, default="")
    account_id = BigInt(null=True, default=None)  # linked to an account once accounts exist
    position = Integer(default=0)


class LedgerHead(Table, tablename="ledger_head"):
    """One row per project: the chain's head and the figures derived from it.

    A cache that the append service updates in the same transaction as the entry it appends,
    so a project page reads its figures in O(1) whatever the ledger's length. It is also the
    row the append service locks, which serialises appends to one project.
    """

    id = Serial(primary_key=True)
    project = ForeignKey(references=Project, on_delete=OnDelete.restrict, null=False, unique=True)
    seq = BigInt(default=0)
    hash = Varchar(length=64, default="0" * 64)
    currency = Varchar(length=3, default="CNY")
    balance_fen = BigInt(default=0)
    raised_fen = BigInt(default=0)
    spent_fen = BigInt(default=0)
    donations_count = BigInt(default=0)


class LedgerEntry(Table, tablename="ledger_entry"):
    """An appended journal entry. Never updated or deleted (triggers refuse it)."""

    id = Serial(primary_key=True)
    project = ForeignKey(references=Project, on_delete=OnDelete.restrict, null=False)
    seq = BigInt()
    at = Varchar(length=27)  # RFC 3339 UTC with microseconds, exactly as hashed
    kind = Varchar(length=20)
    memo = Text()
    public_ref = Varchar(length=100)  # exported as `ref`; Table.ref is a Piccolo method
    prev = Varchar(length=64)
    hash = Varchar(length=64)
    idempotency_key = Varchar(length=200, unique=True)
    content_digest = Varchar(length=64)  # SHA-256 of the event as submitted, for idempotency


class LedgerPosting(Table, tablename="ledger_posting"):
    id = Serial(primary_key=True)
    entry = ForeignKey(references=LedgerEntry, on_delete=OnDelete.restrict, null=False, index=True)
    position = Integer()
    account = Varchar(length=120)
    amount = BigInt()
    currency = Varchar(length=3)
