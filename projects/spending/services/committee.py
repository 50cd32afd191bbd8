"""The supervision committee's decisions, shared by expenditures, completion and cancellation.

Every use case that decides something holds the project lock first (`ledger.lock`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from linju.platform.kernel.clock import utc_now
from linju.platform.kernel.errors import N_, Conflict, NotFound, ValidationErrors
from linju.projects.core.tables import CommitteeMember
from linju.projects.ledger.lock import LockedProject
from linju.projects.ledger.log.note import b64
from linju.projects.ledger.log.services import latest_checkpoint
from linju.projects.spending.rules import (
    Outcome,
    Person,
    SubjectKind,
    reason_problem,
    tally,
    voting_problem,
)
from linju.projects.spending.tables import Decision


@dataclass(frozen=True, slots=True)
class Seat:
    id: int
    name: str
    account_id: int | None

    @property
    def person(self) -> Person:
        return Person(self.name, self.account_id)


async def seats(project_id: int) -> list[Seat]:
    rows = (
        await CommitteeMember.select(
            CommitteeMember.id, CommitteeMember.name, CommitteeMember.account_id
        )
        .where(CommitteeMember.project == project_id)
        .order_by(CommitteeMember.position)
    )
    return [Seat(int(r["id"]), r["name"], r["account_id"]) for r in rows]


async def decisions_on(kind: SubjectKind, subject_id: int) -> list[dict[str, Any]]:
    return list(
        await Decision.select(
            Decision.member,
            Decision.member_name,
            Decision.approve,
            Decision.reason,
            Decision.decided_at,
            Decision.head_seq,
            Decision.head_hash,
        )
        .where((Decision.subject_kind == kind.value) & (Decision.subject_id == subject_id))
        .order_by(Decision.id)
    )


async def record_decision(
    project: LockedProject,
    kind: SubjectKind,
    subject_id: int,
    member_id: int,
    approve: bool,
    reason: str,
    *,
    proposer: Person | None,
    payee: Person | None,
    decided: bool,
    check_approval: str | None = None,
) -> Outcome:
    """Check and record one member's decision inside the caller's locked transaction.

    `check_approval` is the reason (a message id) an approving vote must be refused now, if any,
    computed by the caller under the same lock. Returns the subject's outcome after this vote.
    """
    committee = await seats(project.id)
    seat = next((s for s in committee if s.id == member_id), None)
    if seat is None:
        raise NotFound(N_("You are not on this project's committee"))
    earlier = await decisions_on(kind, subject_id)
    problem = voting_problem(
        seat.person,
        proposer,
        payee,
        already_voted=any(d["member"] == member_id for d in earlier),
        decided=decided,
    )
    if problem is not None:
        raise Conflict(problem)
    reason_error = reason_problem(reason)
    if reason_error is not None:
        raise ValidationErrors({"reason": reason_error})
    if approve and check_approval is not None:
        raise Conflict(check_approval)
    checkpoint = await latest_checkpoint()  # anchored beside the head (transparency.md)
    await Decision.insert(
        Decision(
            project=project.id,
            subject_kind=kind.value,
            subject_id=subject_id,
            member=seat.id,
            member_name=seat.name,
            approve=approve,
            reason=reason.strip(),
            decided_at=utc_now(),
            head_seq=project.head_seq,
            head_hash=project.head_hash,
            log_size=checkpoint.size if checkpoint else 0,
            log_root=b64(checkpoint.root) if checkpoint else "",
        )
    )
    approvals = sum(1 for d in earlier if d["approve"]) + (1 if approve else 0)
    rejections = sum(1 for d in earlier if not d["approve"]) + (0 if approve else 1)
    return tally(len(committee), approvals, rejections)
