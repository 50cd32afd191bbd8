"""The read side of the committee member's inbox, /committee: everything that awaits THEM,
across their projects (docs/adr/0021-finding-your-way.md).

Per seat: expenditures to decide, completion reports and cancellation motions, matching pledges
and offline gifts to confirm, each with what the decision needs on one screen (amounts, the
budget line, the fund's balance and what is available, the attachments). What the member may
not act on is still listed, with the reason in place of the buttons (`aside`): the payee and the
proposer of an expenditure, the filer of a motion, the recorder of a gift or a pledge, and a
gift to a project that takes no money any more.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from linju.platform.accounts.tables import Account
from linju.platform.kernel.errors import N_, Conflict, NotFound
from linju.platform.kernel.money import Money
from linju.projects.core import read as queries
from linju.projects.core.rules import takes_donations
from linju.projects.core.tables import CommitteeMember
from linju.projects.spending.read import ExpenditureView, MotionView, SpendingView, spending_view
from linju.projects.spending.rules import (
    ExpenditureStatus,
    Person,
    SubjectKind,
    stands_aside,
    votes_short,
)
from linju.projects.spending.tables import Expenditure, Motion
from linju.projects.stewardship.services import matching
from linju.projects.stewardship.tables import OfflineDonation

OWN_GIFT = N_("You recorded this gift: another committee member confirms it.")
OWN_PLEDGE = N_("You recorded this pledge: another committee member confirms it.")
NO_MONEY_NOW = N_("This project no longer takes money: this gift cannot be confirmed.")


@dataclass(frozen=True, slots=True)
class SeatWork:
    """One of the member's projects and what awaits their decision there."""

    project: queries.ProjectDetail
    seat_id: int
    seat: Person
    account_id: int
    spending: SpendingView
    pledges: list[dict[str, Any]]  # matching pledges waiting for a second person
    gifts: list[dict[str, Any]]  # offline gifts waiting for a second person
    people: dict[str, tuple[Person, Person]] = field(default_factory=dict)  # proposer, payee
    filers: dict[int, Person] = field(default_factory=dict)  # a motion's filer

    def awaiting(self) -> list[ExpenditureView]:
        return [
            e
            for e in self.spending.expenditures
            if e.status is ExpenditureStatus.PROPOSED
            and all(d.member_id != self.seat_id for d in e.decisions)
        ]

    def motions(self) -> list[MotionView]:
        return [
            m
            for m in self.spending.motions
            if m.status == "pending" and all(d.member_id != self.seat_id for d in m.decisions)
        ]

    def aside(self, e: ExpenditureView) -> str | None:
        """Why the member does not vote on this expenditure (a message id), or None."""
        proposer, payee = self.people.get(e.public_id, (None, None))
        return stands_aside(self.seat, proposer, payee)

    def motion_aside(self, m: MotionView) -> str | None:
        return stands_aside(self.seat, self.filers.get(m.id), None)

    def pledge_aside(self, pledge: dict[str, Any]) -> str | None:
        return OWN_PLEDGE if pledge["recorded_by"] == self.account_id else None

    def gift_aside(self, gift: dict[str, Any]) -> str | None:
        if gift["recorded_by"] == self.account_id:
            return OWN_GIFT
        summary = self.project.summary
        if not takes_donations(summary.status, self.project.accepts_donations_when_funded):
            return NO_MONEY_NOW
        return None

    @property
    def count(self) -> int:
        return len(self.awaiting()) + len(self.motions()) + len(self.pledges) + len(self.gifts)


@dataclass(frozen=True, slots=True)
class OtherWork:
    """Something another area asks of the member, listed in their inbox with a link to where it
    is done (residents' voice: a hearing's minutes to sign; docs/adr/0034-hearing-minutes.md).
    `text` is a message id, translated with `params` where it is shown."""

    href: str
    project_title: str
    text: str
    params: Mapping[str, Any] = field(default_factory=dict)


OtherWorkSource = Callable[[int], Awaitable[Sequence[OtherWork]]]
_other_work: list[OtherWorkSource] = []


def register_other_work(source: OtherWorkSource) -> None:
    """An area's list of what awaits an account (the composition root registers it; spending
    imports no area of its layer). Idempotent."""
    if source not in _other_work:
        _other_work.append(source)


async def other_work_of(account_id: int) -> list[OtherWork]:
    found: list[OtherWork] = []
    for source in _other_work:
        found.extend(await source(account_id))
    return found


async def _names(account_ids: set[int]) -> dict[int, str]:
    if not account_ids:
        return {}
    rows = await Account.select(Account.id, Account.display_name).where(
        Account.id.is_in(list(account_ids))
    )
    return {int(r["id"]): r["display_name"] for r in rows}


async def gifts_awaiting(project_id: int) -> list[dict[str, Any]]:
    """The project's offline gifts not yet confirmed, oldest first, with their recorder's name."""
    rows = [
        dict(r)
        for r in await OfflineDonation.select()
        .where((OfflineDonation.project == project_id) & OfflineDonation.confirmed_at.is_null())
        .order_by(OfflineDonation.id)
    ]
    names = await _names({int(r["recorded_by"]) for r in rows if r["recorded_by"]})
    for row in rows:
        row["amount"] = Money(row["amount_fen"], row["currency"])
        row["recorder_name"] = names.get(row["recorded_by"], "")
    return rows


async def _people(project_id: int) -> tuple[dict[str, tuple[Person, Person]], dict[int, Person]]:
    """Who proposed and who is paid by each pending expenditure; who filed each motion."""
    expenditures = await Expenditure.select(
        Expenditure.public_id,
        Expenditure.proposer_name,
        Expenditure.proposer_account_id,
        Expenditure.payee,
        Expenditure.payee_account_id,
    ).where(
        (Expenditure.project == project_id)
        & (Expenditure.status == ExpenditureStatus.PROPOSED.value)
    )
    motions = await Motion.select(
        Motion.id, Motion.filed_by_name, Motion.filed_by_account_id
    ).where((Motion.project == project_id) & (Motion.status == "pending"))
    people = {
        r["public_id"]: (
            Person(r["proposer_name"], r["proposer_account_id"]),
            Person(r["payee"], r["payee_account_id"]),
        )
        for r in expenditures
    }
    filers = {int(m["id"]): Person(m["filed_by_name"], m["filed_by_account_id"]) for m in motions}
    return people, filers


async def work_of(account_id: int) -> list[SeatWork]:
    """Each seat the account holds, with what awaits it there."""
    seats = await CommitteeMember.select(
        CommitteeMember.id, CommitteeMember.name, CommitteeMember.project.slug.as_alias("slug")
    ).where(CommitteeMember.account_id == account_id)
    work = []
    for seat in seats:
        project = await queries.get_project(seat["slug"], include_drafts=True)
        people, filers = await _people(project.id)
        work.append(
            SeatWork(
                project=project,
                seat_id=int(seat["id"]),
                seat=Person(seat["name"], account_id),
                account_id=account_id,
                spending=await spending_view(seat["slug"]),
                pledges=await matching.pledges_awaiting(project.id),
                gifts=await gifts_awaiting(project.id),
                people=people,
                filers=filers,
            )
        )
    return work


@dataclass(frozen=True, slots=True)
class Ballot:
    """A subject a member is about to approve, as its confirmation page shows it (ADR 0024):
    the expenditure or the motion, with the seat's project and its figures."""

    work: SeatWork
    kind: SubjectKind
    expenditure: ExpenditureView | None = None
    motion: MotionView | None = None

    @property
    def approvals(self) -> int:
        if self.expenditure is not None:
            return self.expenditure.approvals
        return sum(1 for d in self.motion.decisions if d.approve) if self.motion else 0

    @property
    def short_after(self) -> int:
        """Approvals still needed once this member's is counted (0: theirs decides it)."""
        return votes_short(self.work.spending.committee_size, self.approvals + 1)


async def ballot(account_id: int, slug: str, kind: SubjectKind, subject_id: str) -> Ballot:
    """The subject awaiting this member's decision on the project. Refused as voting would be,
    before the page asks: decided already (by the committee, or by this member), one they stand
    aside from (Conflict, the reason), or none (NotFound)."""
    for work in await work_of(account_id):
        if work.project.summary.slug != slug:
            continue
        if kind is SubjectKind.EXPENDITURE:
            found = next((e for e in work.spending.expenditures if e.public_id == subject_id), None)
            if found is not None:
                _still_open(work, found.status is ExpenditureStatus.PROPOSED, found.decisions)
                aside = work.aside(found)
                if aside is not None:
                    raise Conflict(aside)
                return Ballot(work, kind, expenditure=found)
        else:
            motion = next(
                (m for m in work.spending.motions if m.kind is kind and str(m.id) == subject_id),
                None,
            )
            if motion is not None:
                _still_open(work, motion.status == "pending", motion.decisions)
                aside = work.motion_aside(motion)
                if aside is not None:
                    raise Conflict(aside)
                return Ballot(work, kind, motion=motion)
    raise NotFound(N_("Nothing to decide here"))


def _still_open(work: SeatWork, open_: bool, decisions: list[Any]) -> None:
    if not open_:
        raise Conflict(N_("This proposal has already been decided"))
    if any(d.member_id == work.seat_id for d in decisions):
        raise Conflict(N_("You have already decided on this proposal"))


async def votes_still_needed(slug: str, kind: SubjectKind, subject_id: str, approve: bool) -> int:
    """After a member's vote: how many more votes like theirs decide the subject, from the
    decisions recorded (0 when it is decided)."""
    view = await spending_view(slug)
    decisions: list[Any] = []
    if kind is SubjectKind.EXPENDITURE:
        decisions = next((e.decisions for e in view.expenditures if e.public_id == subject_id), [])
    else:
        decisions = next((m.decisions for m in view.motions if str(m.id) == subject_id), [])
    return votes_short(view.committee_size, sum(1 for d in decisions if d.approve == approve))
