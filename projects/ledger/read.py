"""The ledger's read side: entries as their public objects, paged by `seq`, never all at once.

Every reader (the JSON routes, the JSONL and CSV exports, the ledger page, `linju ledger
verify` and `export`) goes through these few queries, so what the page shows, what a resident
downloads and what the platform checks are the same rows. Pages are keyset pages on the
unique `(project, seq)` index, each fetched with two queries (entries, then their postings), so
reading costs the same at seq 1 and at seq 1,000,000 and an export runs in constant memory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from piccolo.query.functions.aggregate import Sum

from linju.platform.kernel.errors import N_, NotFound
from linju.platform.kernel.money import Money
from linju.projects.core.rules import ProjectStatus
from linju.projects.core.tables import Project
from linju.projects.ledger.format import fund_account
from linju.projects.ledger.tables import LedgerEntry, LedgerHead, LedgerPosting

EXPORT_PAGE_SIZE = 1000  # entries per database round trip while streaming an export
MAX_PAGE_SIZE = 1000  # ledger.md: a page of the JSON route holds at most 1000 entries
AT_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"

_ENTRY_COLUMNS = (
    LedgerEntry.id,
    LedgerEntry.seq,
    LedgerEntry.at,
    LedgerEntry.kind,
    LedgerEntry.memo,
    LedgerEntry.public_ref,
    LedgerEntry.prev,
    LedgerEntry.hash,
)


@dataclass(frozen=True, slots=True)
class LedgerRef:
    """A project whose ledger is being read, with its head at the moment it was looked up."""

    project_id: int
    slug: str
    title: str
    currency: str
    head_seq: int
    head_hash: str
    balance_fen: int

    @property
    def balance(self) -> Money:
        return Money(self.balance_fen, self.currency)


async def find_ledger(slug: str, include_drafts: bool = False) -> LedgerRef:
    """The project's ledger and head; a draft's ledger is as private as the draft (404)."""
    project = (
        await Project.select(Project.id, Project.title, Project.currency, Project.status)
        .where(Project.slug == slug)
        .first()
    )
    if project is None or (project["status"] == ProjectStatus.DRAFT.value and not include_drafts):
        raise NotFound(N_("No project %(slug)s"), slug=slug)
    head = (
        await LedgerHead.select(LedgerHead.seq, LedgerHead.hash, LedgerHead.balance_fen)
        .where(LedgerHead.project == project["id"])
        .first()
    )
    if head is None:  # pragma: no cover - create_project makes the head with the project
        raise NotFound(N_("No project %(slug)s"), slug=slug)
    return LedgerRef(
        project_id=project["id"],
        slug=slug,
        title=project["title"],
        currency=project["currency"],
        head_seq=head["seq"],
        head_hash=head["hash"],
        balance_fen=head["balance_fen"],
    )


async def all_project_slugs() -> list[str]:
    """Every project with a ledger, drafts included (the platform checks its own books)."""
    rows = await Project.select(Project.slug).order_by(Project.id)
    return [row["slug"] for row in rows]


def _public(row: dict[str, Any], postings: Sequence[dict[str, Any]], slug: str) -> dict[str, Any]:
    """The exported entry object from its stored row, members in ledger.md's order.

    The stored hash is exported as it is; recomputing it is the verifier's job, not the
    reader's, so a tampered row shows up as a broken chain rather than being papered over.
    """
    return {
        "project": slug,
        "seq": row["seq"],
        "at": row["at"],
        "kind": row["kind"],
        "memo": row["memo"],
        "ref": row["public_ref"],
        "postings": [
            {"account": p["account"], "amount": p["amount"], "currency": p["currency"]}
            for p in postings
        ],
        "prev": row["prev"],
        "hash": row["hash"],
    }


async def _with_postings(rows: list[dict[str, Any]], slug: str) -> list[dict[str, Any]]:
    if not rows:
        return []
    postings = (
        await LedgerPosting.select(
            LedgerPosting.entry,
            LedgerPosting.account,
            LedgerPosting.amount,
            LedgerPosting.currency,
        )
        .where(LedgerPosting.entry.is_in([row["id"] for row in rows]))
        .order_by(LedgerPosting.entry, LedgerPosting.position)
    )
    by_entry: dict[int, list[dict[str, Any]]] = {}
    for posting in postings:
        by_entry.setdefault(posting["entry"], []).append(posting)
    return [_public(row, by_entry.get(row["id"], []), slug) for row in rows]


async def entries_after(
    ledger: LedgerRef, after: int, limit: int, up_to: int | None = None
) -> list[dict[str, Any]]:
    """Up to `limit` entries with `after < seq (<= up_to)`, oldest first."""
    condition = (LedgerEntry.project == ledger.project_id) & (LedgerEntry.seq > after)
    if up_to is not None:
        condition &= LedgerEntry.seq <= up_to
    rows = (
        await LedgerEntry.select(*_ENTRY_COLUMNS)
        .where(condition)
        .order_by(LedgerEntry.seq)
        .limit(limit)
    )
    return await _with_postings(rows, ledger.slug)


async def entries_before(ledger: LedgerRef, before: int, limit: int) -> list[dict[str, Any]]:
    """Up to `limit` entries with `seq < before`, newest first (the ledger page's order)."""
    rows = (
        await LedgerEntry.select(*_ENTRY_COLUMNS)
        .where((LedgerEntry.project == ledger.project_id) & (LedgerEntry.seq < before))
        .order_by(LedgerEntry.seq, ascending=False)
        .limit(limit)
    )
    return await _with_postings(rows, ledger.slug)


async def iter_entries(
    ledger: LedgerRef, page_size: int = EXPORT_PAGE_SIZE
) -> AsyncIterator[dict[str, Any]]:
    """Every entry up to the head `ledger` was looked up at, oldest first, a page at a time.

    Stopping at that head gives a consistent export even while donations keep arriving: the
    file ends exactly at the head the reader was shown.
    """
    after = 0
    while after < ledger.head_seq:
        page = await entries_after(ledger, after, page_size, up_to=ledger.head_seq)
        if not page:
            return
        for entry in page:
            yield entry
        after = page[-1]["seq"]


async def entry_at(ledger: LedgerRef, seq: int) -> dict[str, Any]:
    page = await entries_after(ledger, seq - 1, 1, up_to=seq)
    if not page:
        raise NotFound(N_("No ledger entry %(seq)s in %(slug)s"), seq=seq, slug=ledger.slug)
    return page[0]


def fund_change(entry: dict[str, Any]) -> int:
    """How much an entry moved its project's fund (positive in, negative out)."""
    fund = fund_account(entry["project"])
    return sum(p["amount"] for p in entry["postings"] if p["account"] == fund)


async def fund_balance_after(ledger: LedgerRef, seq: int) -> int:
    """The fund's balance right after entry `seq`, summing whichever side of it is shorter.

    From the head's cached balance down (newest pages, the ones people read) or from genesis
    up (oldest pages), so no page costs more than half the ledger and the first costs nothing.
    """
    fund = fund_account(ledger.slug)
    base = (LedgerPosting.entry.project == ledger.project_id) & (LedgerPosting.account == fund)
    if seq >= ledger.head_seq:
        return ledger.balance_fen
    if seq * 2 >= ledger.head_seq:
        later = await _sum_amounts(base & (LedgerPosting.entry.seq > seq))
        return ledger.balance_fen - later
    return await _sum_amounts(base & (LedgerPosting.entry.seq <= seq))


async def _sum_amounts(condition: Any) -> int:
    row = (
        await LedgerPosting.select(Sum(LedgerPosting.amount, alias="total"))
        .where(condition)
        .first()
    )
    return int(row["total"] or 0) if row else 0


def with_running_balance(
    entries: Sequence[dict[str, Any]], balance_after_newest: int
) -> list[tuple[dict[str, Any], int, int]]:
    """Newest-first entries with (fund change, balance after the entry), walking back in time."""
    rows = []
    balance = balance_after_newest
    for entry in entries:
        change = fund_change(entry)
        rows.append((entry, change, balance))
        balance -= change
    return rows


@dataclass(frozen=True, slots=True)
class LedgerLine:
    """One entry as the ledger page shows it."""

    seq: int
    at: datetime
    kind: str
    memo: str
    fund_in: Money | None
    fund_out: Money | None
    balance_after: Money
    hash: str


@dataclass(frozen=True, slots=True)
class LedgerPage:
    ledger: LedgerRef
    lines: list[LedgerLine]
    newer_before: int | None  # `before` of the next newer page; 0 means the newest page
    older_before: int | None  # `before` of the next older page, or None at seq 1


def parse_at(at: str) -> datetime:
    return datetime.strptime(at, AT_FORMAT).replace(tzinfo=UTC)


async def ledger_page(slug: str, before: int | None, size: int) -> LedgerPage:
    """A page of the ledger newest first, each entry with the fund's balance after it."""
    ledger = await find_ledger(slug)
    newest = ledger.head_seq + 1
    before = newest if before is None else min(before, newest)
    entries = await entries_before(ledger, before, size)
    lines: list[LedgerLine] = []
    if entries:
        start = await fund_balance_after(ledger, entries[0]["seq"])
        for entry, change, balance in with_running_balance(entries, start):
            lines.append(
                LedgerLine(
                    seq=entry["seq"],
                    at=parse_at(entry["at"]),
                    kind=entry["kind"],
                    memo=entry["memo"],
                    fund_in=Money(change, ledger.currency) if change > 0 else None,
                    fund_out=Money(-change, ledger.currency) if change < 0 else None,
                    balance_after=Money(balance, ledger.currency),
                    hash=entry["hash"],
                )
            )
    newer = None
    if before < newest:
        newer = before + size if before + size < newest else 0
    older = lines[-1].seq if lines and lines[-1].seq > 1 else None
    return LedgerPage(ledger=ledger, lines=lines, newer_before=newer, older_before=older)


@dataclass(frozen=True, slots=True)
class TransferOut:
    """Money the fund handed on to a community's general fund (a completed project's leftover)."""

    seq: int
    amount: Money
    to_community: str  # the community's slug, from the posting's account


async def transfers_out(project_id: int) -> list[TransferOut]:
    """The project's transfer entries, oldest first, each with the sum it moved out of the fund."""
    rows = await (
        LedgerPosting.select(
            LedgerPosting.entry.seq.as_alias("seq"),
            LedgerPosting.account,
            LedgerPosting.amount,
            LedgerPosting.currency,
        )
        .where(
            (LedgerPosting.entry.project == project_id)
            & (LedgerPosting.entry.kind == "transfer")
            & (LedgerPosting.account.like("community:%"))
        )
        .order_by(LedgerPosting.entry.seq)
    )
    return [
        TransferOut(
            seq=int(row["seq"]),
            amount=Money(int(row["amount"]), row["currency"]),
            to_community=row["account"].removeprefix("community:"),
        )
        for row in rows
    ]
