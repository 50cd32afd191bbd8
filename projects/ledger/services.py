"""The ledger service: the one place where money moves (ledger.md, "What the platform guarantees").

Every business event that moves money (a confirmed donation, a fee, a refund, a paid
expenditure, a transfer, a reversal) becomes exactly one entry through `append`. In a single
write transaction it locks the project's head row, returns the existing entry if the event's
idempotency key was seen before, assigns the next `seq`, chains and hashes the entry, refuses
an overdraft, appends entry and postings, and moves the head (seq, hash, figures) forward.

Nothing here updates or deletes an entry or a posting; the database refuses it anyway.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from linju.platform.db import is_postgres, write_transaction
from linju.platform.kernel.clock import utc_now
from linju.platform.kernel.errors import N_, Conflict, NotFound, RuleViolation
from linju.projects.ledger.format import (
    CURRENCY_PATTERN,
    DONATION_KINDS,
    EntryKind,
    canonical_bytes,
    figures_delta,
    format_at,
    fund_account,
    is_known_account,
    public_entry,
)
from linju.projects.ledger.tables import LedgerEntry, LedgerHead, LedgerPosting

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
    return hashlib.sha256(canonical_bytes(content)).hexdigest()  # json.dumps's bytes, faster


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
class Appended:
    """What `append_all` did: one result per event, in order, and the head's figures after."""

    results: tuple[AppendResult, ...]
    raised_fen: int
    balance_fen: int


@dataclass(frozen=True, slots=True)
class _Head:
    """A project's locked head row: where its chain ends and the figures it caches."""

    id: int
    project: int
    currency: str
    seq: int
    hash: str
    balance_fen: int
    raised_fen: int
    spent_fen: int
    donations_count: int


@dataclass(frozen=True, slots=True)
class _Chained:
    event: LedgerEvent
    digest: str  # what the event says, for its idempotency key
    entry: dict[str, Any]  # the public entry object, hash included


def _chain(
    project_slug: str, events: Sequence[LedgerEvent], head: _Head
) -> tuple[list[_Chained], _Head]:
    """The entries that follow `head`, in order, and the head after them: the one place where
    no-overdraft is decided and an entry's seq, time, prev and hash are made, whichever engine
    then writes them."""
    chained = []
    for event in events:
        postings = [
            {"account": p.account, "amount": p.amount, "currency": p.currency}
            for p in event.postings
        ]
        balance, raised, spent = figures_delta(postings, project_slug)
        if head.balance_fen + balance < 0:
            raise Overdraft(
                N_("The fund holds %(balance)s fen; this entry would take it below zero"),
                balance=head.balance_fen,
            )
        entry = public_entry(
            project=project_slug,
            seq=head.seq + 1,
            at=format_at(utc_now()),
            kind=event.kind.value,
            memo=event.memo,
            ref=event.ref,
            postings=postings,
            prev=head.hash,
        )
        head = replace(
            head,
            seq=entry["seq"],
            hash=entry["hash"],
            balance_fen=head.balance_fen + balance,
            raised_fen=head.raised_fen + raised,
            spent_fen=head.spent_fen + spent,
            donations_count=head.donations_count + (1 if event.kind in DONATION_KINDS else 0),
        )
        chained.append(_Chained(event, _content_digest(event, project_slug), entry))
    return chained, head


class _Store(Protocol):
    """How one engine locks a head and writes a chained run of entries with the head's move."""

    async def lock_head(self, project_slug: str) -> _Head | None: ...

    async def write(self, before: _Head, chained: list[_Chained], after: _Head) -> bool:
        """Write the entries and move the head to `after`; False, having written nothing,
        when one of the events' idempotency keys was used before."""


async def append(project_slug: str, event: LedgerEvent) -> AppendResult:
    """Append one business event to a project's ledger, exactly once (see module docstring)."""
    return (await append_all(project_slug, (event,))).results[0]


async def append_all(project_slug: str, events: Sequence[LedgerEvent]) -> Appended:
    """Append business events to one project's ledger in this order, each exactly once.

    They share one lock of the head and, when none of them was seen before, one write: a
    donation and its processor's fee cost little more than the donation alone.
    """
    if not events:
        raise ValueError("append_all needs at least one event")
    async with write_transaction() as transaction:
        store: _Store = _PostgresStore(transaction.connection) if is_postgres() else _PiccoloStore()
        head = await store.lock_head(project_slug)
        if head is None:
            raise NotFound(N_("No project %(slug)s"), slug=project_slug)
        for event in events:
            validate_event(event, project_slug, head.currency)
        try:
            chained, after = _chain(project_slug, events, head)
        except Overdraft:
            pass  # a repeat of an event already appended is not an overdraft: look at each
        else:
            if await store.write(head, chained, after):
                results = tuple(AppendResult(c.entry, created=True) for c in chained)
                return Appended(results, after.raised_fen, after.balance_fen)
        results, after = await _append_each(store, project_slug, events, head)
    return Appended(results, after.raised_fen, after.balance_fen)


async def _append_each(
    store: _Store, project_slug: str, events: Sequence[LedgerEvent], head: _Head
) -> tuple[tuple[AppendResult, ...], _Head]:
    """One event at a time, each repeated one answered with the entry it made before."""
    results = []
    for event in events:
        repeated = await _existing_entry(
            project_slug, head.project, event, _content_digest(event, project_slug)
        )
        if repeated is not None:
            results.append(repeated)
            continue
        chained, after = _chain(project_slug, (event,), head)
        if not await store.write(head, chained, after):
            # Used after our look by an append to another project, whose head we do not hold.
            raise IdempotencyConflict(
                N_("This idempotency key was already used for a different ledger event")
            )
        results.append(AppendResult(chained[0].entry, created=True))
        head = after
    return tuple(results), head


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


class _PiccoloStore:
    """SQLite: the IMMEDIATE transaction already holds the database's write lock."""

    async def lock_head(self, project_slug: str) -> _Head | None:
        row = (
            await LedgerHead.select(
                LedgerHead.id,
                LedgerHead.project,
                LedgerHead.project.currency.as_alias("currency"),
                LedgerHead.seq,
                LedgerHead.hash,
                LedgerHead.balance_fen,
                LedgerHead.raised_fen,
                LedgerHead.spent_fen,
                LedgerHead.donations_count,
            )
            .where(LedgerHead.project.slug == project_slug)
            .first()
        )
        return _Head(**row) if row is not None else None

    async def write(self, before: _Head, chained: list[_Chained], after: _Head) -> bool:
        keys = [c.event.idempotency_key for c in chained]
        if await LedgerEntry.exists().where(LedgerEntry.idempotency_key.is_in(keys)):
            return False
        for item in chained:
            entry = item.entry
            inserted = await LedgerEntry.insert(
                LedgerEntry(
                    project=before.project,
                    seq=entry["seq"],
                    at=entry["at"],
                    kind=entry["kind"],
                    memo=entry["memo"],
                    public_ref=entry["ref"],
                    prev=entry["prev"],
                    hash=entry["hash"],
                    idempotency_key=item.event.idempotency_key,
                    content_digest=item.digest,
                )
            )
            await LedgerPosting.insert(
                *[
                    LedgerPosting(
                        entry=inserted[0]["id"],
                        position=index,
                        account=posting.account,
                        amount=posting.amount,
                        currency=posting.currency,
                    )
                    for index, posting in enumerate(item.event.postings)
                ]
            )
        await LedgerHead.update(
            {
                LedgerHead.seq: after.seq,
                LedgerHead.hash: after.hash,
                LedgerHead.balance_fen: after.balance_fen,
                LedgerHead.raised_fen: after.raised_fen,
                LedgerHead.spent_fen: after.spent_fen,
                LedgerHead.donations_count: after.donations_count,
            }
        ).where(LedgerHead.id == before.id)
        return True


# PostgreSQL: two statements on the transaction's own connection, prepared, whatever the number
# of entries: lock the head (reading the project's currency); then one statement that inserts
# every entry and its postings and moves the head, unless one of the keys was used before (its
# snapshot is taken after the lock, so it sees every entry of this project that an earlier
# holder of the lock committed). Measured in bench/ledger.py and bench/donations.py: this is
# what brings an append within half the cost of a plain INSERT+COMMIT.
_LOCK_HEAD_SQL = """
SELECT h.id, h.project, p.currency, h.seq, h.hash, h.balance_fen, h.raised_fen, h.spent_fen,
    h.donations_count
FROM ledger_head h JOIN project p ON p.id = h.project
WHERE p.slug = $1
FOR UPDATE OF h
"""
_ENTRY_COLUMNS = 9  # seq, at, kind, memo, ref, prev, hash, key, digest: parameters per entry
_WRITE_SQL = """
WITH {seen}e AS (
    INSERT INTO ledger_entry
        (project, seq, at, kind, memo, public_ref, prev, hash, idempotency_key, content_digest)
    {rows}
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id, seq
), p AS (
    INSERT INTO ledger_posting (entry, position, account, amount, currency)
    SELECT e.id, x.position, x.account, x.amount, x.currency
    FROM unnest($2::bigint[], $3::integer[], $4::text[], $5::bigint[], $6::text[])
        AS x(seq, position, account, amount, currency)
    JOIN e ON e.seq = x.seq
), h AS (
    UPDATE ledger_head SET
        seq = $7, hash = $8, balance_fen = $9, raised_fen = $10, spent_fen = $11,
        donations_count = $12
    WHERE id = $13 AND (SELECT count(*) FROM e) = {count}
)
SELECT (SELECT count(*) FROM e) AS written
"""
_FIRST_ENTRY_PARAMETER = 14


@functools.cache
def _write_sql(count: int) -> str:
    """The write statement for `count` entries.

    One entry needs no look-up: `ON CONFLICT` alone leaves everything untouched for a key used
    before. Several must not be written in part, so their keys are looked up first; as a list
    of parameters (`IN ($21, $30)`), not one array (`= ANY($2)`): PostgreSQL plans a prepared
    statement once, and for an array of unknown length on a young table it keeps a sequential
    scan that grows with the ledger (measured: appends slowed by half within 5,000 entries).
    """

    def parameter(entry: int, column: int) -> str:
        return f"${_FIRST_ENTRY_PARAMETER + entry * _ENTRY_COLUMNS + column}"

    types = ("bigint", "text", "text", "text", "text", "text", "text", "text", "text")
    values = [
        "($1::integer, " + ", ".join(f"{parameter(i, c)}::{t}" for c, t in enumerate(types)) + ")"
        for i in range(count)
    ]
    if count == 1:
        return _WRITE_SQL.format(seen="", rows="VALUES " + values[0], count=1)
    keys = ", ".join(parameter(i, 7) for i in range(count))
    return _WRITE_SQL.format(
        seen=f"seen AS (SELECT 1 FROM ledger_entry WHERE idempotency_key IN ({keys})), ",
        rows="SELECT * FROM (VALUES " + ", ".join(values) + ") AS x "
        "WHERE NOT EXISTS (SELECT 1 FROM seen)",
        count=count,
    )


class _PostgresStore:
    def __init__(self, connection: Any) -> None:
        self.connection = connection

    async def lock_head(self, project_slug: str) -> _Head | None:
        row = await self.connection.fetchrow(_LOCK_HEAD_SQL, project_slug)
        return _Head(**row) if row is not None else None

    async def write(self, before: _Head, chained: list[_Chained], after: _Head) -> bool:
        entries = [c.entry for c in chained]
        postings = [(e["seq"], i, p) for e in entries for i, p in enumerate(e["postings"])]
        outcome = await self.connection.fetchrow(
            _write_sql(len(chained)),
            before.project,
            [seq for seq, _, _ in postings],
            [position for _, position, _ in postings],
            [p["account"] for _, _, p in postings],
            [p["amount"] for _, _, p in postings],
            [p["currency"] for _, _, p in postings],
            after.seq,
            after.hash,
            after.balance_fen,
            after.raised_fen,
            after.spent_fen,
            after.donations_count,
            before.id,
            *[
                value
                for c in chained
                for value in (
                    c.entry["seq"],
                    c.entry["at"],
                    c.entry["kind"],
                    c.entry["memo"],
                    c.entry["ref"],
                    c.entry["prev"],
                    c.entry["hash"],
                    c.event.idempotency_key,
                    c.digest,
                )
            ],
        )
        if outcome["written"] == 0:  # a key used before (seen, or met by ON CONFLICT)
            return False
        if outcome["written"] != len(chained):
            # Another project's append is using one of these keys right now; what this
            # statement wrote must not stay, so the whole transaction is refused.
            raise IdempotencyConflict(
                N_("This idempotency key was already used for a different ledger event")
            )
        return True


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


async def entry_by_key(project_slug: str, idempotency_key: str) -> dict[str, Any] | None:
    """The public entry a business event made, found by its idempotency key; None if none yet.

    A business record finds its entry this way (a donation's key is `donation:<id>`) instead of
    keeping a copy of the seq, which would have to be written while the head is locked.
    """
    row = (
        await LedgerEntry.select(LedgerEntry.id)
        .where(
            (LedgerEntry.idempotency_key == idempotency_key)
            & (LedgerEntry.project.slug == project_slug)
        )
        .first()
    )
    return await load_entry(row["id"], project_slug) if row is not None else None


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
