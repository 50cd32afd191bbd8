"""The ledger service: the one place where money moves (ledger.md, "What the platform guarantees").

Every business event that moves money (a confirmed donation, a fee, a refund, a paid
expenditure, a transfer, a reversal) becomes exactly one entry through `append`. In a single
write transaction it locks the project's head row, returns the existing entry if the event's
idempotency key was seen before, assigns the next `seq`, chains and hashes the entry, refuses
an overdraft, appends entry and postings, and moves the head (seq, hash, figures) forward.

Nothing here updates or deletes an entry or a posting; the database refuses it anyway.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from linju.platform.db import is_postgres, write_transaction
from linju.projects.clock import utc_now
from linju.projects.errors import N_, Conflict, NotFound, RuleViolation
from linju.projects.ledger_format import (
    CURRENCY_PATTERN,
    DONATION_KINDS,
    EntryKind,
    figures_delta,
    format_at,
    fund_account,
    is_known_account,
    public_entry,
)
from linju.projects.tables import LedgerEntry, LedgerHead, LedgerPosting, Project

MAX_MEMO_LENGTH = 500
MAX_REF_LENGTH = 100
MAX_KEY_LENGTH = 200


@dataclass(frozen=True, slots=True)
class Posting:
    account: str
    amount: int  # minor units; positive increases the account's balance as the public reads it
    currency: str = "CNY"


@dataclass(frozen=True, slots=True)
class LedgerEvent:
    """A business event to record: what the caller knows, before seq, time and hashes."""

    kind: EntryKind
    memo: str
    ref: str
    postings: tuple[Posting, ...]
    idempotency_key: str


@dataclass(frozen=True, slots=True)
class AppendResult:
    entry: dict[str, Any]  # the public entry object, exactly as exported
    created: bool  # False when the idempotency key had already been used for this event


class InvalidEvent(RuleViolation):
    """The event is malformed or unbalanced; nothing was written."""


class Overdraft(Conflict):
    """The entry would take the fund below zero; nothing was written."""


class IdempotencyConflict(Conflict):
    """The idempotency key was already used for a different event."""


def validate_event(event: LedgerEvent, project_slug: str, currency: str) -> None:
    """Refuse anything ledger.md does not allow, before any database work."""
    if not isinstance(event.kind, EntryKind):
        raise InvalidEvent(N_("Unknown ledger entry kind"))
    if not isinstance(event.memo, str) or len(event.memo) > MAX_MEMO_LENGTH:
        raise InvalidEvent(N_("A ledger memo is text of at most 500 characters"))
    if not isinstance(event.ref, str) or not event.ref or len(event.ref) > MAX_REF_LENGTH:
        raise InvalidEvent(N_("A ledger entry needs a public reference of at most 100 characters"))
    if not event.idempotency_key or len(event.idempotency_key) > MAX_KEY_LENGTH:
        raise InvalidEvent(N_("A ledger entry needs an idempotency key of at most 200 characters"))
    for text in (event.memo, event.ref):
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise InvalidEvent(N_("Ledger text must be valid Unicode")) from exc
    if len(event.postings) < 2:
        raise InvalidEvent(N_("A ledger entry needs two or more postings"))
    fund = fund_account(project_slug)
    sums: dict[str, int] = {}
    for posting in event.postings:
        if isinstance(posting.amount, bool) or not isinstance(posting.amount, int):
            raise InvalidEvent(N_("Posting amounts are whole numbers of minor units"))
        if posting.amount == 0:
            raise InvalidEvent(N_("A posting of zero moves nothing"))
        if not CURRENCY_PATTERN.match(posting.currency):
            raise InvalidEvent(N_("A posting needs an ISO 4217 currency code"))
        if not is_known_account(posting.account):
            raise InvalidEvent(N_("Unknown ledger account %(account)s"), account=posting.account)
        if posting.account.startswith("fund:") and posting.account != fund:
            raise InvalidEvent(N_("An entry may move only its own project's fund"))
        if posting.account == fund and posting.currency != currency:
            raise InvalidEvent(N_("The fund is kept in %(currency)s"), currency=currency)
        sums[posting.currency] = sums.get(posting.currency, 0) + posting.amount
    if any(total != 0 for total in sums.values()):
        raise InvalidEvent(N_("The postings of an entry must sum to zero in each currency"))
    if not any(posting.account == fund for posting in event.postings):
        raise InvalidEvent(N_("A project's ledger entry must move its fund"))


def _content_digest(event: LedgerEvent, project_slug: str) -> str:
    """What the event says, hashed: a repeated key must carry the same content."""
    content = {
        "project": project_slug,
        "kind": event.kind.value,
        "memo": event.memo,
        "ref": event.ref,
        "postings": [[p.account, p.amount, p.currency] for p in event.postings],
    }
    encoded = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


async def _locked_head(project_slug: str) -> dict[str, Any]:
    """The project's head row, locked against concurrent appends until the transaction ends.

    On SQLite the IMMEDIATE transaction already holds the database's write lock.
    """
    query = LedgerHead.select(
        LedgerHead.id,
        LedgerHead.project,
        LedgerHead.seq,
        LedgerHead.hash,
        LedgerHead.currency,
        LedgerHead.balance_fen,
        LedgerHead.raised_fen,
        LedgerHead.spent_fen,
        LedgerHead.donations_count,
    ).where(LedgerHead.project.slug == project_slug)
    if is_postgres():
        query = query.lock_rows("UPDATE", of=(LedgerHead,))
    head = await query.first()
    if head is None:
        raise NotFound(N_("No project %(slug)s"), slug=project_slug)
    return head


async def load_entry(entry_id: int, project_slug: str) -> dict[str, Any]:
    """An appended entry as its public object."""
    row = (
        await LedgerEntry.select(
            LedgerEntry.seq,
            LedgerEntry.at,
            LedgerEntry.kind,
            LedgerEntry.memo,
            LedgerEntry.public_ref,
            LedgerEntry.prev,
            LedgerEntry.hash,
        )
        .where(LedgerEntry.id == entry_id)
        .first()
    )
    if row is None:
        raise NotFound(N_("No ledger entry %(id)s"), id=entry_id)
    postings = (
        await LedgerPosting.select(
            LedgerPosting.account, LedgerPosting.amount, LedgerPosting.currency
        )
        .where(LedgerPosting.entry == entry_id)
        .order_by(LedgerPosting.position)
    )
    entry = public_entry(
        project=project_slug,
        seq=row["seq"],
        at=row["at"],
        kind=row["kind"],
        memo=row["memo"],
        ref=row["public_ref"],
        postings=postings,
        prev=row["prev"],
    )
    if entry["hash"] != row["hash"]:  # pragma: no cover - only a tampered database gets here
        raise Conflict(N_("Ledger entry %(seq)s does not match its hash"), seq=row["seq"])
    return entry


@dataclass(frozen=True, slots=True)
class _NextEntry:
    entry: dict[str, Any]  # the public entry object, hash included
    balance: int  # how it moves the fund and the head's figures
    raised: int
    spent: int


def _next_entry(project_slug: str, event: LedgerEvent, head: Mapping[str, Any]) -> _NextEntry:
    """The entry that follows `head`: the one place where no-overdraft is decided and the
    entry's seq, time, prev and hash are made, whichever engine then writes it."""
    postings = [
        {"account": p.account, "amount": p.amount, "currency": p.currency} for p in event.postings
    ]
    balance, raised, spent = figures_delta(postings, project_slug)
    if head["balance_fen"] + balance < 0:
        raise Overdraft(
            N_("The fund holds %(balance)s fen; this entry would take it below zero"),
            balance=head["balance_fen"],
        )
    entry = public_entry(
        project=project_slug,
        seq=head["seq"] + 1,
        at=format_at(utc_now()),
        kind=event.kind.value,
        memo=event.memo,
        ref=event.ref,
        postings=postings,
        prev=head["hash"],
    )
    return _NextEntry(entry, balance, raised, spent)


async def append(project_slug: str, event: LedgerEvent) -> AppendResult:
    """Append one business event to a project's ledger, exactly once (see module docstring)."""
    if is_postgres():
        return await _append_postgres(project_slug, event)
    project = await Project.select(Project.currency).where(Project.slug == project_slug).first()
    if project is None:
        raise NotFound(N_("No project %(slug)s"), slug=project_slug)
    validate_event(event, project_slug, project["currency"])
    digest = _content_digest(event, project_slug)
    async with write_transaction():
        head = await _locked_head(project_slug)
        repeated = await _existing_entry(project_slug, head["project"], event, digest)
        if repeated is not None:
            return repeated
        following = _next_entry(project_slug, event, head)
        entry = following.entry
        inserted = await LedgerEntry.insert(
            LedgerEntry(
                project=head["project"],
                seq=entry["seq"],
                at=entry["at"],
                kind=entry["kind"],
                memo=entry["memo"],
                public_ref=entry["ref"],
                prev=entry["prev"],
                hash=entry["hash"],
                idempotency_key=event.idempotency_key,
                content_digest=digest,
            )
        )
        entry_id = inserted[0]["id"]
        await LedgerPosting.insert(
            *[
                LedgerPosting(
                    entry=entry_id,
                    position=index,
                    account=posting.account,
                    amount=posting.amount,
                    currency=posting.currency,
                )
                for index, posting in enumerate(event.postings)
            ]
        )
        await _move_head(head, following, event.kind in DONATION_KINDS)
    return AppendResult(entry, created=True)


# PostgreSQL: the same steps in two statements inside the transaction instead of six, on the
# transaction's own connection with prepared statements. Lock the head (and read the
# project's currency) in one; insert the entry, its postings and move the head in the other,
# where `ON CONFLICT (idempotency_key) DO NOTHING` turns a concurrent or repeated key into "no
# row", after which the existing entry is looked up exactly as on SQLite. Measured in
# bench/ledger.py: this is what brings an append within half the cost of a plain INSERT+COMMIT.
_LOCK_HEAD_SQL = """
SELECT h.id, h.project, h.seq, h.hash, h.balance_fen, p.currency
FROM ledger_head h JOIN project p ON p.id = h.project
WHERE p.slug = $1
FOR UPDATE OF h
"""
_APPEND_SQL = """
WITH e AS (
    INSERT INTO ledger_entry
        (project, seq, at, kind, memo, public_ref, prev, hash, idempotency_key, content_digest)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id
), p AS (
    INSERT INTO ledger_posting (entry, position, account, amount, currency)
    SELECT e.id, x.position, x.account, x.amount, x.currency
    FROM e, unnest($11::integer[], $12::text[], $13::bigint[], $14::text[])
        AS x(position, account, amount, currency)
), h AS (
    UPDATE ledger_head SET
        seq = $2, hash = $8, balance_fen = balance_fen + $15, raised_fen = raised_fen + $16,
        spent_fen = spent_fen + $17, donations_count = donations_count + $18
    WHERE id = $19 AND EXISTS (SELECT 1 FROM e)
)
SELECT id FROM e
"""


async def _existing_entry(
    project_slug: str, project_id: int, event: LedgerEvent, digest: str
) -> AppendResult | None:
    """The entry this event's key already made, or None; a different event under it is a 409."""
    existing = (
        await LedgerEntry.select(LedgerEntry.id, LedgerEntry.project, LedgerEntry.content_digest)
        .where(LedgerEntry.idempotency_key == event.idempotency_key)
        .first()
    )
    if existing is None:
        return None
    if existing["project"] != project_id or existing["content_digest"] != digest:
        raise IdempotencyConflict(
            N_("This idempotency key was already used for a different ledger event")
        )
    return AppendResult(await load_entry(existing["id"], project_slug), created=False)


async def _append_postgres(project_slug: str, event: LedgerEvent) -> AppendResult:
    digest = _content_digest(event, project_slug)
    async with write_transaction() as transaction:
        connection = transaction.connection
        head = await connection.fetchrow(_LOCK_HEAD_SQL, project_slug)
        if head is None:
            raise NotFound(N_("No project %(slug)s"), slug=project_slug)
        validate_event(event, project_slug, head["currency"])
        try:
            following = _next_entry(project_slug, event, head)
        except Overdraft:
            # A repeat of an event already appended is not an overdraft: it returns the entry.
            repeated = await _existing_entry(project_slug, head["project"], event, digest)
            if repeated is not None:
                return repeated
            raise
        entry, postings = following.entry, following.entry["postings"]
        inserted = await connection.fetchval(
            _APPEND_SQL,
            head["project"],
            entry["seq"],
            entry["at"],
            entry["kind"],
            entry["memo"],
            entry["ref"],
            entry["prev"],
            entry["hash"],
            event.idempotency_key,
            digest,
            list(range(len(postings))),
            [p["account"] for p in postings],
            [p["amount"] for p in postings],
            [p["currency"] for p in postings],
            following.balance,
            following.raised,
            following.spent,
            1 if event.kind in DONATION_KINDS else 0,
            head["id"],
        )
        if inserted is None:
            repeated = await _existing_entry(project_slug, head["project"], event, digest)
            assert repeated is not None  # the conflict was on this key
            return repeated
    return AppendResult(entry, created=True)


async def _move_head(head: dict[str, Any], following: _NextEntry, is_donation: bool) -> None:
    """Move the head cache forward in the same transaction as the entry it now points at."""
    entry = following.entry
    await LedgerHead.update(
        {
            LedgerHead.seq: entry["seq"],
            LedgerHead.hash: entry["hash"],
            LedgerHead.balance_fen: head["balance_fen"] + following.balance,
            LedgerHead.raised_fen: head["raised_fen"] + following.raised,
            LedgerHead.spent_fen: head["spent_fen"] + following.spent,
            LedgerHead.donations_count: head["donations_count"] + (1 if is_donation else 0),
        }
    ).where(LedgerHead.id == head["id"])


def reversal_of(entry: dict[str, Any], reason: str, idempotency_key: str) -> LedgerEvent:
    """The event that corrects `entry`: the same postings negated, naming what it reverses.

    The reversal carries the reversed entry's `ref` and names its seq in the memo (ledger.md).
    """
    if entry["kind"] == EntryKind.REVERSAL.value:
        raise InvalidEvent(N_("A reversal is corrected by a new entry, not by reversing it"))
    return LedgerEvent(
        kind=EntryKind.REVERSAL,
        memo=f"冲正 #{entry['seq']}：{reason}"[:MAX_MEMO_LENGTH],
        ref=entry["ref"],
        postings=tuple(
            Posting(p["account"], -p["amount"], p["currency"]) for p in entry["postings"]
        ),
        idempotency_key=idempotency_key,
    )


async def entry_by_seq(project_slug: str, seq: int) -> dict[str, Any]:
    row = (
        await LedgerEntry.select(LedgerEntry.id)
        .where((LedgerEntry.project.slug == project_slug) & (LedgerEntry.seq == seq))
        .first()
    )
    if row is None:
        raise NotFound(N_("No ledger entry %(seq)s in %(slug)s"), seq=seq, slug=project_slug)
    return await load_entry(row["id"], project_slug)


async def reverse(project_slug: str, seq: int, reason: str) -> AppendResult:
    """Correct a mistake visibly: append the reversal of entry `seq`, at most once."""
    if not reason.strip():
        raise InvalidEvent(N_("A reversal needs a reason"))
    original = await entry_by_seq(project_slug, seq)
    event = reversal_of(original, reason.strip(), f"reversal:{project_slug}:{seq}")
    return await append(project_slug, event)
