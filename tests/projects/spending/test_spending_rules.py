"""The spending rules without a database: voting rights, quorum, proposals, the lifecycle."""

from __future__ import annotations

import pytest

from linju.projects.core.rules import ProjectStatus, can_transition, goal_reached
from linju.projects.spending.rules import (
    ExpenditureStatus,
    LeftoverChoice,
    LineFigures,
    Outcome,
    Person,
    approval_problem,
    approved_unpaid,
    available,
    becomes_in_progress,
    can_move,
    cancellation_problem,
    completion_problems,
    figures_by_line,
    proposal_problems,
    quorum,
    same_person,
    tally,
    voting_problem,
)

SECRETARY = Person("刘书记", 7)
PAYEE = Person("青山游乐设备厂")
MEMBER = Person("张建国", 3)


def vote(voter: Person, *, already: bool = False, decided: bool = False) -> str | None:
    return voting_problem(voter, SECRETARY, PAYEE, already_voted=already, decided=decided)


def test_a_member_who_is_neither_proposer_nor_payee_may_vote() -> None:
    assert vote(MEMBER) is None


@pytest.mark.parametrize(
    "voter",
    [Person("刘书记", None), Person("别名", 7), Person(" 刘 书记 ", None)],
    ids=["same name, no account", "same account, other name", "name with spaces"],
)
def test_the_proposer_cannot_vote(voter: Person) -> None:
    assert vote(voter) == "The proposer cannot vote on their own proposal"


def test_the_payee_cannot_vote_by_name_or_by_account() -> None:
    assert vote(Person("青山游乐设备厂", 9)) == "The payee cannot vote on a payment to themselves"
    payee_with_account = Person("王师傅", 5)
    problem = voting_problem(Person("W", 5), SECRETARY, payee_with_account, False, False)
    assert problem == "The payee cannot vote on a payment to themselves"


def test_a_second_vote_and_a_vote_on_a_decided_proposal_are_refused() -> None:
    assert vote(MEMBER, already=True) == "You have already decided on this proposal"
    assert vote(MEMBER, decided=True) == "This proposal has already been decided"


def test_empty_names_never_match() -> None:
    assert not same_person(Person(""), Person(""))


@pytest.mark.parametrize(
    ("size", "needed"), [(3, 2), (4, 3), (5, 3), (6, 4), (7, 4), (8, 5), (9, 5)]
)
def test_quorum_is_a_majority_of_the_committee_and_at_least_two(size: int, needed: int) -> None:
    assert quorum(size) == needed
    assert tally(size, needed, 0) is Outcome.APPROVED
    assert tally(size, needed - 1, 0) is Outcome.PENDING


@pytest.mark.parametrize("size", range(3, 10))
def test_a_majority_of_rejections_rejects(size: int) -> None:
    needed = quorum(size)
    assert tally(size, 0, needed) is Outcome.REJECTED
    assert tally(size, 0, needed - 1) is Outcome.PENDING
    assert tally(size, 1, needed - 1) is Outcome.PENDING


def test_quorum_is_never_below_two() -> None:
    assert quorum(1) == 2
    assert quorum(2) == 2
    assert tally(1, 1, 0) is Outcome.PENDING
    with pytest.raises(ValueError, match="committee"):
        quorum(0)


def test_available_is_the_balance_less_approved_but_unpaid() -> None:
    assert available(1_200_000, 500_000) == 700_000
    assert approval_problem(700_000, 700_000) is None
    assert approval_problem(700_001, 700_000) == "The amount is more than the fund has available"


LINE = LineFigures(plan=500_000, spent=100_000, approved=200_000)


def propose(**changes: object) -> dict[str, str]:
    fields: dict[str, object] = {
        "status": ProjectStatus.FUNDED,
        "payee": "青山游乐设备厂",
        "purpose": "跷跷板两台",
        "amount": 200_000,
        "line": LINE,
        "justification": "",
        "available_now": 1_000_000,
    }
    fields.update(changes)
    return proposal_problems(**fields)  # type: ignore[arg-type]


def test_a_proposal_within_the_line_and_the_fund_is_accepted() -> None:
    assert LINE.remaining == 200_000
    assert propose() == {}


def test_over_the_line_needs_a_written_justification() -> None:
    assert propose(amount=200_001) == {
        "justification": (
            "This goes over the budget line's plan: write a justification for the committee"
        )
    }
    assert propose(amount=200_001, justification="价格上涨，见报价单") == {}
    assert "justification" in propose(amount=200_001, justification="   ")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount": 0}, "amount"),
        ({"amount": -5}, "amount"),
        ({"amount": 1_000_001}, "amount"),
        ({"payee": " "}, "payee"),
        ({"purpose": ""}, "purpose"),
        ({"status": ProjectStatus.FUNDRAISING}, "project"),
        ({"status": ProjectStatus.COMPLETED}, "project"),
    ],
)
def test_bad_proposals_name_the_field(changes: dict[str, object], field: str) -> None:
    assert field in propose(**changes)


def test_an_amount_over_what_is_available_is_refused_even_with_justification() -> None:
    problems = propose(amount=300_000, available_now=250_000, justification="急需")
    assert problems == {"amount": "The amount is more than the fund has available"}


@pytest.mark.parametrize(
    ("current", "target", "legal"),
    [
        (ExpenditureStatus.PROPOSED, ExpenditureStatus.APPROVED, True),
        (ExpenditureStatus.PROPOSED, ExpenditureStatus.REJECTED, True),
        (ExpenditureStatus.PROPOSED, ExpenditureStatus.WITHDRAWN, True),
        (ExpenditureStatus.APPROVED, ExpenditureStatus.WITHDRAWN, True),
        (ExpenditureStatus.APPROVED, ExpenditureStatus.PAID, True),
        (ExpenditureStatus.PROPOSED, ExpenditureStatus.PAID, False),
        (ExpenditureStatus.PAID, ExpenditureStatus.WITHDRAWN, False),
        (ExpenditureStatus.REJECTED, ExpenditureStatus.APPROVED, False),
        (ExpenditureStatus.WITHDRAWN, ExpenditureStatus.APPROVED, False),
        (ExpenditureStatus.REJECTED, ExpenditureStatus.PAID, False),
    ],
)
def test_expenditure_moves(
    current: ExpenditureStatus, target: ExpenditureStatus, legal: bool
) -> None:
    assert can_move(current, target) is legal


@pytest.mark.parametrize(
    ("current", "target", "legal"),
    [
        (ProjectStatus.FUNDRAISING, ProjectStatus.FUNDED, True),
        (ProjectStatus.FUNDED, ProjectStatus.IN_PROGRESS, True),
        (ProjectStatus.IN_PROGRESS, ProjectStatus.COMPLETED, True),
        (ProjectStatus.FUNDRAISING, ProjectStatus.CANCELLED, True),
        (ProjectStatus.FUNDED, ProjectStatus.CANCELLED, True),
        (ProjectStatus.FUNDRAISING, ProjectStatus.IN_PROGRESS, False),
        (ProjectStatus.FUNDED, ProjectStatus.COMPLETED, False),
        (ProjectStatus.COMPLETED, ProjectStatus.IN_PROGRESS, False),
        (ProjectStatus.CANCELLED, ProjectStatus.FUNDRAISING, False),
        (ProjectStatus.IN_PROGRESS, ProjectStatus.FUNDED, False),
    ],
)
def test_lifecycle_moves(current: ProjectStatus, target: ProjectStatus, legal: bool) -> None:
    assert can_transition(current, target) is legal


def test_only_the_first_approval_of_a_funded_project_starts_the_work() -> None:
    assert becomes_in_progress(ProjectStatus.FUNDED)
    assert not becomes_in_progress(ProjectStatus.IN_PROGRESS)


def complete(**changes: object) -> dict[str, str]:
    fields: dict[str, object] = {
        "status": ProjectStatus.IN_PROGRESS,
        "summary": "两台跷跷板已安装",
        "unpaid_expenditures": 0,
        "leftover": 0,
        "choice": None,
        "follow_up": "",
    }
    fields.update(changes)
    return completion_problems(**fields)  # type: ignore[arg-type]


def test_completion_report_rules() -> None:
    assert complete() == {}
    assert "project" in complete(status=ProjectStatus.FUNDED)
    assert "summary" in complete(summary=" ")
    assert "expenditures" in complete(unpaid_expenditures=1)
    assert "leftover" in complete(leftover=100)
    assert complete(leftover=100, choice=LeftoverChoice.TRANSFER) == {}
    assert "follow_up" in complete(leftover=100, choice=LeftoverChoice.FOLLOW_UP)
    assert complete(leftover=100, choice=LeftoverChoice.FOLLOW_UP, follow_up="二期：遮阳棚") == {}


def test_cancellation_only_before_the_work_starts() -> None:
    assert cancellation_problem(ProjectStatus.FUNDRAISING) is None
    assert cancellation_problem(ProjectStatus.FUNDED) is None
    assert cancellation_problem(ProjectStatus.IN_PROGRESS) is not None
    assert cancellation_problem(ProjectStatus.COMPLETED) is not None


def test_the_goal_reached_ends_fundraising() -> None:
    assert goal_reached(ProjectStatus.FUNDRAISING, 1_200_000, 1_200_000)
    assert goal_reached(ProjectStatus.FUNDRAISING, 1_200_001, 1_200_000)
    assert not goal_reached(ProjectStatus.FUNDRAISING, 1_199_999, 1_200_000)
    assert not goal_reached(ProjectStatus.FUNDED, 1_300_000, 1_200_000)


def test_line_figures_count_paid_as_spent_and_approved_as_committed_only() -> None:
    expenditures = [
        {"budget_line": 1, "status": "paid", "amount_fen": 30_000},
        {"budget_line": 1, "status": "approved", "amount_fen": 5_000},
        {"budget_line": 1, "status": "proposed", "amount_fen": 9_999},
        {"budget_line": 2, "status": "rejected", "amount_fen": 7_000},
        {"budget_line": 2, "status": "withdrawn", "amount_fen": 1_000},
        {"budget_line": 2, "status": "approved", "amount_fen": 2_000},
    ]
    figures = figures_by_line({1: 50_000, 2: 20_000, 3: 8_000}, expenditures)
    assert figures == {
        1: LineFigures(plan=50_000, spent=30_000, approved=5_000),
        2: LineFigures(plan=20_000, spent=0, approved=2_000),
        3: LineFigures(plan=8_000, spent=0, approved=0),
    }
    assert figures[1].remaining == 15_000
    assert approved_unpaid(expenditures) == 7_000
    assert approved_unpaid([]) == 0
