"""Pure rules of spending: who may vote, when a quorum is reached, what may be proposed.

No database and no web: the services load the facts, call these, and write only when they
allow it. Unit tests exercise every rule here without a database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from linju.platform.kernel.errors import N_
from linju.projects.core.rules import ProjectStatus, committee_quorum

MAX_PAYEE_LENGTH = 200
MAX_PURPOSE_LENGTH = 300
MAX_REASON_LENGTH = 1000


class ExpenditureStatus(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    REJECTED = "rejected"
    PAID = "paid"
    WITHDRAWN = "withdrawn"


class MotionStatus(StrEnum):
    """A completion report or a cancellation put to the committee."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class Outcome(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class SubjectKind(StrEnum):
    """What a committee decision is about; one decision table and one tally serve all three."""

    EXPENDITURE = "expenditure"
    COMPLETION = "completion"
    CANCELLATION = "cancellation"


class LeftoverChoice(StrEnum):
    TRANSFER = "transfer"  # to the community's general fund
    FOLLOW_UP = "follow_up"  # stays in the fund for a named follow-up project


# Expenditure moves; anything not listed is refused.
EXPENDITURE_TRANSITIONS: dict[ExpenditureStatus, frozenset[ExpenditureStatus]] = {
    ExpenditureStatus.PROPOSED: frozenset(
        {ExpenditureStatus.APPROVED, ExpenditureStatus.REJECTED, ExpenditureStatus.WITHDRAWN}
    ),
    ExpenditureStatus.APPROVED: frozenset({ExpenditureStatus.PAID, ExpenditureStatus.WITHDRAWN}),
    ExpenditureStatus.REJECTED: frozenset(),
    ExpenditureStatus.PAID: frozenset(),
    ExpenditureStatus.WITHDRAWN: frozenset(),
}

# Project statuses in which money may be proposed and spent.
SPENDING_STATUSES = frozenset({ProjectStatus.FUNDED, ProjectStatus.IN_PROGRESS})


def quorum(committee_size: int) -> int:
    """Votes needed to decide: a majority of the whole committee, and never fewer than two
    (core's rule, which residents' voice's minutes share: `core.rules.committee_quorum`)."""
    return committee_quorum(committee_size)


def tally(committee_size: int, approvals: int, rejections: int) -> Outcome:
    """Approved at a quorum of approvals; rejected at a majority of rejections; else pending."""
    needed = quorum(committee_size)
    if approvals >= needed:
        return Outcome.APPROVED
    if rejections >= needed:
        return Outcome.REJECTED
    return Outcome.PENDING


def votes_short(committee_size: int, votes: int) -> int:
    """How many more votes of one kind (approvals, or rejections) decide a subject: the quorum
    less those cast; 0 once decided. What the member is told after voting (ADR 0024)."""
    return max(0, quorum(committee_size) - votes)


def can_move(current: ExpenditureStatus, target: ExpenditureStatus) -> bool:
    return target in EXPENDITURE_TRANSITIONS[current]


@dataclass(frozen=True, slots=True)
class Person:
    """Someone named on a proposal or on the committee: an account when known, always a name."""

    name: str
    account_id: int | None = None


def same_person(a: Person, b: Person) -> bool:
    """Compared by account and by name, so an unlinked seat cannot vote on its own proposal."""
    if a.account_id is not None and a.account_id == b.account_id:
        return True
    return normalise_name(a.name) != "" and normalise_name(a.name) == normalise_name(b.name)


def normalise_name(name: str) -> str:
    return "".join(name.split()).casefold()


def voting_problem(
    voter: Person,
    proposer: Person | None,
    payee: Person | None,
    already_voted: bool,
    decided: bool,
) -> str | None:
    """Why this committee member may not vote on this subject now (a message id), or None."""
    if decided:
        return N_("This proposal has already been decided")
    if proposer is not None and same_person(voter, proposer):
        return N_("The proposer cannot vote on their own proposal")
    if payee is not None and same_person(voter, payee):
        return N_("The payee cannot vote on a payment to themselves")
    if already_voted:
        return N_("You have already decided on this proposal")
    return None


def stands_aside(voter: Person, proposer: Person | None, payee: Person | None) -> str | None:
    """Why this member takes no part in deciding this subject at all (a message id), shown on
    their page instead of buttons that `voting_problem` would refuse; None when they may vote."""
    if payee is not None and same_person(voter, payee):
        return N_("You are the payee: you do not vote on this")
    if proposer is not None and same_person(voter, proposer):
        return N_("You are the proposer: you do not vote on this")
    return None


@dataclass(frozen=True, slots=True)
class LineFigures:
    """A budget line's plan and what is already spent and approved (unpaid) on it, in fen."""

    plan: int
    spent: int
    approved: int

    @property
    def remaining(self) -> int:
        return self.plan - self.spent - self.approved


def available(balance: int, approved_unpaid: int, refunding: int = 0) -> int:
    """What the committee may still approve: the fund's balance less approved but unpaid, less
    the refunds asked for and not yet posted (reserved for the donors, ADR 0015)."""
    return balance - approved_unpaid - refunding


def exceeds_line(line: LineFigures, amount: int) -> bool:
    return line.spent + line.approved + amount > line.plan


def proposal_problems(
    *,
    status: ProjectStatus,
    payee: str,
    purpose: str,
    amount: int,
    line: LineFigures,
    justification: str,
    available_now: int,
) -> dict[str, str]:
    """Everything wrong with a proposal, by form field (message ids); empty when it may go."""
    problems: dict[str, str] = {}
    if status not in SPENDING_STATUSES:
        problems["project"] = N_("Expenditures are proposed once fundraising is closed")
    if not payee.strip():
        problems["payee"] = N_("Name the payee")
    elif len(payee) > MAX_PAYEE_LENGTH:
        problems["payee"] = N_("The payee's name is longer than 200 characters")
    if not purpose.strip():
        problems["purpose"] = N_("Say what the money is for")
    elif len(purpose) > MAX_PURPOSE_LENGTH:
        problems["purpose"] = N_("The purpose is longer than 300 characters")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        problems["amount"] = N_("The amount must be more than zero")
    elif amount > available_now:
        problems["amount"] = N_("The amount is more than the fund has available")
    elif exceeds_line(line, amount) and not justification.strip():
        problems["justification"] = N_(
            "This goes over the budget line's plan: write a justification for the committee"
        )
    if len(justification) > MAX_REASON_LENGTH:
        problems["justification"] = N_("The justification is longer than 1000 characters")
    return problems


def reason_problem(reason: str) -> str | None:
    if not reason.strip():
        return N_("Give a reason")
    if len(reason) > MAX_REASON_LENGTH:
        return N_("The reason is longer than 1000 characters")
    return None


def approval_problem(amount: int, available_now: int) -> str | None:
    """An approving vote is refused when the fund cannot cover the amount any more."""
    if amount > available_now:
        return N_("The amount is more than the fund has available")
    return None


def becomes_in_progress(status: ProjectStatus) -> bool:
    """The first approved expenditure starts the work."""
    return status is ProjectStatus.FUNDED


def completion_problems(
    *,
    status: ProjectStatus,
    summary: str,
    unpaid_expenditures: int,
    leftover: int,
    choice: LeftoverChoice | None,
    follow_up: str,
) -> dict[str, str]:
    """A completion report may be filed for a project under way with nothing left in flight."""
    problems: dict[str, str] = {}
    if status is not ProjectStatus.IN_PROGRESS:
        problems["project"] = N_("Only a project under way can file a completion report")
    if not summary.strip():
        problems["summary"] = N_("Write a summary of what was done")
    if unpaid_expenditures:
        problems["expenditures"] = N_(
            "Pay, reject or withdraw every open expenditure before completing"
        )
    if leftover > 0:
        if choice is None:
            problems["leftover"] = N_("Say what happens to the money left over")
        elif choice is LeftoverChoice.FOLLOW_UP and not follow_up.strip():
            problems["follow_up"] = N_("Name the follow-up the money stays for")
    return problems


def cancellation_problem(status: ProjectStatus) -> str | None:
    if status not in {ProjectStatus.FUNDRAISING, ProjectStatus.FUNDED, ProjectStatus.DRAFT}:
        return N_("This project can no longer be cancelled")
    return None


def approved_unpaid(expenditures: Iterable[Mapping[str, Any]]) -> int:
    """What the committee approved and nobody has paid yet: it is no longer available."""
    return sum(
        r["amount_fen"] for r in expenditures if r["status"] == ExpenditureStatus.APPROVED.value
    )


def figures_by_line(
    plans: Mapping[int, int], expenditures: Iterable[Mapping[str, Any]]
) -> dict[int, LineFigures]:
    """Every budget line's plan, spent (paid) and approved-but-unpaid, by line id, from the
    project's expenditures (of any status: only approved and paid ones count)."""
    spent: dict[int, int] = {}
    approved: dict[int, int] = {}
    for row in expenditures:
        if row["status"] == ExpenditureStatus.PAID.value:
            target = spent
        elif row["status"] == ExpenditureStatus.APPROVED.value:
            target = approved
        else:
            continue
        target[row["budget_line"]] = target.get(row["budget_line"], 0) + row["amount_fen"]
    return {
        line_id: LineFigures(plan, spent.get(line_id, 0), approved.get(line_id, 0))
        for line_id, plan in plans.items()
    }
