"""Random sequences of valid and invalid events through the real append service keep every
invariant of ledger.md; refused events write nothing.

Each example gets a fresh project (a unique slug) instead of an emptied database.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linju.projects.ledger import read as ledger_read
from linju.projects.ledger.check import verify_project
from linju.projects.ledger.format import EntryKind, fund_account
from linju.projects.ledger.services import (
    IdempotencyConflict,
    InvalidEvent,
    LedgerEvent,
    Overdraft,
    Posting,
    append,
    reverse,
)
from linju.projects.ledger.tables import LedgerEntry, LedgerHead, LedgerPosting
from linju.projects.ledger.verify import verify_entries
from tests.projects.ledger.ledger_support import donation, expenditure, fee, new_project

pytestmark = pytest.mark.usefixtures("db")
_slugs = itertools.count(1)

amounts = st.integers(min_value=1, max_value=50_000)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("donation"), amounts),
        st.tuples(st.just("fee"), st.integers(1, 3_000)),
        st.tuples(st.just("expenditure"), st.integers(1, 80_000)),
        st.tuples(st.just("reversal"), st.integers(0, 50)),
        st.tuples(st.just("repeat"), st.integers(0, 50)),
        st.tuples(st.just("conflict"), st.integers(0, 50)),
        st.tuples(st.just("unbalanced"), amounts),
        st.tuples(st.just("foreign_fund"), amounts),
    ),
    min_size=1,
    max_size=14,
)


@dataclass
class Model:
    """What the ledger should hold, computed independently of the service."""

    slug: str
    balance: int = 0
    raised: int = 0
    spent: int = 0
    donations: int = 0
    entries: list[dict[str, Any]] = field(default_factory=list)  # appended, in order
    sent: list[LedgerEvent] = field(default_factory=list)  # events that were appended
    reversed_seqs: set[int] = field(default_factory=set)


def _fund_delta(slug: str, postings: Any) -> int:
    fund = fund_account(slug)
    return sum(
        p["amount"] if isinstance(p, dict) else p.amount
        for p in postings
        if (p["account"] if isinstance(p, dict) else p.account) == fund
    )


async def _counts(slug: str) -> tuple[int, int, dict[str, Any]]:
    entries = await LedgerEntry.count().where(LedgerEntry.project.slug == slug)
    postings = await LedgerPosting.count().where(LedgerPosting.entry.project.slug == slug)  # type: ignore[union-attr]
    head = await LedgerHead.select().where(LedgerHead.project.slug == slug).first()
    assert head is not None
    return entries, postings, head


async def _expect_refusal(model: Model, error: type[Exception], call: Any) -> None:
    before = await _counts(model.slug)
    with pytest.raises(error):
        await call
    assert await _counts(model.slug) == before, "a refused event wrote something"


async def _apply(model: Model, name: str, value: int, step: int) -> None:
    slug = model.slug
    if name in ("donation", "fee", "expenditure"):
        builder = {"donation": donation, "fee": fee, "expenditure": expenditure}[name]
        event = builder(slug, value, f"s{step}")
        delta = _fund_delta(slug, event.postings)
        if model.balance + delta < 0:
            await _expect_refusal(model, Overdraft, append(slug, event))
            return
        appended = await append(slug, event)
        assert appended.created
        model.balance += delta
        model.raised += value if name == "donation" else 0
        model.spent += value if name == "expenditure" else 0
        model.donations += 1 if name == "donation" else 0
        model.entries.append(appended.entry)
        model.sent.append(event)
    elif name == "repeat" and model.sent:
        index = value % len(model.sent)
        again = await append(slug, model.sent[index])
        assert not again.created
        original = next(
            e
            for e in model.entries
            if e["ref"] == model.sent[index].ref and e["kind"] == model.sent[index].kind.value
        )
        assert again.entry == original
    elif name == "conflict" and model.sent:
        sent = model.sent[value % len(model.sent)]
        different = LedgerEvent(
            kind=sent.kind,
            memo=sent.memo + "（改）",
            ref=sent.ref,
            postings=sent.postings,
            idempotency_key=sent.idempotency_key,
        )
        await _expect_refusal(model, IdempotencyConflict, append(slug, different))
    elif name == "reversal" and model.entries:
        target = model.entries[value % len(model.entries)]
        seq = target["seq"]
        if target["kind"] == EntryKind.REVERSAL.value:
            await _expect_refusal(model, InvalidEvent, reverse(slug, seq, "记错了"))
            return
        if seq in model.reversed_seqs:
            again = await reverse(slug, seq, "记错了")
            assert not again.created
            return
        delta = -_fund_delta(slug, target["postings"])
        if model.balance + delta < 0:
            await _expect_refusal(model, Overdraft, reverse(slug, seq, "记错了"))
            return
        appended = await reverse(slug, seq, "记错了")
        assert appended.created
        assert appended.entry["ref"] == target["ref"]
        model.balance += delta
        if target["kind"] == EntryKind.DONATION.value:
            model.raised += delta
        if target["kind"] == EntryKind.EXPENDITURE.value:
            model.spent -= delta
        model.entries.append(appended.entry)
        model.reversed_seqs.add(seq)
    elif name == "unbalanced":
        event = LedgerEvent(
            kind=EntryKind.DONATION,
            memo="不平衡",
            ref=f"don_u{step}",
            postings=(Posting(fund_account(slug), value), Posting("donors:online", -value + 1)),
            idempotency_key=f"donation:{slug}:u{step}",
        )
        await _expect_refusal(model, InvalidEvent, append(slug, event))
    elif name == "foreign_fund":
        event = LedgerEvent(
            kind=EntryKind.DONATION,
            memo="别的项目",
            ref=f"don_f{step}",
            postings=(Posting("fund:other-project", value), Posting("donors:online", -value)),
            idempotency_key=f"donation:{slug}:f{step}",
        )
        await _expect_refusal(model, InvalidEvent, append(slug, event))


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations)
async def test_random_events_keep_every_invariant(ops: list[tuple[str, int]]) -> None:
    model = Model(slug=await new_project(f"prop-{next(_slugs)}"))
    for step, (name, value) in enumerate(ops):
        await _apply(model, name, value, step)

    ledger = await ledger_read.find_ledger(model.slug)
    stored = [entry async for entry in ledger_read.iter_entries(ledger)]
    assert stored == model.entries
    assert [entry["seq"] for entry in stored] == list(range(1, len(stored) + 1))
    running = 0
    for entry in stored:
        totals: dict[str, int] = {}
        for posting in entry["postings"]:
            totals[posting["currency"]] = totals.get(posting["currency"], 0) + posting["amount"]
        assert set(totals.values()) <= {0}
        running += _fund_delta(model.slug, entry["postings"])
        assert running >= 0
    result = verify_entries(((None, entry) for entry in stored), project=model.slug)
    assert result.ok, result.fault
    assert (result.state.balance, result.state.raised, result.state.spent) == (
        model.balance,
        model.raised,
        model.spent,
    )
    assert result.state.donations_count == model.donations
    checked = await verify_project(model.slug)  # chain + head row == fold of the entries
    assert checked.ok, checked.fault
    _, _, head = await _counts(model.slug)
    assert (head["seq"], head["balance_fen"], head["raised_fen"], head["spent_fen"]) == (
        len(stored),
        model.balance,
        model.raised,
        model.spent,
    )
