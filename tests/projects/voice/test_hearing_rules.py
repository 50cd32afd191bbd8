"""The pure rules of hearings: questions, the window, the state from the clock, a ballot checked
against the questions, the tally (with properties) and the turnout's rounding."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linju.projects.voice import rules
from linju.projects.voice.rules import (
    HearingState,
    HearingWindow,
    QuestionDraft,
    QuestionKind,
    QuestionSpec,
)

NOW = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
SITE = QuestionSpec(1, QuestionKind.SINGLE, 1, (11, 12))
EQUIPMENT = QuestionSpec(2, QuestionKind.MULTIPLE, 2, (21, 22, 23))


def test_a_question_has_text_2_to_10_distinct_options_and_a_fitting_maximum() -> None:
    good = QuestionDraft("设施", QuestionKind.MULTIPLE, 2, ("跷跷板", "转转椅", "秋千"))
    assert rules.question_problems(good) == []
    assert rules.question_problems(QuestionDraft("", QuestionKind.SINGLE, 1, ("a", "b"))) == [
        "Ask the question"
    ]
    assert rules.question_problems(QuestionDraft("q" * 201, QuestionKind.SINGLE, 1, ("a", "b")))
    assert rules.question_problems(QuestionDraft("q", QuestionKind.SINGLE, 1, ("a",))) == [
        "A question needs at least 2 options"
    ]
    eleven = tuple(str(n) for n in range(11))
    assert rules.question_problems(QuestionDraft("q", QuestionKind.MULTIPLE, 2, eleven)) == [
        "A question can have at most 10 options"
    ]
    assert rules.question_problems(QuestionDraft("q", QuestionKind.SINGLE, 1, ("a", "a"))) == [
        "Two options of a question are the same"
    ]
    assert rules.question_problems(QuestionDraft("q", QuestionKind.SINGLE, 1, ("a", "b" * 101)))
    assert rules.question_problems(QuestionDraft("q", QuestionKind.SINGLE, 2, ("a", "b"))) == [
        "A single-choice question has one choice"
    ]
    for most in (0, 3):
        assert rules.question_problems(QuestionDraft("q", QuestionKind.MULTIPLE, most, ("a", "b")))
    assert rules.question_problems(QuestionDraft("q", QuestionKind.MULTIPLE, 2, ("a", "b"))) == []


def test_the_window_opens_now_or_later_closes_after_and_lasts_at_most_60_days() -> None:
    def window(opens: timedelta, lasts: timedelta, place: str = "") -> HearingWindow:
        return HearingWindow(NOW + opens, NOW + opens + lasts, None, place)

    assert rules.window_problems(window(timedelta(0), timedelta(days=7)), NOW) == {}
    assert rules.window_problems(window(timedelta(seconds=-59), timedelta(days=1)), NOW) == {}
    assert rules.window_problems(window(timedelta(minutes=-2), timedelta(days=1)), NOW) == {
        "opens_at": "A hearing cannot open in the past"
    }
    assert rules.window_problems(window(timedelta(0), timedelta(0)), NOW) == {
        "closes_at": "A hearing closes after it opens"
    }
    assert rules.window_problems(window(timedelta(0), timedelta(days=60)), NOW) == {}
    assert rules.window_problems(window(timedelta(0), timedelta(days=60, seconds=1)), NOW) == {
        "closes_at": "A hearing lasts at most 60 days"
    }
    assert rules.window_problems(window(timedelta(0), timedelta(days=1), "长廊"), NOW) == {
        "meeting_at": "Give the meeting's time"
    }


def test_the_state_follows_the_clock_until_the_tally_is_written() -> None:
    opens, closes = NOW, NOW + timedelta(days=1)
    assert rules.hearing_state(opens, closes, None, NOW - timedelta(1)) is HearingState.SCHEDULED
    assert rules.hearing_state(opens, closes, None, NOW) is HearingState.OPEN
    assert rules.hearing_state(opens, closes, None, closes) is HearingState.CLOSING
    assert rules.hearing_state(opens, closes, closes, closes) is HearingState.CLOSED
    assert rules.vote_problem(HearingState.OPEN) is None
    assert rules.vote_problem(HearingState.SCHEDULED) == "This hearing is not open yet"
    assert rules.vote_problem(HearingState.CLOSING) == "This hearing is closed"
    assert rules.vote_problem(HearingState.CLOSED) == "This hearing is closed"


def test_a_ballot_answers_every_question_within_its_options_and_maximum() -> None:
    questions = [SITE, EQUIPMENT]
    assert rules.choice_problems(questions, {1: {11}, 2: {21, 23}}) == {}
    assert rules.choice_problems(questions, {1: {11, 12}, 2: {21, 22, 23}}) == {
        1: "Choose one answer",
        2: "Too many answers: see how many this question allows",
    }
    assert rules.choice_problems(questions, {1: {21}}) == {
        1: "Choose among this question's options",
        2: "Choose an answer",
    }
    assert rules.choice_problems(questions, {1: {11}, 2: {21}, 9: {91}}) == {9: "No such question"}


ballots = st.lists(
    st.tuples(st.sampled_from(SITE.option_ids), st.sets(st.sampled_from(EQUIPMENT.option_ids))),
    max_size=50,
)


@given(ballots)
def test_the_tally_counts_each_ballot_once_per_chosen_option(
    cast: list[tuple[int, set[int]]],
) -> None:
    as_choices = [[(1, site)] + [(2, option) for option in equipment] for site, equipment in cast]
    counts = rules.tally([SITE, EQUIPMENT], as_choices)
    assert set(counts) == {11, 12, 21, 22, 23}  # every option, chosen or not
    assert counts[11] + counts[12] == len(cast)  # a single choice: one vote a ballot
    for option in EQUIPMENT.option_ids:
        assert counts[option] == sum(1 for _, equipment in cast if option in equipment)
    assert counts == rules.tally([SITE, EQUIPMENT], list(reversed(as_choices)))  # order-free


def test_a_choice_repeated_or_unknown_is_not_counted_twice() -> None:
    assert rules.tally([SITE], [[(1, 11), (1, 11), (1, 99)]]) == {11: 1, 12: 0}


@given(st.integers(min_value=0, max_value=10_000), st.integers(min_value=1, max_value=10_000))
def test_the_turnout_is_the_whole_percent_nearest_half_up(ballots: int, households: int) -> None:
    percent = rules.turnout_percent(ballots, households)
    assert percent is not None
    exact = 100 * ballots / households
    assert abs(percent - exact) <= 0.5
    assert percent == int(exact + 0.5) or abs(exact + 0.5 - round(exact + 0.5)) < 1e-9


def test_the_turnout_examples_and_a_community_without_households() -> None:
    assert rules.turnout_percent(2, 3) == 67
    assert rules.turnout_percent(1, 8) == 13  # 12.5 rounds up
    assert rules.turnout_percent(1, 200) == 1  # 0.5 rounds up
    assert rules.turnout_percent(0, 10) == 0
    assert rules.turnout_percent(0, 0) is None


def test_a_local_time_is_read_in_beijing_time_and_bounded() -> None:
    assert rules.local_moment("2026-12-01T19:30") == datetime(2026, 12, 1, 11, 30, tzinfo=UTC)
    assert rules.local_moment(" 2026-12-01T19:30:05 ") == datetime(
        2026, 12, 1, 11, 30, 5, tzinfo=UTC
    )
    bad = ("", "2026-12-01", "2026-12-01 19:30", "１２", "2101-01-01T00:00", "2026-13-01T00:00")
    for text in bad:
        with pytest.raises(ValueError, match=f"^{re.escape(text)}$"):
            rules.local_moment(text)
