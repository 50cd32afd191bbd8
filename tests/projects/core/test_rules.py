from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from linju.projects.core.rules import (
    TRANSITIONS,
    BudgetLinePlan,
    CommitteeRole,
    CommitteeSeat,
    Filing,
    ProjectStatus,
    budget_problems,
    can_transition,
    committee_problems,
    days_left,
    is_valid_slug,
    problem_list,
    publication_problems_by_field,
    takes_donations,
)
from tests.drafts import BARE_DRAFT_MISSING

S = ProjectStatus
LEGAL = {
    (S.DRAFT, S.FUNDRAISING),
    (S.DRAFT, S.CANCELLED),
    (S.FUNDRAISING, S.FUNDED),
    (S.FUNDRAISING, S.CANCELLED),
    (S.FUNDED, S.IN_PROGRESS),
    (S.FUNDED, S.CANCELLED),
    (S.IN_PROGRESS, S.COMPLETED),
}
SEATS = [
    CommitteeSeat("张建国", CommitteeRole.CHAIR, "管理"),
    CommitteeSeat("李敏", CommitteeRole.MEMBER, "法律"),
    CommitteeSeat("王师傅", CommitteeRole.MEMBER, "维修"),
]


@pytest.mark.parametrize("current", list(S))
@pytest.mark.parametrize("target", list(S))
def test_only_the_listed_lifecycle_moves_are_legal(current: S, target: S) -> None:
    assert can_transition(current, target) == ((current, target) in LEGAL)


def test_finished_projects_never_move_again() -> None:
    assert TRANSITIONS[S.COMPLETED] == frozenset()
    assert TRANSITIONS[S.CANCELLED] == frozenset()


@pytest.mark.parametrize("slug", ["tongqu-leyuan", "a", "a1", "room-2b"])
def test_valid_slugs(slug: str) -> None:
    assert is_valid_slug(slug)


@pytest.mark.parametrize("slug", ["", "-a", "a-", "A", "童趣", "a_b", "a b", "x" * 65, "a/b"])
def test_invalid_slugs(slug: str) -> None:
    assert not is_valid_slug(slug)


def test_budget_must_add_up_to_the_goal() -> None:
    lines = [BudgetLinePlan("跷跷板", 300_000), BudgetLinePlan("转椅", 900_000)]
    assert budget_problems(1_200_000, lines) == []
    assert budget_problems(1_200_001, lines) == ["The budget lines must add up to the goal"]


def test_budget_needs_lines_with_titles_and_positive_amounts() -> None:
    assert "The budget needs at least one line" in budget_problems(100, [])
    assert "Every budget line needs an amount above zero" in budget_problems(
        0, [BudgetLinePlan("x", 0)]
    )
    assert "Every budget line needs a title" in budget_problems(5, [BudgetLinePlan(" ", 5)])
    assert "The goal must be more than zero" in budget_problems(0, [])


def test_committee_needs_three_members_and_one_chair() -> None:
    assert committee_problems(SEATS) == []
    assert "The supervision committee needs at least three members" in committee_problems(SEATS[:2])
    no_chair = [CommitteeSeat(s.name, CommitteeRole.MEMBER, s.background) for s in SEATS]
    assert "The supervision committee needs exactly one chair" in committee_problems(no_chair)
    two_chairs = [*SEATS, CommitteeSeat("赵", CommitteeRole.CHAIR, "财务")]
    assert "The supervision committee needs exactly one chair" in committee_problems(two_chairs)
    blank = [*SEATS[:2], CommitteeSeat("王师傅", CommitteeRole.MEMBER, " ")]
    assert "Every committee member needs a background line" in committee_problems(blank)


def publication_problems(*args: Any, **kwargs: Any) -> list[str]:
    return problem_list(publication_problems_by_field(*args, **kwargs))


def test_publication_lists_every_problem_at_once() -> None:
    problems = publication_problems(100, [], [], date(2020, 1, 1), date(2026, 1, 1))
    assert "The budget needs at least one line" in problems
    assert "The supervision committee needs at least three members" in problems
    assert "The deadline is in the past" in problems
    assert publication_problems(5, [BudgetLinePlan("x", 5)], SEATS, None, date(2026, 1, 1)) == []


def test_each_problem_of_publication_belongs_to_the_draft_field_that_fixes_it() -> None:
    """A problem of the budget or the committee as a whole belongs to its rows' group; the one
    list is the same problems in the same order, each once (ADR 0038)."""
    chairless = [CommitteeSeat("王", CommitteeRole.MEMBER, "退休教师")]
    args = (0, [BudgetLinePlan("x", 5)], chairless, date(2020, 1, 1), date(2026, 1, 1))
    by_field = publication_problems_by_field(*args, Filing(), filing_required=True)
    assert by_field == {
        "goal": ["The goal must be more than zero"],
        "budget_rows": ["The budget lines must add up to the goal"],
        **{name: ms for name, ms in BARE_DRAFT_MISSING.items() if name != "budget_rows"},
    }
    listed = publication_problems(*args, Filing(), filing_required=True)
    assert listed == [m for ms in list(by_field.values())[:-1] for m in ms]  # the dates once
    assert (
        publication_problems_by_field(5, [BudgetLinePlan("x", 5)], SEATS, None, date.today()) == {}
    )


def test_days_left() -> None:
    assert days_left(None, date(2026, 1, 1)) is None
    assert days_left(date(2026, 1, 11), date(2026, 1, 1)) == 10
    assert days_left(date(2025, 12, 1), date(2026, 1, 1)) == 0


def test_donations_are_taken_while_fundraising_or_when_the_secretary_allows_more() -> None:
    assert takes_donations(S.FUNDRAISING, False)
    assert not takes_donations(S.FUNDED, False)
    assert takes_donations(S.FUNDED, True)
    for status in (S.DRAFT, S.IN_PROGRESS, S.COMPLETED, S.CANCELLED):
        assert not takes_donations(status, True)
