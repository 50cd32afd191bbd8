"""Pure domain rules: no database, no web. Services call these before they write anything."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from pypinyin import lazy_pinyin
from stdnum.cn import uscc
from stdnum.exceptions import ValidationError as NumberInvalid

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


# The draft form's fields a problem of publishing is shown beside (docs/adr/0038): a problem of
# the budget or the committee as a whole belongs to its rows' group.
GOAL_FIELD = "goal"
BUDGET_FIELD = "budget_rows"
COMMITTEE_FIELD = "committee_rows"
DEADLINE_FIELD = "deadline"
Finding = tuple[str, str]  # (the draft form's field, a message id)


def _budget_findings(goal_fen: int, lines: Sequence[BudgetLinePlan]) -> list[Finding]:
    findings: list[Finding] = []
    if goal_fen <= 0:
        findings.append((GOAL_FIELD, N_("The goal must be more than zero")))
    if not lines:
        findings.append((BUDGET_FIELD, N_("The budget needs at least one line")))
    if any(line.amount_fen <= 0 for line in lines):
        findings.append((BUDGET_FIELD, N_("Every budget line needs an amount above zero")))
    if any(not line.title.strip() for line in lines):
        findings.append((BUDGET_FIELD, N_("Every budget line needs a title")))
    if lines and sum(line.amount_fen for line in lines) != goal_fen:
        findings.append((BUDGET_FIELD, N_("The budget lines must add up to the goal")))
    return findings


def budget_problems(goal_fen: int, lines: Sequence[BudgetLinePlan]) -> list[str]:
    """Why a budget cannot be published as it is (message ids); empty when it can."""
    return [message for _, message in _budget_findings(goal_fen, lines)]


def _committee_findings(seats: Sequence[CommitteeSeat]) -> list[Finding]:
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
    return [(COMMITTEE_FIELD, problem) for problem in problems]


def committee_problems(seats: Sequence[CommitteeSeat]) -> list[str]:
    """A project cannot raise money without a real supervision committee."""
    return [message for _, message in _committee_findings(seats)]


@dataclass(frozen=True, slots=True)
class Filing:
    """A project's fundraising plan as filed on 慈善中国: its number (备案编号) and its dates."""

    number: str = ""
    starts_on: date | None = None
    ends_on: date | None = None


FILING_NUMBER_MISSING = N_(
    "Enter the filing number of the fundraising plan (备案编号 on 慈善中国) before publishing"
)
FILING_DATES_MISSING = N_("Enter the dates of the filed fundraising plan before publishing")


def filing_problems(filing: Filing, required: bool) -> dict[str, str]:
    """What keeps a project's filing from publishing, by the draft form's field; empty when the
    host does not require filing or the plan is filed (docs/adr/0027-host-and-fund.md)."""
    if not required:
        return {}
    problems: dict[str, str] = {}
    if not filing.number.strip():
        problems["filing_number"] = FILING_NUMBER_MISSING
    if filing.starts_on is None:
        problems["plan_starts_on"] = FILING_DATES_MISSING
    if filing.ends_on is None:
        problems["plan_ends_on"] = FILING_DATES_MISSING
    return problems


def publication_problems_by_field(
    goal_fen: int,
    lines: Sequence[BudgetLinePlan],
    seats: Sequence[CommitteeSeat],
    deadline: date | None,
    today: date,
    filing: Filing | None = None,
    filing_required: bool = False,
) -> dict[str, list[str]]:
    """Everything that stops a draft from starting to raise money, all at once, by the draft
    form's field that fixes it (`goal`, `budget_rows`, `committee_rows`, `deadline`, the
    filing's fields), in the order they are listed; empty when the draft can be published."""
    findings = _budget_findings(goal_fen, lines) + _committee_findings(seats)
    if deadline is not None and deadline < today:
        findings.append((DEADLINE_FIELD, N_("The deadline is in the past")))
    findings.extend(filing_problems(filing or Filing(), filing_required).items())
    by_field: dict[str, list[str]] = {}
    for name, message in findings:
        by_field.setdefault(name, []).append(message)
    return by_field


def problem_list(by_field: Mapping[str, Sequence[str]]) -> list[str]:
    """Every message of `by_field` once, in order (one problem may belong to two fields): the
    list a refusal shows, e.g. `problem_list(publication_problems_by_field(...))`."""
    return list(dict.fromkeys(message for messages in by_field.values() for message in messages))


# The host charity and each project's fund (docs/adr/0027-host-and-fund.md) ---------------------
MAX_FILING_NUMBER_LENGTH = 64
FILING_NUMBER_PATTERN = re.compile(r"^[0-9A-Za-z][0-9A-Za-z-]{3,63}$")
MAX_FUND_NAME_LENGTH = 200
MAX_PLATFORMS = 10


@dataclass(frozen=True, slots=True)
class HostDetails:
    """The platform's host: a charity registered with the civil-affairs authority."""

    name: str
    credit_code: str  # 统一社会信用代码, compact (18 characters, upper case)
    fundraising_qualified: bool  # 公募资格
    qualified_on: date | None  # the qualification's issue date
    registration_authority: str
    contact: str
    designated_platforms: tuple[str, ...] = ()
    filing_required: bool = True


def credit_code(text: str) -> str | None:
    """A 统一社会信用代码 as stored (compact, upper case), or None when it is not one: its
    length, its characters and its check character are checked by python-stdnum."""
    try:
        return str(uscc.validate(text))
    except NumberInvalid:
        return None


def host_problems(details: HostDetails, today: date) -> dict[str, str]:
    """Field → message id for everything wrong with the host's details, all at once."""
    problems: dict[str, str] = {}
    if not details.name.strip():
        problems["name"] = N_("Enter the charity's registered name")
    elif len(details.name) > 100:
        problems["name"] = N_("A name is at most 100 characters")
    if credit_code(details.credit_code) is None:
        problems["credit_code"] = N_(
            "This is not a valid unified social credit code (18 characters; the last one is "
            "a check character)"
        )
    if details.fundraising_qualified and details.qualified_on is None:
        problems["qualified_on"] = N_("Enter the date the qualification was issued")
    elif details.qualified_on is not None and details.qualified_on > today:
        problems["qualified_on"] = N_("The qualification cannot be issued in the future")
    if not details.registration_authority.strip():
        problems["registration_authority"] = N_(
            "Enter the civil-affairs authority the charity is registered with"
        )
    elif len(details.registration_authority) > 100:
        problems["registration_authority"] = N_("At most 100 characters")
    if not details.contact.strip():
        problems["contact"] = N_("Enter a telephone number or an address to reach the charity")
    elif len(details.contact) > 200:
        problems["contact"] = N_("At most 200 characters")
    if len(details.designated_platforms) > MAX_PLATFORMS or any(
        len(name) > 100 for name in details.designated_platforms
    ):
        problems["designated_platforms"] = N_(
            "At most 10 platforms, one a line, each at most 100 characters"
        )
    return problems


def platforms_from_text(text: str) -> tuple[str, ...]:
    """The designated platforms as typed: one a line (or separated by commas), blanks dropped."""
    parts = re.split(r"[\n,，、]+", text)
    return tuple(part.strip() for part in parts if part.strip())


def fund_name(host_name: str, community_name: str, title: str) -> str:
    """The name of a project's charity fund: 青山区慈善会·绿景苑社区童趣乐园项目基金."""
    base = f"{community_name.strip()}{title.strip()}项目基金"
    name = f"{host_name.strip()}·{base}" if host_name.strip() else base
    return name[:MAX_FUND_NAME_LENGTH]


def fund_problems(fund: str, filing: Filing) -> dict[str, str]:
    """The draft's fund and filing fields as typed (publishing needs more: `filing_problems`)."""
    problems: dict[str, str] = {}
    if len(fund) > MAX_FUND_NAME_LENGTH:
        problems["fund_name"] = N_("A fund's name is at most 200 characters")
    number = filing.number.strip()
    if number and not FILING_NUMBER_PATTERN.match(number):
        problems["filing_number"] = N_(
            "A filing number is 4 to 64 letters, digits and hyphens, as 慈善中国 shows it"
        )
    if filing.starts_on and filing.ends_on and filing.ends_on < filing.starts_on:
        problems["plan_ends_on"] = N_("The plan cannot end before it starts")
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


# How money was paid or received: a choice on the secretary's forms, stored as a code that each
# page names in its visitor's language; "other" stores the words typed beside it (ADR 0025).
PAYMENT_METHODS = ("transfer", "cash", "wechat", "alipay")
OTHER_METHOD = "other"


def payment_method_from_choice(choice: str, detail: str) -> str | None:
    """What is stored for a chosen method: its code, or for "other" the words typed beside it
    (spaces tidied); None when nothing usable was chosen or, for "other", nothing typed."""
    choice = choice.strip()
    if choice in PAYMENT_METHODS:
        return choice
    if choice == OTHER_METHOD:
        return " ".join(detail.split()) or None
    return None


# A project committee's quorum: spending's decisions (expenditures, motions) and residents'
# voice's sign-off of a project hearing's minutes (docs/adr/0034-hearing-minutes.md) use one rule.
MIN_QUORUM = 2


def committee_quorum(committee_size: int) -> int:
    """Votes needed to decide: a majority of the whole committee, and never fewer than two."""
    if committee_size <= 0:
        raise ValueError("a committee has members")
    return max(MIN_QUORUM, committee_size // 2 + 1)
