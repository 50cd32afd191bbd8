"""The transparency log's tables: columns only (docs/adr/0026-transparency-log.md).

`log_leaf` and `log_checkpoint` are append-only (triggers, like the ledger's); tiles grow in
place until full (a partial tile's row is the rightmost one of its level), the cursors move.
"""

from __future__ import annotations

from piccolo.columns import BigInt, Bytea, ForeignKey, Integer, OnDelete, Serial, Text, Varchar
from piccolo.columns.column_types import Timestamptz
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from linju.projects.core.tables import Project
from linju.projects.ledger.tables import LedgerEntry


class LogLeaf(Table, tablename="log_leaf"):
    """One ledger entry in the tree: its zero-based index. Unique per entry: integrated once."""

    id = Serial(primary_key=True)
    idx = BigInt(unique=True)
    entry = ForeignKey(references=LedgerEntry, on_delete=OnDelete.restrict, null=False, unique=True)
    project = ForeignKey(references=Project, on_delete=OnDelete.restrict, null=False)
    seq = BigInt()


class LogTile(Table, tablename="log_tile"):
    """A hash tile (level ≥ 0) or an entry bundle (level -1), full or the partial right edge."""

    id = Serial(primary_key=True)
    level = Integer()
    idx = BigInt()
    data = Bytea()


class LogCursor(Table, tablename="log_cursor"):
    """Per project, the last entry integrated: the chain the next one must continue."""

    id = Serial(primary_key=True)
    project = ForeignKey(references=Project, on_delete=OnDelete.restrict, null=False, unique=True)
    seq = BigInt(default=0)
    hash = Varchar(length=64, default="0" * 64)


class LogCheckpoint(Table, tablename="log_checkpoint"):
    """Every checkpoint the log signed: its text (origin, size, root) and the log's line."""

    id = Serial(primary_key=True)
    size = BigInt(unique=True)
    root = Varchar(length=44)  # base64, as in the checkpoint
    body = Text()  # the note text
    signature = Text()  # the log's signature line
    created_at = Timestamptz(default=TimestamptzNow())


class LogCosignature(Table, tablename="log_cosignature"):
    """A witness's cosignature line on one of our checkpoints."""

    id = Serial(primary_key=True)
    checkpoint = ForeignKey(references=LogCheckpoint, on_delete=OnDelete.restrict, null=False)
    witness = Varchar(length=300)  # the witness's verifier key
    line = Text()
    created_at = Timestamptz(default=TimestamptzNow())


class LogWitness(Table, tablename="log_witness"):
    """What the platform knows of each configured witness: the size it last cosigned."""

    id = Serial(primary_key=True)
    vkey = Varchar(length=300, unique=True)
    size = BigInt(default=0)
    last_error = Text(default="")
    updated_at = Timestamptz(default=TimestamptzNow())


class LogRefusal(Table, tablename="log_refusal"):
    """An entry the integrator refused (its prev does not continue its project's last leaf)."""

    id = Serial(primary_key=True)
    project = ForeignKey(references=Project, on_delete=OnDelete.restrict, null=False)
    seq = BigInt()
    reason = Text()
    created_at = Timestamptz(default=TimestamptzNow())
