"""The disclosure duty (项目公示) and its figures, as pure rules (docs/adr/0029-disclosures.md).

慈善组织信息公开办法: a drive longer than six months is disclosed at least every three months,
and every drive within three months after it ends.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from linju.projects.stewardship.rules import (
    DisclosureDuty,
    DisclosureFigures,
    DisclosureKind,
    DisclosurePlan,
    add_months,
    disclosure_problems,
    is_overdue,
    next_disclosure,
    next_period_starts_on,
    plan_is_long,
    tally,
)

START = date(2026, 1, 31)
TODAY = date(2026, 11, 28)


def duty(**changes: Any) -> DisclosureDuty:
    values: dict[str, Any] = {
        "status": "fundraising",
        "plan_starts_on": START,
        "plan_ends_on": date(2026, 12, 31),
        "opened_on": START,
    }
    values.update(changes)
    return DisclosureDuty(**values)


def test_months_are_added_to_the_calendar_and_clamped_to_the_months_end() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert add_months(date(2026, 5, 15), 6) == date(2026, 11, 15)


def test_a_plan_is_long_only_past_six_months_by_its_own_dates() -> None:
    assert not plan_is_long(date(2026, 1, 1), date(2026, 7, 1))  # exactly six months
    assert plan_is_long(date(2026, 1, 1), date(2026, 7, 2))
    assert not plan_is_long(None, date(2027, 1, 1))
    assert not plan_is_long(date(2026, 1, 1), None)


def test_a_long_plan_owes_one_every_three_months_from_its_start_then_each_publication() -> None:
    due = next_disclosure(duty())
    assert due is not None
    assert (due.kind, due.due_on) == (DisclosureKind.PERIODIC, date(2026, 4, 30))
    assert is_overdue(due, date(2026, 5, 1))
    assert not is_overdue(due, date(2026, 4, 30))  # the due day itself is on time
    later = next_disclosure(duty(last_published_on=date(2026, 9, 10)))
    assert later is not None
    assert later.due_on == date(2026, 12, 10)


def test_a_short_plan_owes_nothing_until_it_completes_and_then_a_final_one() -> None:
    short = duty(plan_ends_on=date(2026, 6, 30))
    assert next_disclosure(short) is None
    done = next_disclosure(duty(status="completed", completed_on=date(2026, 10, 15)))
    assert done is not None
    assert (done.kind, done.due_on) == (DisclosureKind.FINAL, date(2027, 1, 15))
    assert next_disclosure(duty(status="completed", completed_on=date(2026, 10, 15),
                                final_published=True)) is None  # fmt: skip


def test_drafts_and_cancelled_projects_owe_nothing() -> None:
    assert next_disclosure(duty(status="draft")) is None
    assert next_disclosure(duty(status="cancelled")) is None
    assert not is_overdue(None, TODAY)


def test_a_period_follows_the_last_one_and_names_what_is_wrong_beside_each_field() -> None:
    assert next_period_starts_on(duty()) == START
    after = duty(last_period_ends_on=date(2026, 4, 30), last_published_on=date(2026, 5, 2))
    assert next_period_starts_on(after) == date(2026, 5, 1)
    good = DisclosurePlan(date(2026, 5, 1), date(2026, 7, 31), "铺了地垫")
    assert disclosure_problems(good, after, TODAY) == {}
    overlap = DisclosurePlan(date(2026, 4, 30), date(2026, 7, 31), "铺了地垫")
    assert set(disclosure_problems(overlap, after, TODAY)) == {"starts_on"}
    gap = DisclosurePlan(date(2026, 5, 2), date(2026, 7, 31), "铺了地垫")
    assert set(disclosure_problems(gap, after, TODAY)) == {"starts_on"}
    future = DisclosurePlan(date(2026, 5, 1), TODAY + timedelta(days=1), "铺了地垫")
    assert set(disclosure_problems(future, after, TODAY)) == {"ends_on"}
    silent = DisclosurePlan(date(2026, 5, 1), date(2026, 7, 31), " \n ")
    assert set(disclosure_problems(silent, after, TODAY)) == {"what_was_done"}
    wordy = DisclosurePlan(date(2026, 5, 1), date(2026, 7, 31), "字" * 5001)
    assert set(disclosure_problems(wordy, after, TODAY)) == {"what_was_done"}


def test_the_final_one_runs_to_completion_and_nothing_follows_it() -> None:
    completed = duty(status="completed", completed_on=date(2026, 10, 15))
    early = DisclosurePlan(START, date(2026, 10, 14), "建成")
    assert set(disclosure_problems(early, completed, TODAY)) == {"ends_on"}
    assert (
        disclosure_problems(DisclosurePlan(START, date(2026, 10, 15), "建成"), completed, TODAY)
        == {}
    )
    closed = duty(status="completed", completed_on=date(2026, 10, 15), final_published=True)
    assert set(disclosure_problems(early, closed, TODAY)) == {""}
    assert set(disclosure_problems(early, duty(status="draft"), TODAY)) == {""}


def _entry(seq: int, kind: str, *postings: tuple[str, int], ref: str = "") -> dict[str, Any]:
    return {
        "seq": seq,
        "kind": kind,
        "ref": ref or f"r{seq}",
        "hash": f"{seq:064x}",
        "postings": [{"account": a, "amount": n, "currency": "CNY"} for a, n in postings],
    }


def test_the_figures_are_read_from_accounts_and_spending_by_budget_line() -> None:
    fund = "fund:p"
    entries = [
        _entry(4, "donation", (fund, 10_000), ("donors:online", -10_000)),
        _entry(5, "fee", (fund, -60), ("fees:sandbox", 60)),
        _entry(6, "offline_donation", (fund, 5_000), ("donors:offline", -5_000)),
        _entry(7, "matching", (fund, 3_000), ("sponsor:fulian", -3_000)),
        _entry(8, "refund", (fund, -2_000), ("donors:online", 2_000)),
        _entry(9, "expenditure", (fund, -4_000), ("payees", 4_000), ref="exp1"),
        _entry(10, "expenditure", (fund, -1_000), ("payees", 1_000), ref="unknown"),
        _entry(11, "reversal", (fund, 1_000), ("payees", -1_000), ref="unknown"),
        _entry(12, "transfer", (fund, -500), ("community:lvjingyuan", 500)),
    ]
    figures = tally(
        entries, slug="p", currency="CNY", opening_fen=700, after_seq=3, after_hash="a" * 64,
        lines={1: "跷跷板", 2: "转椅"}, line_of_ref={"exp1": 2},
    )  # fmt: skip
    assert (figures.online_fen, figures.offline_fen, figures.matching_fen) == (10_000, 5_000, 3_000)
    assert (figures.refunds_fen, figures.fees_fen, figures.transfers_fen) == (2_000, 60, 500)
    assert [(s.title, s.spent_fen) for s in figures.spent] == [("跷跷板", 0), ("转椅", 4_000)]
    assert figures.closing_fen == 700 + 10_000 - 60 + 5_000 + 3_000 - 2_000 - 4_000 - 500
    assert (figures.first_seq, figures.head_seq, figures.entries) == (4, 12, 9)
    assert figures.head_hash == f"{12:064x}"
    assert DisclosureFigures.from_json(figures.as_json()) == figures


def test_a_period_without_entries_keeps_the_head_it_followed() -> None:
    figures = tally(
        [], slug="p", currency="CNY", opening_fen=900, after_seq=7, after_hash="b" * 64,
        lines={1: "跷跷板"}, line_of_ref={},
    )  # fmt: skip
    assert (figures.head_seq, figures.head_hash, figures.first_seq) == (7, "b" * 64, 8)
    assert figures.closing_fen == figures.opening_fen == 900
    assert figures.money_in_fen == figures.money_out_fen == 0


KINDS = {
    "donation": ("donors:online", 1),
    "offline_donation": ("donors:offline", 1),
    "matching": ("sponsor:fulian", 1),
    "refund": ("donors:online", -1),
    "fee": ("fees:sandbox", -1),
    "expenditure": ("payees", -1),
    "transfer": ("community:c", -1),
}


@given(
    st.lists(
        st.tuples(st.sampled_from(sorted(KINDS)), st.integers(1, 10**9), st.booleans()),
        max_size=40,
    ),
    st.integers(0, 10**9),
)
def test_opening_plus_money_in_minus_money_out_is_the_closing_balance(
    events: list[tuple[str, int, bool]], opening: int
) -> None:
    entries = []
    for seq, (kind, amount, linked) in enumerate(events, start=1):
        account, sign = KINDS[kind]
        ref = "exp1" if linked else f"x{seq}"
        entries.append(
            _entry(seq, kind, ("fund:p", sign * amount), (account, -sign * amount), ref=ref)
        )
    figures = tally(
        entries, slug="p", currency="CNY", opening_fen=opening, after_seq=0, after_hash="0" * 64,
        lines={1: "跷跷板"}, line_of_ref={"exp1": 1},
    )  # fmt: skip
    assert figures.closing_fen == opening + figures.money_in_fen - figures.money_out_fen
    assert figures.closing_fen == opening + sum(e["postings"][0]["amount"] for e in entries)
    assert figures.entries == len(entries)
