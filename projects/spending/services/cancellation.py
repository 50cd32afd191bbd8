"""Cancelling a project by committee decision, and giving every yuan back.

The committee decides by quorum, with a reason; the project is then closed (`cancelled`) in the
same transaction, so it takes no more money. Settling then returns the money, each part through
the service that owns it, each exactly once whatever the number of retries:
- online donations: through the refund port the root registers (`payments.services.
  refund_donation`: the refund is asked for here and its job sends it to the gateway, whose
  confirmation posts the `refund` entry once), of what the fund received, the donation less the
  processor's fee, which the processor does not give back — so the fund can return every
  donor's share and end at zero;
- matching contributions: reversed on the ledger (`reversal:<project>:<seq>`, once per entry);
- offline donations (cash, bank transfer): the secretary hands the money back and records it with
  proof (`refund_offline`), which posts a `refund` entry (`refund:offline:<id>`) once.
`settle` may be run again at any time (the CLI or the page): it only does what is still undone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

from linju.platform.db import write_transaction
from linju.platform.kernel.errors import N_, Conflict, DomainError, NotFound, ValidationErrors
from linju.projects.core.files import AttachmentUpload
from linju.projects.core.rules import ProjectStatus
from linju.projects.core.services.projects import change_status
from linju.projects.core.tables import Project
from linju.projects.donations.tables import Donation
from linju.projects.ledger import services as ledger
from linju.projects.ledger.format import EntryKind, fund_account
from linju.projects.ledger.lock import locked_project
from linju.projects.ledger.tables import LedgerEntry, LedgerHead
from linju.projects.spending.attachments import discard_uploads, insert_attachments, store_uploads
from linju.projects.spending.rules import (
    Outcome,
    Person,
    SubjectKind,
    cancellation_problem,
    reason_problem,
)
from linju.projects.spending.services.motions import decide_motion, insert_motion
from linju.projects.stewardship.services.matching import reverse_match
from linju.projects.stewardship.tables import MatchDraw, OfflineDonation

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
    offline_to_return: list[str] = field(default_factory=list)  # the secretary refunds with proof
    balance: int = 0


async def _reverse_matching(slug: str, result: Settlement) -> None:
    """Every match drawn for this project and not yet reversed is reversed, once, through the
    matching service (which also gives the pledge its room back)."""
    draws = await MatchDraw.select(MatchDraw.donation_ref, MatchDraw.ledger_seq).where(
        (MatchDraw.pledge._.project._.slug == slug) & MatchDraw.reversed_at.is_null()
    )
    for draw in draws:
        if await reverse_match(slug, draw["donation_ref"], "项目取消，配捐退回"):
            result.reversed_seqs.append(int(draw["ledger_seq"]))


class RefundOnline(Protocol):
    """Ask for a refund of (part of) a confirmed online donation; returns the refund id at once
    (a job sends it to the gateway).

    The port through which cancellation reaches the payments adapter without importing it
    (`projects` never imports `payments`): the composition root registers
    `payments.services.refund_donation` (`linju.platform.app.wire`).
    """

    async def __call__(self, donation_id: str, amount_fen: int, reason: str, actor: str) -> str: ...


_refund_online_port: RefundOnline | None = None


def register_refund_online(refund: RefundOnline) -> None:
    global _refund_online_port
    _refund_online_port = refund


def _refunder() -> RefundOnline:
    if _refund_online_port is None:
        raise RuntimeError("no refund port registered: call linju.platform.app.wire() first")
    return _refund_online_port


async def _refund_online(slug: str, result: Settlement) -> None:
    rows = await Donation.select(
        Donation.public_id, Donation.amount_fen, Donation.refunded_fen, Donation.fee_fen
    ).where((Donation.project.slug == slug) & (Donation.status == "succeeded"))
    for row in rows:
        # What the fund received: the processor keeps its fee on a refund, so returning the
        # gross amount would leave the fund short for the last donors to be refunded.
        amount = int(row["amount_fen"]) - int(row["refunded_fen"]) - int(row["fee_fen"])
        if amount <= 0:
            continue
        try:
            refund_id = await _refunder()(
                row["public_id"], amount, "项目经监督委员会决定取消，全额退款", "committee"
            )
        except DomainError as exc:  # already asked for, or the fund cannot cover it
            result.failures.append(f"{row['public_id']}: {exc}")
            continue
        result.refunds_requested.append(refund_id)


def offline_refund_event(row: dict[str, Any], slug: str) -> ledger.LedgerEvent:
    """The `refund` of a cash or bank-transfer gift: fund −x, donors:offline +x, once."""
    amount = int(row["amount_fen"])
    return ledger.LedgerEvent(
        kind=EntryKind.REFUND,
        memo="项目取消，线下捐款退还",
        ref=row["public_id"],
        postings=(
            ledger.Posting(fund_account(slug), -amount, row["currency"]),
            ledger.Posting("donors:offline", amount, row["currency"]),
        ),
        idempotency_key=f"refund:offline:{row['public_id']}",
    )


async def offline_to_return(slug: str) -> list[dict[str, Any]]:
    """Confirmed offline gifts of a cancelled project whose refund is not yet on the ledger."""
    gifts = await OfflineDonation.select(
        OfflineDonation.id,
        OfflineDonation.public_id,
        OfflineDonation.amount_fen,
        OfflineDonation.currency,
        OfflineDonation.donor_name,
    ).where((OfflineDonation.project.slug == slug) & OfflineDonation.ledger_seq.is_not_null())
    refunded = {
        r["idempotency_key"]
        for r in await LedgerEntry.select(LedgerEntry.idempotency_key).where(
            LedgerEntry.idempotency_key.is_in(
                [f"refund:offline:{g['public_id']}" for g in gifts] or ["-"]
            )
        )
    }
    return [g for g in gifts if f"refund:offline:{g['public_id']}" not in refunded]


async def refund_offline(slug: str, public_id: str, proof: AttachmentUpload) -> int:
    """The secretary hands a cash or transfer gift back and records it with proof; posts the
    `refund` entry once (and reverses its match). Returns the entry's seq."""
    stored = await store_uploads([proof])
    try:
        async with write_transaction():
            project = await locked_project(slug)
            if project.status is not ProjectStatus.CANCELLED:
                raise Conflict(N_("Only a cancelled project's money is returned"))
            row = (
                await OfflineDonation.select(
                    OfflineDonation.id,
                    OfflineDonation.public_id,
                    OfflineDonation.amount_fen,
                    OfflineDonation.currency,
                    OfflineDonation.ledger_seq,
                )
                .where(
                    (OfflineDonation.public_id == public_id)
                    & (OfflineDonation.project == project.id)
                )
                .first()
            )
            if row is None or row["ledger_seq"] is None:
                raise NotFound(N_("No confirmed offline donation %(id)s"), id=public_id)
            await reverse_match(slug, public_id, "项目取消，配捐退回")
            appended = await ledger.append(slug, offline_refund_event(row, slug))
            if appended.created:
                await insert_attachments(project.id, "offline_refund", int(row["id"]), stored)
            else:
                await discard_uploads(stored)
    except BaseException:
        await discard_uploads(stored)
        raise
    return int(appended.entry["seq"])


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
    result.offline_to_return = [g["public_id"] for g in await offline_to_return(slug)]
    if result.failures:
        logger.warning("cancellation of %s left work undone: %s", slug, result.failures)
    return result
