"""Use cases of a donation: create it pending, and apply what the payment provider reports.

Only a provider's confirmation posts money: the donation's state change and its ledger entries
(`donation`, then `fee` and any already confirmed refunds) happen in ONE write transaction, with
`ledger.append` joining it, so a crash leaves nothing half-done and a redelivered report posts
nothing twice (the ledger's idempotency keys `donation:<id>`, `fee:<id>`, `refund:<ref>`).

Every function that changes a donation first locks its row (PostgreSQL) or holds the database's
write lock (SQLite), so reports about one donation are applied one after the other. The
payment adapter (`linju.payments.services`) calls these; nothing here knows a provider.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from piccolo.querystring import QueryString

from linju.platform.accounts.audit import Actor, record_audit
from linju.platform.db import get_engine, is_postgres, select_rows, write_transaction
from linju.platform.jobs.queue import enqueue
from linju.platform.kernel.clock import utc_now
from linju.platform.kernel.errors import N_, Conflict, NotFound, RuleViolation, ValidationErrors
from linju.platform.kernel.money import Money
from linju.platform.settings import GATEWAYS, get_settings
from linju.projects.core.read import ProjectDetail
from linju.projects.core.services.funding import (
    close_when_goal_reached,
    project_taking_donations,
    takes_money_now,
)
from linju.projects.donations.rules import (
    MAX_RECEIPT_TOKEN_LENGTH,
    OPEN_REFUNDS,
    TEST_MODE_MEMO,
    DonationInput,
    DonationStatus,
    ProviderOutcome,
    RefundStatus,
    donation_problems,
    message_hidden,
    new_donation_id,
    new_receipt_token,
    new_refund_id,
    next_status,
    public_name,
    receipt_token_digest,
    refund_stage,
    refundable_fen,
    seal_receipt_token,
    status_after_refunds,
)
from linju.projects.donations.tables import Donation, DonationRefund
from linju.projects.ledger import services as ledger
from linju.projects.ledger.format import EntryKind, fund_account
from linju.projects.ledger.lock import LockedProject, locked_project
from linju.projects.stewardship.services.matching import draw_matches, reverse_match

RECENT_DONATIONS_LIMIT = 20


@dataclass(frozen=True, slots=True)
class DonationView:
    id: str
    project_slug: str
    project_title: str
    amount: Money
    status: DonationStatus
    public_name: str
    message: str
    gateway: str
    checkout_url: str
    fee: Money
    refunded: Money
    created_at: datetime
    confirmed_at: datetime | None
    # A steward hid the message from the donor wall (docs/adr/0028): when and who.
    message_hidden_at: datetime | None = None
    message_hidden_by: str = ""
    # The secret of the receipt's address: only on the view `create_donation` returns (the
    # database keeps its digest alone, so no later read can give it back).
    receipt_token: str = ""


@dataclass(frozen=True, slots=True)
class ApplyResult:
    """What applying a provider's report did: `changed` is False for a no-op (a duplicate).

    `unwanted`: the payment was confirmed for a project that no longer takes money (cancelled,
    completed, or closed to donations): the money arrived and is on the ledger, and the caller
    must give it back (`request_full_refund`, in the same transaction)."""

    donation_id: str
    status: DonationStatus
    changed: bool
    unwanted: bool = False


_VIEW_COLUMNS = (
    Donation.public_id,
    Donation.project.slug.as_alias("project_slug"),
    Donation.project.title.as_alias("project_title"),
    Donation.amount_fen,
    Donation.currency,
    Donation.status,
    Donation.display_name,
    Donation.anonymous,
    Donation.message,
    Donation.gateway,
    Donation.checkout_url,
    Donation.fee_fen,
    Donation.refunded_fen,
    Donation.created_at,
    Donation.confirmed_at,
    Donation.message_hidden_at,
    Donation.message_hidden_by,
)


def _view(row: dict[str, Any]) -> DonationView:
    currency = row["currency"]
    return DonationView(
        id=row["public_id"],
        project_slug=row["project_slug"],
        project_title=row["project_title"],
        amount=Money(row["amount_fen"], currency),
        status=DonationStatus(row["status"]),
        public_name=public_name(row["display_name"], row["anonymous"]),
        message=row["message"],
        gateway=row["gateway"],
        checkout_url=row["checkout_url"],
        fee=Money(row["fee_fen"], currency),
        refunded=Money(row["refunded_fen"], currency),
        created_at=row["created_at"],
        confirmed_at=row["confirmed_at"],
        message_hidden_at=row["message_hidden_at"],
        message_hidden_by=row["message_hidden_by"],
    )


def _donation_key(public_id: str) -> str:
    """The ledger's idempotency key of a donation's entry: how a donation finds its entry."""
    return f"donation:{public_id}"


async def get_donation(donation_id: str) -> DonationView:
    row = await Donation.select(*_VIEW_COLUMNS).where(Donation.public_id == donation_id).first()
    if row is None:
        raise NotFound(N_("No donation %(id)s"), id=donation_id)
    return _view(row)


async def get_donation_by_receipt(token: str) -> DonationView:
    """The donation whose receipt address holds `token`; 404 for anything else, the donation's
    public id included."""
    row = None
    if 0 < len(token) <= MAX_RECEIPT_TOKEN_LENGTH:
        row = (
            await Donation.select(*_VIEW_COLUMNS)
            .where(Donation.receipt_token_hash == receipt_token_digest(token))
            .first()
        )
    if row is None:
        raise NotFound(N_("There is no receipt at this address"))
    return _view(row)


async def donation_entry(donation: DonationView) -> dict[str, Any] | None:
    """The ledger entry of a confirmed donation (its public object), or None before."""
    return await ledger.entry_by_key(donation.project_slug, _donation_key(donation.id))


async def recent_donations(
    project: ProjectDetail, limit: int = RECENT_DONATIONS_LIMIT
) -> list[DonationView]:
    """The donor wall: confirmed donations, newest first (partly refunded ones included)."""
    rows = await select_rows(
        *[column for column in _VIEW_COLUMNS if column._meta.table is Donation],
        where=[(Donation.project, project.id), (Donation.status, DonationStatus.SUCCEEDED.value)],
        order_by=[(Donation.confirmed_at, False), (Donation.id, False)],
        limit=limit,
    )
    for row in rows:
        row["project_slug"] = project.summary.slug
        row["project_title"] = project.summary.title
    return [_view(row) for row in rows]


async def project_donations(project_slug: str, limit: int = 200) -> list[DonationView]:
    """Every donation of a project, newest first, whatever its status (for its stewards)."""
    rows = (
        await Donation.select(*_VIEW_COLUMNS)
        .where(Donation.project.slug == project_slug)
        .order_by(Donation.id, ascending=False)
        .limit(limit)
    )
    return [_view(row) for row in rows]


async def create_donation(
    project_slug: str, data: DonationInput, gateway: str, max_fen: int
) -> DonationView:
    """A pending donation, if the input is right and the project takes donations now."""
    problems = donation_problems(data, max_fen)
    if problems:
        raise ValidationErrors(problems)
    async with write_transaction():
        project = await project_taking_donations(project_slug)
        if project.currency != data.currency:
            raise RuleViolation(N_("Donations are in CNY only"))
        now = utc_now()
        public_id = new_donation_id()
        receipt_token = new_receipt_token()
        await Donation.insert(
            Donation(
                public_id=public_id,
                receipt_token_hash=receipt_token_digest(receipt_token),
                project=project.id,
                amount_fen=data.amount_fen,
                currency=data.currency,
                display_name=data.display_name.strip(),
                anonymous=data.anonymous or not data.display_name.strip(),
                message=data.message.strip(),
                email=data.email.strip() or None,
                receipt_seal=(
                    seal_receipt_token(receipt_token, get_settings().secret_key)
                    if data.email.strip()
                    else None
                ),
                status=DonationStatus.PENDING.value,
                gateway=gateway,
                created_at=now,
                updated_at=now,
            )
        )
    return replace(await get_donation(public_id), receipt_token=receipt_token)


@dataclass(frozen=True, slots=True)
class PendingCheckout:
    """A donation still waiting for its provider's word, as the expiry of checkouts sees it."""

    seq: int  # the row's own id: where the next page of `pending_started_before` starts
    donation_id: str
    provider_ref: str  # empty when the checkout was never created at the provider
    amount: Money
    created_at: datetime


async def pending_started_before(
    gateway: str, before: datetime, after_seq: int = 0, limit: int = 100
) -> list[PendingCheckout]:
    """Pending donations through `gateway` started before `before`, oldest first, from row
    `after_seq` on: the checkouts their provider no longer keeps open."""
    rows = (
        await Donation.select(
            Donation.id,
            Donation.public_id,
            Donation.provider_ref,
            Donation.amount_fen,
            Donation.currency,
            Donation.created_at,
        )
        .where(
            (Donation.status == DonationStatus.PENDING.value)
            & (Donation.gateway == gateway)
            & (Donation.created_at < before)
            & (Donation.id > after_seq)
        )
        .order_by(Donation.id)
        .limit(limit)
    )
    return [
        PendingCheckout(
            seq=int(row["id"]),
            donation_id=row["public_id"],
            provider_ref=row["provider_ref"] or "",
            amount=Money(row["amount_fen"], row["currency"]),
            created_at=row["created_at"],
        )
        for row in rows
    ]


async def record_checkout(donation_id: str, provider_ref: str, checkout_url: str) -> None:
    async with write_transaction():
        await Donation.update(
            {
                Donation.provider_ref: provider_ref,
                Donation.checkout_url: checkout_url,
                Donation.updated_at: utc_now(),
            }
        ).where(Donation.public_id == donation_id)


# The row every report about a donation starts from, with what its confirmation needs to know
# about the project, in one statement: reports are the hot path (bench/donations.py), and each
# query Piccolo builds costs more here than the database's work.
_LOCKED_SQL = """
SELECT d.id, d.public_id, p.slug AS project_slug, p.goal_fen, d.amount_fen, d.currency,
    d.status, d.display_name, d.anonymous, d.gateway, d.fee_fen, d.refunded_fen,
    d.email IS NOT NULL AS has_email,
    EXISTS (
        SELECT 1 FROM matching_pledge m
        WHERE m.project = d.project AND m.confirmed_at IS NOT NULL
    ) AS may_be_matched,
    EXISTS (
        SELECT 1 FROM donation_refund r WHERE r.donation = d.id AND r.status = 'confirmed'
    ) AS has_confirmed_refunds
FROM donation d JOIN project p ON p.id = d.project
WHERE d.public_id = {}
"""


# The job that mails a confirmed donation's donor their thank-you and receipt link (jobs.py).
THANK_YOU_JOB = "donations.thank_you"

_CONFIRMED_SQL = """
UPDATE donation SET status = {}, fee_fen = {}, confirmed_at = {}, updated_at = {} WHERE id = {}
"""


async def _locked(donation_id: str, gateway: str | None = None) -> dict[str, Any]:
    """The donation's row, locked until the transaction ends; call inside write_transaction.

    With `gateway`, a donation that went through another gateway is unknown: a sandbox
    signature can never confirm a Stripe donation.
    """
    engine = get_engine()
    sql = _LOCKED_SQL + ("FOR UPDATE OF d" if is_postgres(engine) else "")
    rows = await engine.run_querystring(QueryString(sql, donation_id))
    if not rows or (gateway is not None and rows[0]["gateway"] != gateway):
        raise NotFound(N_("No donation %(id)s"), id=donation_id)
    row = dict(rows[0])
    for flag in ("anonymous", "may_be_matched", "has_confirmed_refunds", "has_email"):
        row[flag] = bool(row[flag])  # SQLite answers 0 or 1
    return row


def _fund_event(
    row: dict[str, Any], kind: EntryKind, memo: str, into_fund: int, counterpart: str, key: str
) -> ledger.LedgerEvent:
    """An entry of this donation: `into_fund` fen into the project's fund, from `counterpart`.

    The donation's public id is the entry's `ref`, whatever the kind (ledger.md). An entry of
    a sandbox donation says so in its memo: the public ledger never passes a trial for money.
    """
    currency = row["currency"]
    if row.get("gateway") == GATEWAYS[0]:  # the sandbox: no real money moved
        memo += TEST_MODE_MEMO
    return ledger.LedgerEvent(
        kind=kind,
        memo=memo,
        ref=row["public_id"],
        postings=(
            ledger.Posting(fund_account(row["project_slug"]), into_fund, currency),
            ledger.Posting(counterpart, -into_fund, currency),
        ),
        idempotency_key=key,
    )


def _donation_event(row: dict[str, Any]) -> ledger.LedgerEvent:
    name = public_name(row["display_name"], row["anonymous"])
    key = _donation_key(row["public_id"])
    return _fund_event(row, EntryKind.DONATION, name, row["amount_fen"], "donors:online", key)


def _fee_event(row: dict[str, Any], fee_fen: int) -> ledger.LedgerEvent:
    memo = f"支付手续费（{public_name(row['display_name'], row['anonymous'])}的捐款）"
    fees = f"fees:{row['gateway']}"
    return _fund_event(row, EntryKind.FEE, memo, -fee_fen, fees, f"fee:{row['public_id']}")


def _refund_event(row: dict[str, Any], amount_fen: int, refund_key: str) -> ledger.LedgerEvent:
    memo = f"退款：{public_name(row['display_name'], row['anonymous'])}"
    key = f"refund:{refund_key}"
    return _fund_event(row, EntryKind.REFUND, memo, -amount_fen, "donors:online", key)


async def apply_outcome(
    donation_id: str,
    outcome: ProviderOutcome,
    amount: Money | None = None,
    gateway: str | None = None,
    fee: Money | None = None,
) -> ApplyResult:
    """Apply a provider's report on the payment: confirmed, failed or expired.

    A confirmation posts the `donation` entry, its processor's fee (`fee`, when the same report
    carries it, or the one recorded before) and any refunds the provider already confirmed,
    all in this one transaction. The project's ledger head is locked only from the first
    append on, so everything about the donation itself is decided before.
    """
    async with write_transaction():
        row = await _locked(donation_id, gateway)
        current = DonationStatus(row["status"])
        if amount is not None and (
            amount.amount != row["amount_fen"] or amount.currency != row["currency"]
        ):
            raise Conflict(N_("The provider reports another amount than the donation's"))
        target = next_status(current, outcome)
        if target is not DonationStatus.SUCCEEDED:
            changed = target is not None
            if target is not None:
                await Donation.update(
                    {Donation.status: target.value, Donation.updated_at: utc_now()}
                ).where(Donation.id == row["id"])
            if fee is not None:
                changed = (await record_fee(donation_id, fee, gateway)).changed or changed
            return ApplyResult(donation_id, target or current, changed=changed)
        fee_fen = row["fee_fen"] if fee is None else _checked_fee(row, fee)
        now = utc_now()
        # The donation's own row first: the project's ledger head, which every confirmation
        # of the project waits for, is then held for the ledger's two statements only.
        await get_engine().run_querystring(
            QueryString(_CONFIRMED_SQL, target.value, fee_fen, now, now, row["id"])
        )
        events = [_donation_event(row)]
        if fee_fen > 0:
            events.append(_fee_event(row, fee_fen))
        appended = await ledger.append_all(row["project_slug"], events)
        # The ledger head is ours now (donation row, then head: the one lock order), so the
        # project's status read here is the one a cancellation or completion committed.
        wanted = await takes_money_now(row["project_slug"])
        if wanted and row["may_be_matched"]:
            await draw_matches(row["project_slug"], row["public_id"], row["amount_fen"], now)
        if wanted and appended.raised_fen >= row["goal_fen"]:
            # The status follows the money: reaching the goal ends fundraising in this same
            # transaction, not when somebody next opens a page.
            await close_when_goal_reached(row["project_slug"])
        if row["has_confirmed_refunds"]:
            target = await _post_confirmed_refunds(row)
        if row["has_email"]:  # one thank-you mail, queued with the confirmation (ADR 0027)
            await enqueue(
                THANK_YOU_JOB,
                {"donation": row["public_id"]},
                dedupe_key=f"{THANK_YOU_JOB}:{row['public_id']}",
            )
        return ApplyResult(donation_id, target, changed=True, unwanted=not wanted)


def _checked_fee(row: dict[str, Any], fee: Money) -> int:
    """The fee a provider reports, if this donation may keep it: one fee, above zero, in its
    currency."""
    if fee.amount <= 0:
        raise RuleViolation(N_("A fee must be more than zero"))
    if fee.currency != row["currency"]:
        raise RuleViolation(N_("The fee is in another currency than the donation"))
    if row["fee_fen"] not in (0, fee.amount):
        raise Conflict(N_("The provider reported another fee for this donation"))
    return fee.amount


async def record_fee(donation_id: str, fee: Money, gateway: str | None = None) -> ApplyResult:
    """The provider's fee: kept on the donation, posted once the donation is confirmed."""
    async with write_transaction():
        row = await _locked(donation_id, gateway)
        status = DonationStatus(row["status"])
        changed = row["fee_fen"] != _checked_fee(row, fee)
        if changed:
            await Donation.update(
                {Donation.fee_fen: fee.amount, Donation.updated_at: utc_now()}
            ).where(Donation.id == row["id"])
        if status in (DonationStatus.SUCCEEDED, DonationStatus.REFUNDED):
            posted = await ledger.append(row["project_slug"], _fee_event(row, fee.amount))
            changed = changed or posted.created
        return ApplyResult(donation_id, status, changed=changed)


async def record_refund(
    donation_id: str, provider_ref: str, amount: Money, gateway: str | None = None
) -> ApplyResult:
    """A refund the provider confirmed: posted now, or once the donation is confirmed."""
    if amount.amount <= 0:
        raise RuleViolation(N_("A refund must be more than zero"))
    async with write_transaction():
        row = await _locked(donation_id, gateway)
        existing = (
            await DonationRefund.select(DonationRefund.id, DonationRefund.status)
            .where(DonationRefund.provider_ref == provider_ref)
            .first()
        )
        now = utc_now()
        if existing is None:
            await DonationRefund.insert(
                DonationRefund(
                    public_id=new_refund_id(),
                    donation=row["id"],
                    amount_fen=amount.amount,
                    reason="",
                    actor="provider",
                    status="confirmed",
                    provider_ref=provider_ref,
                    created_at=now,
                    confirmed_at=now,
                )
            )
        elif existing["status"] in (RefundStatus.REQUESTED, RefundStatus.SENT, RefundStatus.FAILED):
            await DonationRefund.update(
                {
                    DonationRefund.status: RefundStatus.CONFIRMED.value,
                    DonationRefund.confirmed_at: now,
                }
            ).where(DonationRefund.id == existing["id"])
        status = DonationStatus(row["status"])
        before = row["refunded_fen"]
        if status in (DonationStatus.SUCCEEDED, DonationStatus.REFUNDED):
            status = await _post_confirmed_refunds(row)
        after = await Donation.select(Donation.refunded_fen).where(Donation.id == row["id"]).first()
        changed = existing is None or (after is not None and after["refunded_fen"] != before)
        return ApplyResult(donation_id, status, changed=changed)


async def _post_confirmed_refunds(row: dict[str, Any]) -> DonationStatus:
    """Post every confirmed, not yet posted refund of a confirmed donation (oldest first)."""
    pending = (
        await DonationRefund.select(
            DonationRefund.id, DonationRefund.amount_fen, DonationRefund.provider_ref
        )
        .where((DonationRefund.donation == row["id"]) & (DonationRefund.status == "confirmed"))
        .order_by(DonationRefund.id)
    )
    current = await Donation.select(Donation.refunded_fen).where(Donation.id == row["id"]).first()
    refunded = current["refunded_fen"] if current else row["refunded_fen"]
    for refund in pending:
        if refund["amount_fen"] > refundable_fen(row["amount_fen"], refunded):
            raise Conflict(N_("A refund cannot exceed what the donation gave"))
        posted = await ledger.append(
            row["project_slug"], _refund_event(row, refund["amount_fen"], refund["provider_ref"])
        )
        refunded += refund["amount_fen"]
        await reverse_match(row["project_slug"], row["public_id"], "捐款退款，配捐随之退回")
        await DonationRefund.update(
            {DonationRefund.status: "posted", DonationRefund.ledger_seq: posted.entry["seq"]}
        ).where(DonationRefund.id == refund["id"])
    status = status_after_refunds(row["amount_fen"], refunded)
    await Donation.update(
        {
            Donation.refunded_fen: refunded,
            Donation.status: status.value,
            Donation.updated_at: utc_now(),
        }
    ).where(Donation.id == row["id"])
    return status


@dataclass(frozen=True, slots=True)
class RefundPlan:
    """A refund the platform decided to ask the provider for."""

    refund_id: str
    donation_id: str
    provider_ref: str
    amount: Money
    reason: str


def _checked_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise RuleViolation(N_("A refund needs a reason"))
    if len(reason) > 200:
        raise RuleViolation(N_("A reason can be at most 200 characters"))
    return reason


async def request_refund(donation_id: str, amount_fen: int, reason: str, actor: str) -> RefundPlan:
    """Check a refund against the donation and the fund, and record that it was asked for.

    Refunds asked for but not yet on the ledger (requested, sent, confirmed) count against what
    may still be refunded, so refunds asked at once cannot together exceed the donation, nor
    the refunds of all the project's donations the fund's balance: the donation's row and then
    the project's ledger head are locked (the one lock order: docs/adr/0015-settlement.md)
    until the caller's transaction ends.
    """
    reason = _checked_reason(reason)
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen <= 0:
        raise RuleViolation(N_("A refund must be more than zero"))
    async with write_transaction():
        row, project, open_refunds = await _refundable(donation_id)
        asked = sum(r["amount_fen"] for r in open_refunds if r["donation"] == row["id"])
        if amount_fen > refundable_fen(row["amount_fen"], row["refunded_fen"] + asked):
            raise RuleViolation(N_("A refund cannot exceed what the donation gave"))
        return await _record_request(row, project, open_refunds, amount_fen, reason, actor)


async def request_full_refund(donation_id: str, reason: str, actor: str) -> RefundPlan | None:
    """Ask for everything of a confirmed donation that the fund received and has not yet given
    back or asked to give back: the donation less its processor's fee (which the processor
    keeps), less refunds posted or open. None when nothing is left to ask, so asking again (a
    settlement run twice, at once or after a crash) asks nothing twice: the remainder is
    computed under the donation's lock. A refund that failed for good is not open, so its
    amount is asked again."""
    reason = _checked_reason(reason)
    async with write_transaction():
        row, project, open_refunds = await _refundable(donation_id)
        asked = sum(r["amount_fen"] for r in open_refunds if r["donation"] == row["id"])
        amount_fen = row["amount_fen"] - row["fee_fen"] - row["refunded_fen"] - asked
        if amount_fen <= 0:
            return None
        return await _record_request(row, project, open_refunds, amount_fen, reason, actor)


async def _refundable(
    donation_id: str,
) -> tuple[dict[str, Any], LockedProject, list[dict[str, Any]]]:
    """The confirmed donation's row and then its project's ledger head, both locked; the open
    refunds of the project."""
    row = await _locked(donation_id)
    if DonationStatus(row["status"]) is not DonationStatus.SUCCEEDED:
        raise Conflict(N_("Only a confirmed donation can be refunded"))
    project = await locked_project(row["project_slug"])
    open_refunds = await DonationRefund.select(
        DonationRefund.donation, DonationRefund.amount_fen
    ).where(
        (DonationRefund.donation.project == project.id)
        & DonationRefund.status.is_in([s.value for s in OPEN_REFUNDS])
    )
    return row, project, list(open_refunds)


async def _record_request(
    row: dict[str, Any],
    project: LockedProject,
    open_refunds: list[dict[str, Any]],
    amount_fen: int,
    reason: str,
    actor: str,
) -> RefundPlan:
    if amount_fen > project.balance - sum(r["amount_fen"] for r in open_refunds):
        raise Conflict(N_("The fund does not hold enough for this refund"))
    provider = await Donation.select(Donation.provider_ref).where(Donation.id == row["id"]).first()
    refund_id = new_refund_id()
    await DonationRefund.insert(
        DonationRefund(
            public_id=refund_id,
            donation=row["id"],
            amount_fen=amount_fen,
            reason=reason,
            actor=actor[:100],
            status=RefundStatus.REQUESTED.value,
            created_at=utc_now(),
        )
    )
    return RefundPlan(
        refund_id=refund_id,
        donation_id=row["public_id"],
        provider_ref=provider["provider_ref"] if provider else "",
        amount=Money(amount_fen, row["currency"]),
        reason=reason,
    )


async def open_refunds_fen(project_id: int) -> int:
    """What the project's refunds asked for and not yet on the ledger add up to: reserved,
    no longer the fund's to spend (spending's "available" subtracts it)."""
    rows = await DonationRefund.select(DonationRefund.amount_fen).where(
        (DonationRefund.donation.project == project_id)
        & DonationRefund.status.is_in([s.value for s in OPEN_REFUNDS])
    )
    return sum(int(r["amount_fen"]) for r in rows)


@dataclass(frozen=True, slots=True)
class RefundState:
    """A refund as the job that sends it finds it: what to ask, through which gateway, and where
    it stands (only a `requested` refund is sent)."""

    plan: RefundPlan
    gateway: str
    status: RefundStatus


async def refund_state(refund_id: str) -> RefundState | None:
    row = (
        await DonationRefund.select(
            DonationRefund.public_id,
            DonationRefund.amount_fen,
            DonationRefund.reason,
            DonationRefund.status,
            DonationRefund.donation.public_id.as_alias("donation_id"),
            DonationRefund.donation.provider_ref.as_alias("provider_ref"),
            DonationRefund.donation.gateway.as_alias("gateway"),
            DonationRefund.donation.currency.as_alias("currency"),
        )
        .where(DonationRefund.public_id == refund_id)
        .first()
    )
    if row is None:
        return None
    plan = RefundPlan(
        refund_id=row["public_id"],
        donation_id=row["donation_id"],
        provider_ref=row["provider_ref"] or "",
        amount=Money(row["amount_fen"], row["currency"]),
        reason=row["reason"],
    )
    return RefundState(plan, row["gateway"], RefundStatus(row["status"]))


@dataclass(frozen=True, slots=True)
class RefundView:
    """One refund of a donation as its stewards see it; `stage` is what they are told
    (`refund_stage`: requested, sent, confirmed or failed)."""

    id: str
    amount: Money
    reason: str
    actor: str
    stage: str
    created_at: datetime
    confirmed_at: datetime | None


async def donation_refunds(donation_id: str) -> list[RefundView]:
    """A donation's refunds, oldest first (a superseded row is left out: the provider's row of
    the same refund stands for it)."""
    rows = (
        await DonationRefund.select(
            DonationRefund.public_id,
            DonationRefund.amount_fen,
            DonationRefund.reason,
            DonationRefund.actor,
            DonationRefund.status,
            DonationRefund.created_at,
            DonationRefund.confirmed_at,
            DonationRefund.donation.currency.as_alias("currency"),
        )
        .where(DonationRefund.donation.public_id == donation_id)
        .order_by(DonationRefund.id)
    )
    views = [
        RefundView(
            id=row["public_id"],
            amount=Money(row["amount_fen"], row["currency"]),
            reason=row["reason"],
            actor=row["actor"],
            stage=refund_stage(RefundStatus(row["status"])),
            created_at=row["created_at"],
            confirmed_at=row["confirmed_at"],
        )
        for row in rows
    ]
    return [view for view in views if view.stage]


async def attach_refund_ref(refund_id: str, provider_ref: str) -> None:
    """The provider took the refund we asked for and named it: `requested` becomes `sent`.

    Call inside the transaction that also applies the provider's confirmation when it came at
    once. The donation's row is locked first, as a webhook reporting the same refund locks it,
    so the two are applied one after the other.
    """
    async with write_transaction():
        owner = (
            await DonationRefund.select(DonationRefund.donation.public_id.as_alias("donation_id"))
            .where(DonationRefund.public_id == refund_id)
            .first()
        )
        if owner is None:
            return
        await _locked(owner["donation_id"])
        reported = (
            await DonationRefund.select(DonationRefund.public_id)
            .where(DonationRefund.provider_ref == provider_ref)
            .first()
        )
        if reported is not None and reported["public_id"] != refund_id:
            # The provider's webhook was faster and recorded this refund already.
            await DonationRefund.update(
                {DonationRefund.status: RefundStatus.SUPERSEDED.value}
            ).where(
                (DonationRefund.public_id == refund_id)
                & (DonationRefund.status == RefundStatus.REQUESTED.value)
            )
            return
        await DonationRefund.update(
            {
                DonationRefund.provider_ref: provider_ref,
                DonationRefund.status: RefundStatus.SENT.value,
            }
        ).where(
            (DonationRefund.public_id == refund_id)
            & (DonationRefund.status == RefundStatus.REQUESTED.value)
        )


async def refund_failed(refund_id: str) -> None:
    """The provider could not be asked, for good: the amount is free to refund again."""
    async with write_transaction():
        await DonationRefund.update({DonationRefund.status: RefundStatus.FAILED.value}).where(
            (DonationRefund.public_id == refund_id)
            & (DonationRefund.status == RefundStatus.REQUESTED.value)
        )


# Moderating the donor wall (docs/adr/0028) ------------------------------------------------------
async def set_message_hidden(actor: Actor, project_slug: str, donation_id: str, hide: bool) -> bool:
    """Hide (or show again) the message of the donation `donation_id` of `project_slug` on the
    donor wall, recording who and when, with an audit record; the ledger is not touched.

    Returns False when the message was already so (nothing written). NotFound for a donation of
    another project; RuleViolation for a donation without a message."""
    async with write_transaction():
        row = (
            await Donation.select(Donation.id, Donation.message, Donation.message_hidden_at)
            .where((Donation.public_id == donation_id) & (Donation.project.slug == project_slug))
            .first()
        )
        if row is None:
            raise NotFound(N_("No donation %(id)s"), id=donation_id)
        if not row["message"].strip():
            raise RuleViolation(N_("This gift has no message"))
        if message_hidden(row["message_hidden_at"]) == hide:
            return False
        at = utc_now() if hide else None
        by = actor.label if hide else ""
        await Donation.update(
            {Donation.message_hidden_at: at, Donation.message_hidden_by: by}
        ).where(Donation.id == row["id"])
        await record_audit(
            actor,
            "donation.message.hide" if hide else "donation.message.show",
            "donation",
            donation_id,
            before={"hidden_at": row["message_hidden_at"]},
            after={"hidden_at": at, "by": by},
        )
    return True
