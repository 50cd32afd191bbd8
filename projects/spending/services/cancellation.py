"""Cancelling a project by committee decision, and giving every yuan back.

The committee decides by quorum, with a reason; the project is then closed (`cancelled`) and
the settlement job `projects.settle` queued, both in the deciding vote's transaction: the vote
talks to no payment provider, so it answers the same whether or not one is reachable, and a
crash after it leaves the job to run. Settling returns the money, each part through the service
that owns it, each exactly once however often it runs (docs/adr/0015-settlement.md):
- matching contributions: reversed on the ledger (`reversal:<project>:<seq>`, once per entry);
- online donations: through the refund port the root registers (`payments.services.
  refund_remaining`: the refund is asked for with its `payments.refund` job, which sends it to
  the gateway, whose confirmation posts the `refund` entry once), of what the fund received and
  has not yet given back or asked to: the donation less the processor's fee, which the
  processor does not give back — so the fund can return every donor's share and end at zero.
  The rest is computed under the donation's lock, so a second run asks nothing twice, and a
  refund that failed for good is asked again;
- offline donations (cash, bank transfer): the secretary hands the money back and records it with
  proof (`refund_offline`), which posts a `refund` entry (`refund:offline:<id>`) once.
The job comes back in rounds, with backoff, until every online refund has been taken by its
provider (projects/spending/jobs.py); `linju projects settle SLUG` runs `settle` by hand.
Refunds asked and not yet posted are reserved: spending's "available" subtracts them.

Lock order (the one order of every use case that takes more than one): a donation's row (online
or offline), then the project's ledger head, then the project's row, then the pledges.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

from linju.platform.db import is_postgres, write_transaction
from linju.platform.jobs import queue
from linju.platform.kernel.errors import N_, Conflict, DomainError, NotFound, ValidationErrors
from linju.projects.core.files import AttachmentUpload
from linju.projects.core.rules import ProjectStatus
from linju.projects.core.services.projects import change_status
from linju.projects.core.tables import Project
from linju.projects.donations.rules import OPEN_REFUNDS, DonationStatus, RefundStatus
from linju.projects.donations.tables import Donation, DonationRefund
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
from linju.projects.spending.services.motions import decide_motion, insert_motion, pending_motion
from linju.projects.stewardship.services.matching import reverse_match
from linju.projects.stewardship.tables import MatchDraw, OfflineDonation

logger = logging.getLogger("linju.spending")


async def check_cancellation(slug: str, reason: str) -> None:
    """Refuse, writing nothing, what `propose_cancellation` would refuse now: its confirmation
    page asks only when the committee can be asked (ADR 0024)."""
    problem = reason_problem(reason)
    if problem is not None:
        raise ValidationErrors({"reason": problem})
    row = await Project.select(Project.id, Project.status).where(Project.slug == slug).first()
    if row is None:
        raise NotFound("No project %(slug)s", slug=slug)
    status_problem = cancellation_problem(ProjectStatus(row["status"]))
    if status_problem is not None:
        raise Conflict(status_problem)
    if await pending_motion(int(row["id"]), SubjectKind.CANCELLATION) is not None:
        raise Conflict(N_("One is already awaiting the committee"))


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
            await queue.enqueue(SETTLE_JOB, {"project": slug}, dedupe_key=settle_key(slug, 0))
    return outcome


# The settlement job (registered by `projects/spending/jobs.py` from the composition root).
SETTLE_JOB = "projects.settle"
REFUND_REASON = "项目经监督委员会决定取消，全额退款"


def settle_key(slug: str, round_: int) -> str:
    """One settlement round per project waits in the queue at a time."""
    return f"settle:{slug}:{round_}"


@dataclass(slots=True)
class Settlement:
    refunds_requested: list[str] = field(default_factory=list)
    reversed_seqs: list[int] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    offline_to_return: list[str] = field(default_factory=list)  # the secretary refunds with proof
    balance: int = 0
    progress: SettlementProgress | None = None

    @property
    def unfinished(self) -> bool:
        """Work the job must come back for: a refund it could not ask, one asked and not yet
        taken by its provider (the provider's confirmation then comes by webhook), or a gift
        whose rest no open refund covers (its refund failed for good after this round asked:
        the refund job runs beside the settlement)."""
        return bool(self.failures) or (
            self.progress is not None
            and (self.progress.waiting_to_be_sent > 0 or self.progress.not_asked > 0)
        )


@dataclass(frozen=True, slots=True)
class SettlementProgress:
    """How far a cancelled project's money is returned: `done` of `total` gifts given back
    (online donations refunded as far as the fund received them, offline gifts recorded as
    handed back), the fund's `balance`, the online refunds still waiting to be sent, and the
    online gifts with a rest that no open refund covers (`not_asked`: none was asked yet, or
    the last one failed for good)."""

    done: int
    total: int
    balance: int
    waiting_to_be_sent: int
    not_asked: int

    @property
    def in_progress(self) -> bool:
        return self.balance > 0


async def _reverse_matching(slug: str, result: Settlement) -> None:
    """Every match drawn for this project and not yet reversed is reversed, once, through the
    matching service (which also gives the pledge its room back), each in its own transaction
    that takes the project's ledger head before the pledge (the one lock order)."""
    draws = await MatchDraw.select(MatchDraw.donation_ref, MatchDraw.ledger_seq).where(
        (MatchDraw.pledge._.project._.slug == slug) & MatchDraw.reversed_at.is_null()
    )
    for draw in draws:
        async with write_transaction():
            await locked_project(slug)
            if await reverse_match(slug, draw["donation_ref"], "项目取消，配捐退回"):
                result.reversed_seqs.append(int(draw["ledger_seq"]))


class RefundRemaining(Protocol):
    """Ask for the rest of what a confirmed online donation gave the fund (less the processor's
    fee, less refunds posted or open); the refund's id at once (a job sends it to the gateway),
    or None when nothing is left to ask.

    The port through which cancellation reaches the payments adapter without importing it
    (`projects` never imports `payments`): the composition root registers
    `payments.services.refund_remaining` (`linju.platform.app.wire`).
    """

    async def __call__(self, donation_id: str, reason: str, actor: str) -> str | None: ...


_refund_online_port: RefundRemaining | None = None


def register_refund_online(refund: RefundRemaining) -> None:
    global _refund_online_port
    _refund_online_port = refund


def _refunder() -> RefundRemaining:
    if _refund_online_port is None:
        raise RuntimeError("no refund port registered: call linju.platform.app.wire() first")
    return _refund_online_port


async def _refund_online(slug: str, result: Settlement) -> None:
    rows = await Donation.select(Donation.public_id).where(
        (Donation.project.slug == slug) & (Donation.status == DonationStatus.SUCCEEDED.value)
    )
    for row in rows:
        try:
            refund_id = await _refunder()(row["public_id"], REFUND_REASON, "committee")
        except DomainError as exc:  # the fund cannot cover it, or the donation moved on
            result.failures.append(f"{row['public_id']}: {exc}")
            continue
        if refund_id is not None:
            result.refunds_requested.append(refund_id)


async def settlement_progress(slug: str) -> SettlementProgress:
    """`done` of `total` gifts given back and the fund's balance (see SettlementProgress)."""
    online = await Donation.select(
        Donation.id, Donation.status, Donation.amount_fen, Donation.fee_fen, Donation.refunded_fen
    ).where(
        (Donation.project.slug == slug)
        & Donation.status.is_in([DonationStatus.SUCCEEDED.value, DonationStatus.REFUNDED.value])
    )
    owed = [r for r in online if int(r["amount_fen"]) - int(r["fee_fen"]) > 0]
    online_done = sum(
        1 for r in owed if int(r["refunded_fen"]) >= int(r["amount_fen"]) - int(r["fee_fen"])
    )
    open_refunds = await DonationRefund.select(
        DonationRefund.donation, DonationRefund.status, DonationRefund.amount_fen
    ).where(
        (DonationRefund.donation._.project._.slug == slug)
        & DonationRefund.status.is_in([s.value for s in OPEN_REFUNDS])
    )
    asked: dict[int, int] = {}
    for refund in open_refunds:
        asked[refund["donation"]] = asked.get(refund["donation"], 0) + refund["amount_fen"]
    # What `request_full_refund` would ask for now (the same rest, read without its lock).
    not_asked = sum(
        1
        for r in owed
        if r["status"] == DonationStatus.SUCCEEDED.value
        and int(r["amount_fen"])
        - int(r["fee_fen"])
        - int(r["refunded_fen"])
        - asked.get(r["id"], 0)
        > 0
    )
    offline = await OfflineDonation.count().where(
        (OfflineDonation.project.slug == slug) & OfflineDonation.ledger_seq.is_not_null()
    )
    offline_left = len(await offline_to_return(slug))
    waiting = sum(1 for r in open_refunds if r["status"] == RefundStatus.REQUESTED.value)
    head = (
        await LedgerHead.select(LedgerHead.balance_fen)
        .where(LedgerHead.project.slug == slug)
        .first()
    )
    return SettlementProgress(
        done=online_done + offline - offline_left,
        total=len(owed) + offline,
        balance=int(head["balance_fen"]) if head else 0,
        waiting_to_be_sent=waiting,
        not_asked=not_asked,
    )


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


async def _lock_offline_gift(public_id: str) -> None:
    """The gift's row first (the one lock order: a gift, then the project's ledger head), as
    its confirmation takes it."""
    if is_postgres():
        await (
            OfflineDonation.select(OfflineDonation.id)
            .where(OfflineDonation.public_id == public_id)
            .lock_rows("UPDATE", of=(OfflineDonation,))
        )


async def refund_offline(slug: str, public_id: str, proof: AttachmentUpload) -> int:
    """The secretary hands a cash or transfer gift back and records it with proof; posts the
    `refund` entry once (and reverses its match). Returns the entry's seq."""
    stored = await store_uploads([proof])
    try:
        async with write_transaction():
            await _lock_offline_gift(public_id)
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
    """Return what a cancelled project still holds; safe to run again, at once or after a
    crash: it only does what is still undone (the `projects.settle` job, and `linju projects
    settle SLUG` by hand)."""
    result = Settlement()
    project = await Project.select(Project.status).where(Project.slug == slug).first()
    if project is None:
        raise NotFound(N_("No project %(slug)s"), slug=slug)
    if project["status"] != ProjectStatus.CANCELLED.value:
        raise Conflict(N_("Only a cancelled project's money is returned"))
    await _reverse_matching(slug, result)
    await _refund_online(slug, result)
    result.progress = await settlement_progress(slug)
    result.balance = result.progress.balance
    result.offline_to_return = [g["public_id"] for g in await offline_to_return(slug)]
    if result.failures:
        logger.warning("cancellation of %s left work undone: %s", slug, result.failures)
    return result
