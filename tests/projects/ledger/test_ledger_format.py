"""The ledger's public format: canonical bytes against a vector written by hand, and the rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from linju.platform.kernel.errors import Conflict, RuleViolation
from linju.projects.ledger.format import (
    GENESIS_HASH,
    EntryKind,
    canonical_bytes,
    entry_hash,
    figures_delta,
    format_at,
    is_known_account,
    public_entry,
)
from linju.projects.ledger.services import (
    IdempotencyConflict,
    InvalidEvent,
    LedgerEvent,
    Overdraft,
    Posting,
    reversal_of,
    validate_event,
)

# Written by hand from ledger.md: keys sorted, no white space, non-ASCII as itself.
KNOWN_CANONICAL = (
    '{"at":"2026-11-23T08:15:30.123456Z","kind":"donation","memo":"王阿姨",'
    '"postings":[{"account":"fund:tongqu-leyuan","amount":5000,"currency":"CNY"},'
    '{"account":"donors:online","amount":-5000,"currency":"CNY"}],'
    '"prev":"0000000000000000000000000000000000000000000000000000000000000000",'
    '"project":"tongqu-leyuan","ref":"don_7Hq2xK9","seq":1}'
).encode()
KNOWN_HASH = "6ed165423c7e3b1e28febd864a6c05eda883b20538658f6832607de3f9cda2c2"


def known_entry() -> dict[str, object]:
    return {
        "project": "tongqu-leyuan",
        "seq": 1,
        "at": "2026-11-23T08:15:30.123456Z",
        "kind": "donation",
        "memo": "王阿姨",
        "ref": "don_7Hq2xK9",
        "postings": [
            {"account": "fund:tongqu-leyuan", "amount": 5000, "currency": "CNY"},
            {"account": "donors:online", "amount": -5000, "currency": "CNY"},
        ],
        "prev": GENESIS_HASH,
    }


def test_canonical_bytes_match_the_hand_written_vector() -> None:
    entry = known_entry()
    assert canonical_bytes(entry) == KNOWN_CANONICAL
    assert entry_hash(entry) == KNOWN_HASH
    entry["hash"] = KNOWN_HASH
    assert canonical_bytes(entry) == KNOWN_CANONICAL  # `hash` is never part of its own input


def test_public_entry_builds_the_same_object() -> None:
    built = public_entry(
        project="tongqu-leyuan",
        seq=1,
        at="2026-11-23T08:15:30.123456Z",
        kind="donation",
        memo="王阿姨",
        ref="don_7Hq2xK9",
        postings=known_entry()["postings"],  # type: ignore[arg-type]
        prev=GENESIS_HASH,
    )
    assert built == {**known_entry(), "hash": KNOWN_HASH}
    assert list(built) == [
        "project",
        "seq",
        "at",
        "kind",
        "memo",
        "ref",
        "postings",
        "prev",
        "hash",
    ]


def test_times_are_utc_with_microseconds() -> None:
    moment = datetime(2026, 11, 23, 16, 15, 30, 123456, tzinfo=timezone(timedelta(hours=8)))
    assert format_at(moment) == "2026-11-23T08:15:30.123456Z"
    assert format_at(datetime(2026, 1, 1, tzinfo=UTC)) == "2026-01-01T00:00:00.000000Z"
    with pytest.raises(ValueError, match="timezone"):
        format_at(datetime(2026, 1, 1))


@pytest.mark.parametrize(
    "account",
    [
        "fund:tongqu-leyuan",
        "donors:online",
        "donors:offline",
        "sponsor:qu-fulian",
        "fees:stripe",
        "fees:sandbox",
        "payees",
        "community:lvjingyuan",
    ],
)
def test_known_accounts(account: str) -> None:
    assert is_known_account(account)


@pytest.mark.parametrize(
    "account", ["fund:", "donors:cash", "cash", "payees:x", "fund:Bad", "sponsor:a b", ""]
)
def test_unknown_accounts(account: str) -> None:
    assert not is_known_account(account)


def test_figures_come_from_accounts() -> None:
    slug = "p"
    donation = [
        {"account": "fund:p", "amount": 500, "currency": "CNY"},
        {"account": "donors:online", "amount": -500, "currency": "CNY"},
    ]
    fee = [
        {"account": "fund:p", "amount": -6, "currency": "CNY"},
        {"account": "fees:stripe", "amount": 6, "currency": "CNY"},
    ]
    spend = [
        {"account": "fund:p", "amount": -300, "currency": "CNY"},
        {"account": "payees", "amount": 300, "currency": "CNY"},
    ]
    match = [
        {"account": "fund:p", "amount": 200, "currency": "CNY"},
        {"account": "sponsor:fulian", "amount": -200, "currency": "CNY"},
    ]
    assert figures_delta(donation, slug) == (500, 500, 0)
    assert figures_delta(fee, slug) == (-6, 0, 0)
    assert figures_delta(spend, slug) == (-300, 0, 300)
    assert figures_delta(match, slug) == (200, 200, 0)
    refund = [{**p, "amount": -p["amount"]} for p in donation]  # type: ignore[operator]
    assert figures_delta(refund, slug) == (-500, -500, 0)


def event(*postings: Posting, kind: EntryKind = EntryKind.DONATION) -> LedgerEvent:
    return LedgerEvent(kind=kind, memo="匿名", ref="don_1", postings=postings, idempotency_key="k1")


GOOD = (Posting("fund:p", 100), Posting("donors:online", -100))


def test_a_balanced_event_is_valid() -> None:
    validate_event(event(*GOOD), "p", "CNY")


@pytest.mark.parametrize(
    ("postings", "message"),
    [
        ((Posting("fund:p", 100),), "two or more postings"),
        ((Posting("fund:p", 100), Posting("donors:online", -99)), "sum to zero"),
        ((Posting("fund:p", 1.5), Posting("donors:online", -1.5)), "whole numbers"),  # type: ignore[arg-type]
        ((Posting("fund:p", True), Posting("donors:online", -1)), "whole numbers"),
        ((Posting("fund:p", 0), Posting("donors:online", 0)), "zero moves nothing"),
        ((Posting("fund:p", 100), Posting("cash", -100)), "Unknown ledger account"),
        ((Posting("fund:q", 100), Posting("donors:online", -100)), "own project's fund"),
        ((Posting("fund:p", 100, "USD"), Posting("donors:online", -100, "USD")), "kept in"),
        ((Posting("fund:p", 100), Posting("donors:online", -100, "cny")), "ISO 4217"),
        ((Posting("sponsor:a", 100), Posting("donors:online", -100)), "must move its fund"),
    ],
)
def test_bad_events_are_refused(postings: tuple[Posting, ...], message: str) -> None:
    with pytest.raises(InvalidEvent) as raised:
        validate_event(event(*postings), "p", "CNY")
    assert message in str(raised.value)


def test_text_limits() -> None:
    with pytest.raises(InvalidEvent):
        validate_event(LedgerEvent(EntryKind.DONATION, "x" * 501, "r", GOOD, "k"), "p", "CNY")
    with pytest.raises(InvalidEvent):
        validate_event(LedgerEvent(EntryKind.DONATION, "m", "", GOOD, "k"), "p", "CNY")
    with pytest.raises(InvalidEvent):
        validate_event(LedgerEvent(EntryKind.DONATION, "m", "r", GOOD, ""), "p", "CNY")
    with pytest.raises(InvalidEvent):
        validate_event(LedgerEvent(EntryKind.DONATION, "\ud800", "r", GOOD, "k"), "p", "CNY")


def test_reversal_negates_every_posting_and_names_the_entry() -> None:
    original = {**known_entry(), "hash": KNOWN_HASH}
    reversal = reversal_of(original, "录入错误", "rev-1")
    assert reversal.kind is EntryKind.REVERSAL
    assert reversal.ref == "don_7Hq2xK9"
    assert "#1" in reversal.memo
    assert [p.amount for p in reversal.postings] == [-5000, 5000]
    with pytest.raises(InvalidEvent):
        reversal_of({**original, "kind": "reversal"}, "x", "rev-2")


def test_error_classes_map_to_http_statuses() -> None:
    assert issubclass(InvalidEvent, RuleViolation)
    assert issubclass(Overdraft, Conflict)
    assert issubclass(IdempotencyConflict, Conflict)
