"""The stewardship's rules: pure (no I/O), so they are tested without a database.

Offline gifts, matching pledges, in-kind help and progress updates: what a valid record is, how
much a pledge matches, when a project's disclosure is overdue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from linju.platform.kernel.errors import N_
from linju.projects.core.rules import PAYMENT_METHODS, ProjectStatus, is_valid_slug

KINDS = ("labour", "goods", "space")


HOURS_PER_DAY = 8


@dataclass(frozen=True, slots=True)
class InKindGift:
    kind: str
    contributor: str
    description: str
    labour_hours: int = 0
    estimated_value_fen: int = 0
    location: str = ""


def in_kind_problems(gift: InKindGift) -> dict[str, str]:
    problems: dict[str, str] = {}
    if gift.kind not in KINDS:
        problems["kind"] = N_("Choose labour, goods or space")
    if not gift.contributor.strip() or len(gift.contributor) > 100:
        problems["contributor"] = N_("Enter who gave it (at most 100 characters)")
    if not gift.description.strip() or len(gift.description) > 300:
        problems["description"] = N_("Describe it (at most 300 characters)")
    if gift.kind == "labour" and not (1 <= gift.labour_hours <= 100_000):
        problems["labour_hours"] = N_("Enter the hours of work")
    if gift.kind == "goods" and gift.estimated_value_fen < 0:
        problems["estimated_value"] = N_("Enter the estimated value in yuan")
    if gift.kind == "space" and (not gift.location.strip() or len(gift.location) > 200):
        problems["location"] = N_("Enter where the space is")
    return problems


def match_amount(amount_fen: int, ratio_num: int, ratio_den: int, room_fen: int) -> int:
    """The sponsor's share of a donation (rounded down to the fen), never beyond the room left."""
    return max(0, min(amount_fen * ratio_num // ratio_den, room_fen))


@dataclass(frozen=True, slots=True)
class PledgePlan:
    sponsor_slug: str
    sponsor_name: str
    ratio_num: int
    ratio_den: int
    cap_fen: int
    starts_at: datetime
    ends_at: datetime
    letter_url: str = ""  # a stored photo of the sponsor's letter (/photos/...)
    letter_sha256: str = ""


# A sponsor gives at least 1 yuan for every 10 residents give and at most 3 for every 1, in whole
# numbers up to 10 (docs/adr/0019-pledges-two-people.md): beyond that a "matching" entry would be
# the sponsor's money wearing the residents' name.
RATIO_TERM_MAX = 10
RATIO_MAX = (3, 1)
RATIO_MIN = (1, 10)


def ratio_in_bounds(ratio_num: int, ratio_den: int) -> bool:
    """Whole terms from 1 to 10, and between 1:10 and 3:1."""
    if not (1 <= ratio_num <= RATIO_TERM_MAX and 1 <= ratio_den <= RATIO_TERM_MAX):
        return False
    return (
        ratio_num * RATIO_MAX[1] <= RATIO_MAX[0] * ratio_den
        and ratio_num * RATIO_MIN[1] >= RATIO_MIN[0] * ratio_den
    )


def pledge_problems(plan: PledgePlan, *, goal_fen: int) -> dict[str, str]:
    """What is wrong with a pledge for a project whose goal is `goal_fen`."""
    problems: dict[str, str] = {}
    if not is_valid_slug(plan.sponsor_slug):
        problems["sponsor_slug"] = N_("A slug uses lowercase letters, digits and hyphens")
    if not plan.sponsor_name.strip() or len(plan.sponsor_name) > 100:
        problems["sponsor_name"] = N_("A sponsor needs a name of at most 100 characters")
    if not ratio_in_bounds(plan.ratio_num, plan.ratio_den):
        problems["ratio"] = N_("The ratio must be between 1:10 and 3:1 (whole numbers up to 10)")
    if plan.cap_fen <= 0:
        problems["cap"] = N_("The cap must be more than zero")
    elif plan.cap_fen > goal_fen:
        problems["cap"] = N_("The cap cannot be more than the project's goal")
    if plan.ends_at <= plan.starts_at:
        problems["ends_at"] = N_("The window must end after it starts")
    if not plan.letter_url:
        problems["letter"] = N_("Add a photo of the sponsor's letter")
    return problems


MAX_REASON_LENGTH = 1000


def pledge_decision_problems(confirm: bool, reason: str) -> dict[str, str]:
    """A committee member confirms a pledge, or rejects it with a reason the secretary reads."""
    if len(reason) > MAX_REASON_LENGTH:
        return {"reason": N_("A reason can have at most 1000 characters")}
    if not confirm and not reason.strip():
        return {"reason": N_("Give a reason")}
    return {}


def second_person_problem(recorded_by: int, confirmers: tuple[int | None, ...]) -> str | None:
    """A record one person made (an offline gift, a pledge) is confirmed by somebody else: none
    of the confirming identities (their account, the account of their committee seat) may be
    the recorder's. `None` is an identity without an account (the command line)."""
    if any(who is not None and who == recorded_by for who in confirmers):
        return N_("Someone other than the recorder must confirm it")
    return None


ANONYMOUS = "匿名"


METHODS = PAYMENT_METHODS  # an offline gift's "how": one of the codes (ADR 0025)


@dataclass(frozen=True, slots=True)
class OfflineGift:
    amount_fen: int
    donor_name: str
    anonymous: bool
    received_on: date
    method: str
    evidence_url: str  # a stored photo (/photos/...), checked before this is built
    evidence_sha256: str


def gift_problems(gift: OfflineGift, *, max_fen: int, today: date) -> dict[str, str]:
    """What is wrong with an offline gift; `max_fen` is the largest single gift, `today` the
    community's date."""
    problems: dict[str, str] = {}
    if gift.amount_fen < 100:
        problems["amount"] = N_("The amount must be at least ¥1")
    elif gift.amount_fen > max_fen:
        problems["amount"] = N_("The amount is over the platform's maximum")
    if not gift.anonymous and not gift.donor_name.strip():
        problems["donor_name"] = N_("Enter the donor's name, or tick anonymous")
    if len(gift.donor_name) > 100:
        problems["donor_name"] = N_("A name can have at most 100 characters")
    if gift.received_on > today:
        problems["received_on"] = N_("The date is in the future")
    if gift.method not in METHODS:
        problems["method"] = N_("Choose how the money was received")
    if not gift.evidence_url:
        problems["evidence"] = N_("Add a photo of the evidence")
    return problems


DISCLOSURE_DAYS = 90


MAX_UPDATE_LENGTH = 5000


MAX_UPDATE_PHOTOS = 6


def disclosure_overdue(
    status: str, status_changed_at: datetime, last_update_at: datetime | None, now: datetime
) -> bool:
    """In progress for three months (or three months since the last update) without news."""
    if status != ProjectStatus.IN_PROGRESS.value:
        return False
    since = max(status_changed_at, last_update_at) if last_update_at else status_changed_at
    return now - since > timedelta(days=DISCLOSURE_DAYS)
