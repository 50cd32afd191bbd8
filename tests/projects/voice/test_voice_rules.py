"""The pure rules of residents' voice: addresses and their CSV, codes, needs' states, supports,
the threshold and the answer's deadline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from linju.projects.voice import rules
from linju.projects.voice.rules import Channel, HouseholdAddress, NeedStatus, NeedText


def test_addresses_are_short_words_without_names() -> None:
    assert rules.address_problems(HouseholdAddress("2", "1", "301")) == {}
    assert rules.address_problems(HouseholdAddress("2号楼", "", "301")) == {}
    assert set(rules.address_problems(HouseholdAddress("", "1", "301"))) == {"building"}
    assert set(rules.address_problems(HouseholdAddress("2", "1 单元", "x" * 17))) == {
        "unit",
        "room",
    }


def test_a_csv_gives_every_bad_line_with_its_number() -> None:
    text = "building,unit,room\n2,1,301\n,1,302\n2,1,301\n2,1\n\n3,,101\n"
    addresses, problems = rules.parse_households_csv(text)
    assert [line for line, _ in addresses] == [2, 7]
    assert [(p.line, p.message) for p in problems] == [
        (3, "Enter the building: up to 16 letters or digits"),
        (4, "This household is listed twice"),
        (5, "A line has three cells: building,unit,room"),
    ]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("", 1, "The file is empty"),
        ("room,unit,building\n1,1,1\n", 1, "The first line must be: building,unit,room"),
        ("building,unit,room\n", 2, "The file lists no household"),
    ],
)
def test_a_csv_without_households_is_refused(text: str, line: int, message: str) -> None:
    addresses, problems = rules.parse_households_csv(text)
    assert addresses == []
    assert [(p.line, p.message) for p in problems] == [(line, message)]


def test_a_csv_may_start_with_a_byte_order_mark() -> None:
    addresses, problems = rules.parse_households_csv("\ufeffbuilding,unit,room\n1,2,3\n")
    assert problems == []
    assert addresses == [(2, HouseholdAddress("1", "2", "3"))]


def test_codes_are_random_and_read_as_typed() -> None:
    codes = {rules.new_code() for _ in range(200)}
    assert len(codes) == 200
    code = next(iter(codes))
    assert len(code) == rules.CODE_LENGTH
    assert set(code) <= set(rules.CODE_ALPHABET)
    typed = " " + rules.grouped_code(code).lower() + " "
    assert rules.code_digest(typed) == rules.code_digest(code)
    assert rules.code_digest(code) != code
    assert len(rules.code_digest(code)) == 64


def test_code_throttle_per_address_and_per_community() -> None:
    assert not rules.code_throttled(rules.MAX_CODE_FAILURES_PER_ADDRESS - 1, 0)
    assert rules.code_throttled(rules.MAX_CODE_FAILURES_PER_ADDRESS, 0)
    assert rules.code_throttled(0, rules.MAX_CODE_FAILURES_PER_COMMUNITY)


@pytest.mark.parametrize(
    ("current", "target", "allowed"),
    [
        (NeedStatus.OPEN, NeedStatus.UNDER_REVIEW, True),
        (NeedStatus.OPEN, NeedStatus.WITHDRAWN, True),
        (NeedStatus.OPEN, NeedStatus.ACCEPTED, False),
        (NeedStatus.OPEN, NeedStatus.DECLINED, False),
        (NeedStatus.UNDER_REVIEW, NeedStatus.ACCEPTED, True),
        (NeedStatus.UNDER_REVIEW, NeedStatus.DECLINED, True),
        (NeedStatus.UNDER_REVIEW, NeedStatus.WITHDRAWN, True),
        (NeedStatus.ACCEPTED, NeedStatus.WITHDRAWN, False),
        (NeedStatus.DECLINED, NeedStatus.ACCEPTED, False),
        (NeedStatus.WITHDRAWN, NeedStatus.UNDER_REVIEW, False),
    ],
)
def test_need_transitions(current: NeedStatus, target: NeedStatus, allowed: bool) -> None:
    assert (rules.transition_problem(current, target) is None) is allowed


def test_need_text() -> None:
    assert rules.need_problems(NeedText("儿童游乐场", "想要滑梯", "2号楼")) == {}
    assert set(rules.need_problems(NeedText(" ", "", "x" * 201))) == {"title", "body", "place"}
    assert set(rules.need_problems(NeedText("x" * 101, "y" * 2001, ""))) == {"title", "body"}
    assert rules.decline_problems("") == {"reason": "Give the residents a reason"}
    assert rules.decline_problems("预算不足") == {}


def test_supports_while_open_withdrawn_online_only_while_open() -> None:
    assert rules.support_problem(NeedStatus.OPEN) is None
    for status in (NeedStatus.UNDER_REVIEW, NeedStatus.ACCEPTED, NeedStatus.WITHDRAWN):
        assert rules.support_problem(status) == "This need no longer takes supports"
    assert rules.withdraw_support_problem(NeedStatus.OPEN, Channel.ONLINE) is None
    assert rules.withdraw_support_problem(NeedStatus.UNDER_REVIEW, Channel.ONLINE)
    assert rules.withdraw_support_problem(NeedStatus.OPEN, Channel.PAPER)


def test_threshold_rounds_up_and_is_at_least_one() -> None:
    assert rules.review_threshold(0, 5) == 1
    assert rules.review_threshold(10, 5) == 1
    assert rules.review_threshold(21, 5) == 2
    assert rules.review_threshold(1360, 5) == 68
    assert rules.settings_problems(5, 14) == {}
    assert set(rules.settings_problems(0, 91)) == {"threshold_percent", "answer_days"}
    assert set(rules.settings_problems(None, None)) == {"threshold_percent", "answer_days"}


def test_an_answer_is_late_after_its_days() -> None:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    due = rules.answer_due(start, 14)
    assert due == start + timedelta(days=14)
    assert not rules.answer_late(NeedStatus.UNDER_REVIEW, due, due)
    assert rules.answer_late(NeedStatus.UNDER_REVIEW, due, due + timedelta(seconds=1))
    assert not rules.answer_late(NeedStatus.ACCEPTED, due, due + timedelta(days=9))
