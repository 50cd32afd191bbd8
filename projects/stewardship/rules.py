"""The stewardship's rules: pure (no I/O), so they are tested without a database.

Offline gifts, matching pledges, in-kind help and progress updates: what a valid record is, how
much a pledge matches, when a project's disclosure (项目公示) is due and what its figures are.
"""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

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


MAX_UPDATE_LENGTH = 5000


MAX_UPDATE_PHOTOS = 6


# Disclosures (项目公示, docs/adr/0029-disclosures.md) --------------------------------------------
# 慈善组织信息公开办法: a public fundraising drive that runs more than six months is disclosed at
# least every three months, and in full within three months after it ends.

LONG_PLAN_MONTHS = 6
DISCLOSE_EVERY_MONTHS = 3
FINAL_WITHIN_MONTHS = 3
MAX_WHAT_WAS_DONE = 5000


class DisclosureKind(StrEnum):
    PERIODIC = "periodic"
    FINAL = "final"


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day when it has no such day
    (31 January + 1 month is 28 or 29 February)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


def plan_is_long(starts_on: date | None, ends_on: date | None) -> bool:
    """A filed plan that runs more than six months (counted from its own dates)."""
    if starts_on is None or ends_on is None:
        return False
    return ends_on > add_months(starts_on, LONG_PLAN_MONTHS)


@dataclass(frozen=True, slots=True)
class DisclosureDuty:
    """What the disclosure rules need to know about a project (dates are community dates)."""

    status: str
    plan_starts_on: date | None
    plan_ends_on: date | None
    opened_on: date  # the project's first day: the plan's start, else its publication
    completed_on: date | None = None
    last_published_on: date | None = None  # the latest disclosure's publication
    last_period_ends_on: date | None = None
    final_published: bool = False


@dataclass(frozen=True, slots=True)
class DueDisclosure:
    kind: DisclosureKind
    due_on: date


CLOSED_STATUSES = frozenset({ProjectStatus.DRAFT.value, ProjectStatus.CANCELLED.value})


def next_disclosure(duty: DisclosureDuty) -> DueDisclosure | None:
    """The disclosure the project owes next, or None.

    A completed project owes its final disclosure within three months of completion; one whose
    filed plan runs more than six months owes one at least every three months (from the plan's
    start, then from the last publication) until then. A draft, a cancelled project (settled by
    refunds, on its own page) and a project whose final disclosure is out owe nothing.
    """
    if duty.final_published or duty.status in CLOSED_STATUSES:
        return None
    if duty.status == ProjectStatus.COMPLETED.value and duty.completed_on is not None:
        return DueDisclosure(
            DisclosureKind.FINAL, add_months(duty.completed_on, FINAL_WITHIN_MONTHS)
        )
    if plan_is_long(duty.plan_starts_on, duty.plan_ends_on):
        anchor = duty.last_published_on or duty.plan_starts_on or duty.opened_on
        return DueDisclosure(DisclosureKind.PERIODIC, add_months(anchor, DISCLOSE_EVERY_MONTHS))
    return None


def is_overdue(due: DueDisclosure | None, today: date) -> bool:
    """Past its due date (the due date itself is still on time)."""
    return due is not None and today > due.due_on


def kind_to_publish(status: str) -> DisclosureKind:
    """A completed project's disclosure is its final one; any other is periodic."""
    return (
        DisclosureKind.FINAL if status == ProjectStatus.COMPLETED.value else DisclosureKind.PERIODIC
    )


def next_period_starts_on(duty: DisclosureDuty) -> date:
    """The day after the last disclosed period, or the project's first day: no gap, no overlap."""
    if duty.last_period_ends_on is not None:
        return duty.last_period_ends_on + timedelta(days=1)
    return duty.opened_on


@dataclass(frozen=True, slots=True)
class DisclosurePlan:
    """A disclosure as the secretary prepares it: its period and what was done in it."""

    starts_on: date
    ends_on: date
    what_was_done: str


def disclosure_problems(plan: DisclosurePlan, duty: DisclosureDuty, today: date) -> dict[str, str]:
    """What is wrong with publishing `plan` now; "" is about the project as a whole.

    A period has no longest length: the duty is how often a disclosure is published, so a late
    one catches up on everything since the last in one go rather than in several."""
    if duty.status in CLOSED_STATUSES:
        return {"": N_("Only a published, not cancelled project publishes disclosures")}
    if duty.final_published:
        return {"": N_("The final disclosure is published: there is nothing more to disclose")}
    problems: dict[str, str] = {}
    if plan.starts_on != next_period_starts_on(duty):
        problems["starts_on"] = N_(
            "The period starts the day after the last disclosed period ends (the first one on "
            "the project's first day): no gap, no overlap"
        )
    if plan.ends_on < plan.starts_on:
        problems["ends_on"] = N_("The period cannot end before it starts")
    elif plan.ends_on > today:
        problems["ends_on"] = N_("The period cannot end after today")
    elif (
        kind_to_publish(duty.status) is DisclosureKind.FINAL
        and duty.completed_on is not None
        and plan.ends_on < duty.completed_on
    ):
        problems["ends_on"] = N_("The final disclosure runs at least to the day of completion")
    if not plan.what_was_done.strip():
        problems["what_was_done"] = N_("Write what was done in this period")
    elif len(plan.what_was_done) > MAX_WHAT_WAS_DONE:
        problems["what_was_done"] = N_("At most 5,000 characters")
    return problems


@dataclass(frozen=True, slots=True)
class LineSpent:
    line_id: int | None  # None: an expenditure linked to no budget line the platform knows
    title: str
    spent_fen: int


@dataclass(frozen=True, slots=True)
class DisclosureFigures:
    """Money in and out over a stretch of the ledger, from its entries alone.

    Read from accounts, as ledger.md's figures are: gifts are what came from `donors:online`,
    `donors:offline` and `sponsor:` accounts (a reversal of one lowers it), refunds what went
    back to donors in `refund` entries, fees to `fees:`, spending to `payees` (by the budget
    line of the expenditure the entry's `ref` names), transfers to `community:` funds. So
    `closing = opening + online + offline + matching - refunds - fees - spent - transfers`.
    """

    currency: str
    opening_fen: int
    online_fen: int
    offline_fen: int
    matching_fen: int
    refunds_fen: int
    fees_fen: int
    spent: tuple[LineSpent, ...]
    transfers_fen: int
    closing_fen: int
    first_seq: int  # the first entry counted (head_seq + 1 when there is none)
    head_seq: int  # the last entry counted: the ledger head the figures were built from
    head_hash: str
    entries: int

    @property
    def money_in_fen(self) -> int:
        return self.online_fen + self.offline_fen + self.matching_fen - self.refunds_fen

    @property
    def spent_fen(self) -> int:
        return sum(line.spent_fen for line in self.spent)

    @property
    def money_out_fen(self) -> int:
        return self.fees_fen + self.spent_fen + self.transfers_fen

    def as_json(self) -> dict[str, Any]:
        """The snapshot kept with a published disclosure."""
        return {
            "currency": self.currency,
            "opening_fen": self.opening_fen,
            "online_fen": self.online_fen,
            "offline_fen": self.offline_fen,
            "matching_fen": self.matching_fen,
            "refunds_fen": self.refunds_fen,
            "fees_fen": self.fees_fen,
            "spent": [
                {"line_id": s.line_id, "title": s.title, "spent_fen": s.spent_fen}
                for s in self.spent
            ],
            "transfers_fen": self.transfers_fen,
            "closing_fen": self.closing_fen,
            "first_seq": self.first_seq,
            "head_seq": self.head_seq,
            "head_hash": self.head_hash,
            "entries": self.entries,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DisclosureFigures:
        return cls(
            **{k: v for k, v in data.items() if k != "spent"},
            spent=tuple(LineSpent(**s) for s in data["spent"]),
        )


def tally(
    entries: Sequence[Mapping[str, Any]],
    *,
    slug: str,
    currency: str,
    opening_fen: int,
    after_seq: int,
    after_hash: str,
    lines: Mapping[int, str],
    line_of_ref: Mapping[str, int],
) -> DisclosureFigures:
    """The figures of `entries` (public ledger entries, oldest first, following entry
    `after_seq`, whose hash is `after_hash`); `lines` are the budget lines' titles by id, in the
    plan's order, `line_of_ref` each expenditure's budget line by its public id."""
    fund = f"fund:{slug}"
    online = offline = matching = refunds = fees = transfers = balance = 0
    spent: dict[int | None, int] = dict.fromkeys(lines, 0)
    for entry in entries:
        refund = entry["kind"] == "refund"
        for posting in entry["postings"]:
            account, amount = posting["account"], int(posting["amount"])
            if account == fund:
                balance += amount
            elif account.startswith("donors:") and refund:
                refunds += amount
            elif account == "donors:online":
                online -= amount
            elif account == "donors:offline":
                offline -= amount
            elif account.startswith("sponsor:"):
                matching -= amount
            elif account.startswith("fees:"):
                fees += amount
            elif account == "payees":
                line = line_of_ref.get(entry["ref"])
                key = line if line in lines else None
                spent[key] = spent.get(key, 0) + amount
            elif account.startswith("community:"):
                transfers += amount
    last = entries[-1] if entries else None
    return DisclosureFigures(
        currency=currency,
        opening_fen=opening_fen,
        online_fen=online,
        offline_fen=offline,
        matching_fen=matching,
        refunds_fen=refunds,
        fees_fen=fees,
        spent=tuple(
            LineSpent(line_id, lines.get(line_id, "") if line_id is not None else "", fen)
            for line_id, fen in spent.items()
            if line_id is not None or fen
        ),
        transfers_fen=transfers,
        closing_fen=opening_fen + balance,
        first_seq=after_seq + 1,
        head_seq=int(last["seq"]) if last else after_seq,
        head_hash=str(last["hash"]) if last else after_hash,
        entries=len(entries),
    )
