"""What completion and cancellation share: a motion filed once, decided by the committee.

A motion (a completion report, a cancellation) is filed with the ledger head of that moment and
decided by quorum through `committee.record_decision`, exactly like an expenditure; the filer
does not vote on their own motion.
"""

from __future__ import annotations

from typing import Any

from linju.platform.db import is_postgres
from linju.platform.kernel.clock import utc_now
from linju.platform.kernel.errors import N_, Conflict, NotFound
from linju.projects.ledger.lock import LockedProject
from linju.projects.spending.rules import MotionStatus, Outcome, Person, SubjectKind
from linju.projects.spending.services.committee import record_decision
from linju.projects.spending.tables import Motion


async def pending_motion(project_id: int, kind: SubjectKind) -> dict[str, Any] | None:
    return await (
        Motion.select(Motion.id)
        .where(
            (Motion.project == project_id)
            & (Motion.kind == kind.value)
            & (Motion.status == MotionStatus.PENDING.value)
        )
        .first()
    )


async def insert_motion(
    project: LockedProject,
    kind: SubjectKind,
    summary: str,
    filer: Person,
    leftover_choice: str = "",
    follow_up: str = "",
) -> int:
    if await pending_motion(project.id, kind) is not None:
        raise Conflict(N_("One is already awaiting the committee"))
    rows = await Motion.insert(
        Motion(
            project=project.id,
            kind=kind.value,
            status=MotionStatus.PENDING.value,
            summary=summary.strip(),
            leftover_choice=leftover_choice,
            follow_up=follow_up.strip(),
            filed_by_name=filer.name,
            filed_by_account_id=filer.account_id,
            filed_at=utc_now(),
            head_seq=project.head_seq,
            head_hash=project.head_hash,
        )
    )
    return int(rows[0]["id"])


async def locked_motion(
    project: LockedProject, kind: SubjectKind, motion_id: int
) -> dict[str, Any]:
    query = Motion.select().where(
        (Motion.id == motion_id) & (Motion.project == project.id) & (Motion.kind == kind.value)
    )
    if is_postgres():
        query = query.lock_rows("UPDATE")
    row = await query.first()
    if row is None:
        raise NotFound(N_("Nothing to decide here"))
    return row


async def decide_motion(
    project: LockedProject,
    kind: SubjectKind,
    motion_id: int,
    member_id: int,
    approve: bool,
    reason: str,
) -> tuple[Outcome, dict[str, Any]]:
    """Record one member's decision on a motion; marks it decided when a quorum is reached."""
    row = await locked_motion(project, kind, motion_id)
    outcome = await record_decision(
        project,
        kind,
        motion_id,
        member_id,
        approve,
        reason,
        proposer=Person(row["filed_by_name"], row["filed_by_account_id"]),
        payee=None,
        decided=row["status"] != MotionStatus.PENDING.value,
    )
    if outcome is not Outcome.PENDING:
        status = MotionStatus.APPROVED if outcome is Outcome.APPROVED else MotionStatus.REJECTED
        await Motion.update({Motion.status: status.value, Motion.decided_at: utc_now()}).where(
            Motion.id == motion_id
        )
    return outcome, row
