"""Pure domain rules: no database, no web. Services call these before they write anything."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from pypinyin import lazy_pinyin

from linju.platform.kernel.errors import N_

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
MIN_COMMITTEE_SIZE = 3
MAX_TITLE_LENGTH = 200


class ProjectStatus(StrEnum):
    DRAFT = "draft"
    FUNDRAISING = "fundraising"
    FUNDED = "funded"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class CommitteeRole(StrEnum):
    CHAIR = "chair"
    MEMBER = "member"


# Every legal move of a project's lifecycle. Anything not listed is refused.
TRANSITIONS: dict[ProjectStatus, frozenset[ProjectStatus]] = {
    ProjectStatus.DRAFT: frozenset({ProjectStatus.FUNDRAISING, ProjectStatus.CANCELLED}),
    ProjectStatus.FUNDRAISING: frozenset({ProjectStatus.FUNDED, ProjectStatus.CANCELLED}),
    ProjectStatus.FUNDED: frozenset({ProjectStatus.IN_PROGRESS, ProjectStatus.CANCELLED}),
    ProjectStatus.IN_PROGRESS: frozenset({ProjectStatus.COMPLETED}),
    ProjectStatus.COMPLETED: frozenset(),
    ProjectStatus.CANCELLED: frozenset(),
}


def can_transition(current: ProjectStatus, target: ProjectStatus) -> bool:
    return target in TRANSITIONS[current]


def is_valid_slug(slug: str) -> bool:
    """Lowercase ASCII letters, digits and inner hyphens: safe in URLs and ledger account names."""
    return bool(SLUG_PATTERN.match(slug))


SLUG_BASE_LENGTH = 56  # leaves room for a suffix (`-99`) within the 64 characters of a slug


def slug_from_title(title: str) -> str:
    """A project's address proposed from its title: Chinese by its pinyin (童趣乐园 →
    `tong-qu-le-yuan`), other letters and digits as they are, lowercase, joined by hyphens; cut
    at a hyphen to leave room for a suffix; `project` when nothing is left."""
    words = " ".join(lazy_pinyin(title[:MAX_TITLE_LENGTH])).lower()
    slug = re.sub(r"[^a-z0-9]+", "-", words).strip("-")
    while len(slug) > SLUG_BASE_LENGTH:
        cut = slug.rfind("-", 0, SLUG_BASE_LENGTH + 1)
        slug = slug[:cut] if cut > 0 else slug[:SLUG_BASE_LENGTH]
    return slug.strip("-") or "project"


def slug_with_suffix(base: str, taken: set[str]) -> str:
    """`base`, or `base-2`, `base-3`… the first that is not taken."""
    candidate, number = base, 1
    while candidate in taken:
        number += 1
        candidate = f"{base}-{number}"
    return candidate


@dataclass(frozen=True, slots=True)
class BudgetLinePlan:
    title: str
    amount_fen: int


@dataclass(frozen=True, slots=True)
class CommitteeSeat:
    name: str
    role: CommitteeRole
    background: str


def budget_problems(goal_fen: int, lines: Sequence[BudgetLinePlan]) -> list[str]:
    """Why a budget cannot be published as it is (message ids); empty when it can."""
    problems: list[str] = []
    if goal_fen <= 0:
        problems.append(N_("The goal must be more than zero"))
    if not lines:
        problems.append(N_("The budget needs at least one line"))
    if any(line.amount_fen <= 0 for line in lines):
        problems.append(N_("Every budget line needs an amount above zero"))
    if any(not line.title.strip() for line in lines):
        problems.append(N_("Every budget line needs a title"))
    if lines and sum(line.amount_fen for line in lines) != goal_fen:
        problems.append(N_("The budget lines must add up to the goal"))
    return problems


def committee_problems(seats: Sequence[CommitteeSeat]) -> list[str]:
    """A project cannot raise money without a real supervision committee."""
    problems: list[str] = []
    if len(seats) < MIN_COMMITTEE_SIZE:
        problems.append(N_("The supervision committee needs at least three members"))
    chairs = sum(1 for seat in seats if seat.role is CommitteeRole.CHAIR)
    if chairs != 1:
        problems.append(N_("The supervision committee needs exactly one chair"))
    if any(not seat.name.strip() for seat in seats):
        problems.append(N_("Every committee member needs a name"))
    if any(not seat.background.strip() for seat in seats):
        problems.append(N_("Every committee member needs a background line"))
    return problems


def publication_problems(
    goal_fen: int,
    lines: Sequence[BudgetLinePlan],
    seats: Sequence[CommitteeSeat],
    deadline: date | None,
    today: date,
) -> list[str]:
    """Everything that stops a draft from starting to raise money, all at once."""
    problems = budget_problems(goal_fen, lines) + committee_problems(seats)
    if deadline is not None and deadline < today:
        problems.append(N_("The deadline is in the past"))
    return problems


NOT_TAKING_DONATIONS = N_("This project is not taking donations.")


def takes_donations(status: ProjectStatus, accepts_when_funded: bool) -> bool:
    """May this project take money now? The one rule for every way money comes in: an online
    donation, an offline gift, a sponsor's matching pledge (and the project page, which offers
    the donate form by it). While fundraising; once funded, only if the project said so."""
    return status is ProjectStatus.FUNDRAISING or (
        status is ProjectStatus.FUNDED and accepts_when_funded
    )


def days_left(deadline: date | None, today: date) -> int | None:
    """Whole days until the deadline, never negative; None when there is no deadline."""
    if deadline is None:
        return None
    return max(0, (deadline - today).days)


def goal_reached(status: ProjectStatus, raised: int, goal: int) -> bool:
    """A fundraising project whose donations reached the goal is funded."""
    return status is ProjectStatus.FUNDRAISING and goal > 0 and raised >= goal
