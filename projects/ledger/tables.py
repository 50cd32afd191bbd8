"""The ledger's tables: columns only. The format is docs/ledger.md; the rules are in
`format.py`, the append service in `services.py`.

Money columns are BigInt minor units (fen) beside a currency code.
"""

from __future__ import annotations

from piccolo.columns import BigInt, ForeignKey, Integer, OnDelete, Serial, Text, Varchar
from piccolo.table import Table

from linju.projects.core.tables import Project


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
