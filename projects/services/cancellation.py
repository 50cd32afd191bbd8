"""Cancelling a project by committee decision, and giving every yuan back.

The committee decides by quorum, with a reason; the project is then closed (`cancelled`) in the
same transaction, so it takes no more money. Settling then returns the money, each part through
the service that owns it, each exactly once whatever the number of retries:
- online donations: `payments.services.refund_donation` (the gateway refunds; its confirmation
  posts the `refund` entry once);
- matching contributions: reversed on the ledger (`reversal:<project>:<seq>`, once per entry);
- offline donations (cash, bank transfer): the secretary's stewardship area marks them refunded
  with proof; until that area exists they are reported as still to return.
`settle` may be run again at any time (the CLI or the page): it only does what is still undone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from linju.payments.services import refund_donation
from linju.platform.db import write_transaction
from linju.projects import ledger
from linju.projects.donations.tables import Donation
from linju.projects.errors import N_, Conflict, DomainError, ValidationErrors
from linju.projects.ledger_format import EntryKind
from linju.projects.rules import ProjectStatus
from linju.projects.services.committee import locked_project
from linju.projects.services.motions import decide_motion, insert_motion
from linju.projects.services.projects import change_status
from linju.projects.spending.rules import (
    Outcome,
    Person,
    SubjectKind,
    cancellation_problem,
    reason_problem,
)
from linju.projects.tables import LedgerEntry, LedgerHead, Project

logger = logging.getLogger("linju.spending")


async def propose_cancellation(slug: str, reason: str, filer: Person) -> int:
    problem = reason_problem(reason)
    if problem is not None:
        raise ValidationErrors({"reason": problem})
    async with write_transaction():
        project = await locked_project(slug)
        status_problem = cancellation_problem(project.status)
        if status_problem is not None:
            raise Conflict(status_problem)
        return await insert_motion(project, SubjectKind.CANCELLATION, reason, filer)


async def decide_cancellation(
    slug: str, motion_id: int, member_id: int, approve: bool, reason: str
) -> Outcome:
    """A member's decision; at quorum the project is closed, then its money is returned."""
    async with write_transaction():
        project = await locked_project(slug)
        outcome, _row = await decide_motion(
            project, SubjectKind.CANCELLATION, motion_id, member_id, approve, reason
        )
        if outcome is Outcome.APPROVED:
            status_problem = cancellation_problem(project.status)
            if status_problem is not None:
                raise Conflict(status_problem)
            await change_status(slug, ProjectStatus.CANCELLED)
    if outcome is Outcome.APPROVED:
        await settle(slug)
    return outcome


@dataclass(slots=True)
class Settlement:
    refunds_requested: list[str] = field(default_factory=list)
    reversed_seqs: list[int] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    balance: int = 0


async def _reverse_matching(slug: str, result: Settlement) -> None:
    """Every matching entry not yet reversed is reversed once (the key names the entry)."""
    rows = await LedgerEntry.select(LedgerEntry.seq).where(
        (LedgerEntry.project.slug == slug) & (LedgerEntry.kind == EntryKind.MATCHING.value)
    )
    for row in rows:
        appended = await ledger.reverse(slug, int(row["seq"]), "项目取消，配捐退回")
        if appended.created:
            result.reversed_seqs.append(int(row["seq"]))


async def _refund_online(slug: str, result: Settlement) -> None:
    rows = await Donation.select(
        Donation.public_id, Donation.amount_fen, Donation.refunded_fen
    ).where((Donation.project.slug == slug) & (Donation.status == "succeeded"))
    for row in rows:
        amount = int(row["amount_fen"]) - int(row["refunded_fen"])
        if amount <= 0:
            continue
        try:
            refund_id = await refund_donation(
                row["public_id"], amount, "项目经监督委员会决定取消，全额退款", "committee"
            )
        except DomainError as exc:  # already asked for, or the fund cannot cover it
            result.failures.append(f"{row['public_id']}: {exc}")
            continue
        result.refunds_requested.append(refund_id)


async def settle(slug: str) -> Settlement:
    """Return what a cancelled project still holds; safe to run again."""
    result = Settlement()
    project = await Project.select(Project.status).where(Project.slug == slug).first()
    if project is None or project["status"] != ProjectStatus.CANCELLED.value:
        raise Conflict(N_("Only a cancelled project's money is returned"))
    await _reverse_matching(slug, result)
    await _refund_online(slug, result)
    head = (
        await LedgerHead.select(LedgerHead.balance_fen)
        .where(LedgerHead.project.slug == slug)
        .first()
    )
    result.balance = int(head["balance_fen"]) if head else 0
    if result.failures:
        logger.warning("cancellation of %s left work undone: %s", slug, result.failures)
    return result
