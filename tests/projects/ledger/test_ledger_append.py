"""The append service on a real database: chain, head figures, idempotency, overdraft."""

from __future__ import annotations

import pytest
from piccolo.querystring import QueryString

from linju.platform.db import get_engine
from linju.platform.kernel.errors import NotFound
from linju.projects.core import read as queries
from linju.projects.demo import load_demo
from linju.projects.ledger.format import GENESIS_HASH, EntryKind, entry_hash
from linju.projects.ledger.read import find_ledger, iter_entries
from linju.projects.ledger.services import (
    IdempotencyConflict,
    InvalidEvent,
    LedgerEvent,
    Overdraft,
    Posting,
    append,
    append_all,
    entry_by_key,
    reverse,
)
from linju.projects.ledger.tables import LedgerEntry, LedgerHead, LedgerPosting
from linju.projects.ledger.verify import verify_entries

pytestmark = pytest.mark.usefixtures("db")
SLUG = "tongqu-leyuan"


@pytest.fixture
async def project(db: str) -> str:
    assert await load_demo()
    return SLUG


def donation(amount: int, key: str, name: str = "匿名") -> LedgerEvent:
    return LedgerEvent(
        kind=EntryKind.DONATION,
        memo=name,
        ref=f"don_{key}",
        postings=(Posting(f"fund:{SLUG}", amount), Posting("donors:online", -amount)),
        idempotency_key=f"donation:{key}",
    )


def expenditure(amount: int, key: str) -> LedgerEvent:
    return LedgerEvent(
        kind=EntryKind.EXPENDITURE,
        memo="某某游乐设备公司：跷跷板",
        ref=f"exp_{key}",
        postings=(Posting(f"fund:{SLUG}", -amount), Posting("payees", amount)),
        idempotency_key=f"expenditure:{key}",
    )


async def head_of(slug: str) -> dict[str, object]:
    row = await LedgerHead.select().where(LedgerHead.project.slug == slug).first()
    assert row is not None
    return row


@pytest.mark.usefixtures("project")
async def test_entries_chain_and_the_head_keeps_the_figures() -> None:
    before = await head_of(SLUG)
    first = await append(SLUG, donation(5000, "a", "王阿姨"))
    second = await append(SLUG, donation(200, "b"))
    third = await append(SLUG, expenditure(1200, "c"))
    assert all(appended.created for appended in (first, second, third))
    start = int(before["seq"])  # type: ignore[call-overload]
    assert [first.entry["seq"], second.entry["seq"], third.entry["seq"]] == [
        start + 1,
        start + 2,
        start + 3,
    ]
    assert second.entry["prev"] == first.entry["hash"]
    assert third.entry["prev"] == second.entry["hash"]
    for appended in (first, second, third):
        assert entry_hash(appended.entry) == appended.entry["hash"]
    head = await head_of(SLUG)
    assert head["seq"] == start + 3
    assert head["hash"] == third.entry["hash"]
    assert head["balance_fen"] == before["balance_fen"] + 5000 + 200 - 1200  # type: ignore[operator]
    assert head["raised_fen"] == before["raised_fen"] + 5200  # type: ignore[operator]
    assert head["spent_fen"] == before["spent_fen"] + 1200  # type: ignore[operator]
    assert head["donations_count"] == before["donations_count"] + 2  # type: ignore[operator]
    detail = await queries.get_project(SLUG)
    assert detail.ledger_head.hash == third.entry["hash"]
    assert detail.summary.balance.amount == head["balance_fen"]


@pytest.mark.usefixtures("project")
async def test_a_repeated_key_appends_nothing_and_returns_the_entry() -> None:
    first = await append(SLUG, donation(5000, "a"))
    entries = await LedgerEntry.count()
    again = await append(SLUG, donation(5000, "a"))
    assert not again.created
    assert again.entry == first.entry
    assert await LedgerEntry.count() == entries


@pytest.mark.usefixtures("project")
async def test_the_same_key_with_different_content_is_refused() -> None:
    await append(SLUG, donation(5000, "a"))
    with pytest.raises(IdempotencyConflict):
        await append(SLUG, donation(5001, "a"))


@pytest.mark.usefixtures("project")
async def test_an_overdraft_is_refused_and_nothing_is_written() -> None:
    head = await head_of(SLUG)
    entries, postings = await LedgerEntry.count(), await LedgerPosting.count()
    with pytest.raises(Overdraft):
        await append(SLUG, expenditure(int(head["balance_fen"]) + 1, "too-much"))  # type: ignore[call-overload]
    assert await LedgerEntry.count() == entries
    assert await LedgerPosting.count() == postings
    assert await head_of(SLUG) == head


@pytest.mark.usefixtures("project")
async def test_invalid_events_and_unknown_projects_write_nothing() -> None:
    entries = await LedgerEntry.count()
    unbalanced = LedgerEvent(
        EntryKind.DONATION,
        "x",
        "r",
        (Posting(f"fund:{SLUG}", 5), Posting("donors:online", -4)),
        "k",
    )
    with pytest.raises(InvalidEvent):
        await append(SLUG, unbalanced)
    with pytest.raises(NotFound):
        await append("no-such-project", donation(5, "x"))
    assert await LedgerEntry.count() == entries


def fee(amount: int, key: str) -> LedgerEvent:
    return LedgerEvent(
        kind=EntryKind.FEE,
        memo="支付手续费",
        ref=f"don_{key}",
        postings=(Posting(f"fund:{SLUG}", -amount), Posting("fees:sandbox", amount)),
        idempotency_key=f"fee:{key}",
    )


async def chain_verifies() -> bool:
    ledger = await find_ledger(SLUG)
    result = verify_entries([(None, entry) async for entry in iter_entries(ledger)], SLUG)
    return result.ok


@pytest.mark.usefixtures("project")
async def test_several_events_are_appended_in_order_under_one_lock() -> None:
    before = await head_of(SLUG)
    start = int(before["seq"])  # type: ignore[call-overload]
    appended = await append_all(SLUG, [donation(10_000, "pair", "王阿姨"), fee(60, "pair")])
    first, second = appended.results
    assert first.created
    assert second.created
    assert [first.entry["seq"], second.entry["seq"]] == [start + 1, start + 2]
    assert first.entry["prev"] == before["hash"]
    assert second.entry["prev"] == first.entry["hash"]
    assert [first.entry["kind"], second.entry["kind"]] == ["donation", "fee"]
    head = await head_of(SLUG)
    assert head["seq"] == start + 2
    assert head["hash"] == second.entry["hash"]
    assert head["balance_fen"] == before["balance_fen"] + 10_000 - 60  # type: ignore[operator]
    assert head["raised_fen"] == before["raised_fen"] + 10_000  # type: ignore[operator]
    assert head["donations_count"] == before["donations_count"] + 1  # type: ignore[operator]
    assert (appended.raised_fen, appended.balance_fen) == (head["raised_fen"], head["balance_fen"])
    ids = [
        row["id"]
        for row in await LedgerEntry.select(LedgerEntry.id).where(
            LedgerEntry.idempotency_key.is_in(["donation:pair", "fee:pair"])
        )
    ]
    assert await LedgerPosting.count().where(LedgerPosting.entry.is_in(ids)) == 4
    assert await entry_by_key(SLUG, "donation:pair") == first.entry
    assert await entry_by_key(SLUG, "fee:pair") == second.entry
    assert await entry_by_key(SLUG, "donation:none") is None
    assert await entry_by_key("yuelanshi", "donation:pair") is None
    assert await chain_verifies()


@pytest.mark.usefixtures("project")
async def test_a_repeated_batch_appends_nothing_and_a_partly_repeated_one_only_the_rest() -> None:
    done = await append(SLUG, donation(10_000, "pair"))
    entries = await LedgerEntry.count()
    appended = await append_all(SLUG, [donation(10_000, "pair"), fee(60, "pair")])
    repeated, posted = appended.results
    assert not repeated.created
    assert repeated.entry == done.entry
    assert posted.created
    assert posted.entry["seq"] == done.entry["seq"] + 1
    assert posted.entry["prev"] == done.entry["hash"]
    assert await LedgerEntry.count() == entries + 1
    again = await append_all(SLUG, [donation(10_000, "pair"), fee(60, "pair")])
    assert [r.created for r in again.results] == [False, False]
    assert [r.entry for r in again.results] == [done.entry, posted.entry]
    assert await LedgerEntry.count() == entries + 1
    head = await head_of(SLUG)
    assert (again.raised_fen, again.balance_fen) == (head["raised_fen"], head["balance_fen"])
    assert await chain_verifies()


@pytest.mark.usefixtures("project")
async def test_a_batch_is_written_whole_or_not_at_all() -> None:
    head = await head_of(SLUG)
    entries, postings = await LedgerEntry.count(), await LedgerPosting.count()
    balance = int(head["balance_fen"])  # type: ignore[call-overload]
    with pytest.raises(Overdraft):  # the second would overdraw the fund the first leaves
        await append_all(SLUG, [donation(100, "ok"), expenditure(balance + 101, "too-much")])
    unbalanced = LedgerEvent(
        EntryKind.FEE, "x", "r", (Posting(f"fund:{SLUG}", -5), Posting("fees:sandbox", 4)), "k"
    )
    with pytest.raises(InvalidEvent):  # every event is checked before anything is written
        await append_all(SLUG, [donation(100, "ok"), unbalanced])
    await append(SLUG, fee(60, "used"))
    with pytest.raises(IdempotencyConflict):  # a key reused for another event, second in line
        await append_all(SLUG, [donation(100, "ok"), fee(61, "used")])
    assert await LedgerEntry.count() == entries + 1  # the fee appended alone above
    assert await LedgerPosting.count() == postings + 2
    assert await entry_by_key(SLUG, "donation:ok") is None
    assert await chain_verifies()


@pytest.mark.usefixtures("project")
async def test_a_reversal_corrects_visibly_and_only_once() -> None:
    wrong = await append(SLUG, donation(8800, "typo"))
    before = await head_of(SLUG)
    reversed_once = await reverse(SLUG, wrong.entry["seq"], "金额录入错误")
    assert reversed_once.entry["kind"] == "reversal"
    assert reversed_once.entry["ref"] == wrong.entry["ref"]
    after = await head_of(SLUG)
    assert after["raised_fen"] == before["raised_fen"] - 8800  # type: ignore[operator]
    assert after["balance_fen"] == before["balance_fen"] - 8800  # type: ignore[operator]
    assert not (await reverse(SLUG, wrong.entry["seq"], "金额录入错误")).created
    with pytest.raises(IdempotencyConflict):
        await reverse(SLUG, wrong.entry["seq"], "另一个理由")
    with pytest.raises(InvalidEvent):
        await reverse(SLUG, wrong.entry["seq"], "  ")


async def test_a_new_project_starts_at_the_genesis_head(project: str) -> None:
    detail = await queries.get_project("yuelanshi")
    assert detail.ledger_head.seq >= 0
    fresh = await LedgerHead.select().where(LedgerHead.project.slug == "yuelanshi").first()
    assert fresh is not None
    if fresh["seq"] == 0:
        assert fresh["hash"] == GENESIS_HASH


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_entry SET memo = 'rewritten'",
        "DELETE FROM ledger_entry",
        "UPDATE ledger_posting SET amount = amount + 1",
        "DELETE FROM ledger_posting",
        "UPDATE ledger_head SET balance_fen = -1",
    ],
)
async def test_the_database_refuses_to_rewrite_history(project: str, statement: str) -> None:
    await append(SLUG, donation(100, "x"))
    engine = get_engine()
    with pytest.raises(Exception, match=r"append-only|below zero|check constraint|violates"):
        await engine.run_querystring(QueryString(statement))
    assert await LedgerEntry.count() > 0


@pytest.mark.postgres_only
@pytest.mark.parametrize("table", ["ledger_entry", "ledger_posting"])
async def test_postgres_refuses_truncate(project: str, table: str) -> None:
    await append(SLUG, donation(100, "x"))
    engine = get_engine()
    with pytest.raises(Exception, match="append-only"):
        await engine.run_querystring(QueryString(f"TRUNCATE {table} CASCADE"))
