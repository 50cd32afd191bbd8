"""Official donation receipts (捐赠票据): a donor asks, the host's finance staff issue.

docs/adr/0030-official-receipts-and-host-finance.md. The donor asks from their private receipt
page (by its secret token), for a confirmed donation, once: the payer (a person, or an
organisation with its 统一社会信用代码, checked by python-stdnum through the host's own check) and
the e-mail the receipt goes to. The host's finance staff see the requests oldest first, record
the receipt's code and number (unique per host) and upload the electronic receipt the finance
system issued (a PDF, stored privately); a job then mails the donor the link to their receipt
page, where the PDF is downloaded with the same token.

Nothing here is public: no public page, export, API answer or ledger entry reads the payer's
name, credit code or e-mail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from piccolo.querystring import QueryString

from linju.platform.accounts.audit import Actor, record_audit
from linju.platform.db import get_engine, is_postgres, write_transaction
from linju.platform.jobs.queue import enqueue
from linju.platform.kernel.clock import utc_now
from linju.platform.kernel.errors import N_, Conflict, NotFound, ValidationErrors
from linju.platform.kernel.money import Money
from linju.platform.settings import get_settings
from linju.projects.core import files
from linju.projects.core.rules import credit_code
from linju.projects.core.tables import Host
from linju.projects.donations.rules import (
    MAX_RECEIPT_TOKEN_LENGTH,
    DonationStatus,
    OfficialReceiptStatus,
    PayerKind,
    ReceiptRequestInput,
    issue_problems,
    new_official_receipt_id,
    receipt_askable,
    receipt_pdf_problem,
    receipt_request_problems,
    receipt_token_digest,
    seal_receipt_token,
)
from linju.projects.donations.tables import Donation, OfficialReceipt

# The job that mails the donor once their official receipt is issued (jobs.py).
OFFICIAL_RECEIPT_JOB = "donations.official_receipt"
PDF = "application/pdf"


@dataclass(frozen=True, slots=True)
class OfficialReceiptView:
    """A request and, once issued, its receipt: what the donor and the finance staff see."""

    id: str
    status: OfficialReceiptStatus
    payer_kind: PayerKind
    payer_name: str
    credit_code: str
    email: str
    requested_at: datetime
    donation_id: str
    project_title: str
    fund_name: str
    amount: Money  # the donation less what was refunded (what the receipt is made out for)
    donated_at: datetime | None
    receipt_code: str = ""
    receipt_number: str = ""
    issued_at: datetime | None = None
    issued_by: str = ""

    @property
    def issued(self) -> bool:
        return self.status is OfficialReceiptStatus.ISSUED


_COLUMNS = (
    OfficialReceipt.public_id,
    OfficialReceipt.status,
    OfficialReceipt.payer_kind,
    OfficialReceipt.payer_name,
    OfficialReceipt.credit_code,
    OfficialReceipt.email,
    OfficialReceipt.requested_at,
    OfficialReceipt.receipt_code,
    OfficialReceipt.receipt_number,
    OfficialReceipt.amount_fen,
    OfficialReceipt.issued_at,
    OfficialReceipt.issued_by,
    OfficialReceipt.donation.public_id.as_alias("donation_id"),
    OfficialReceipt.donation.amount_fen.as_alias("donation_fen"),
    OfficialReceipt.donation.refunded_fen.as_alias("refunded_fen"),
    OfficialReceipt.donation.currency.as_alias("currency"),
    OfficialReceipt.donation.confirmed_at.as_alias("donated_at"),
    OfficialReceipt.donation._.project._.title.as_alias("project_title"),
    OfficialReceipt.donation._.project._.fund_name.as_alias("fund_name"),
)


def _view(row: dict[str, Any]) -> OfficialReceiptView:
    issued_fen = row["amount_fen"]
    amount_fen = issued_fen if issued_fen is not None else row["donation_fen"] - row["refunded_fen"]
    return OfficialReceiptView(
        id=row["public_id"],
        status=OfficialReceiptStatus(row["status"]),
        payer_kind=PayerKind(row["payer_kind"]),
        payer_name=row["payer_name"],
        credit_code=row["credit_code"],
        email=row["email"],
        requested_at=row["requested_at"],
        donation_id=row["donation_id"],
        project_title=row["project_title"],
        fund_name=row["fund_name"] or row["project_title"],
        amount=Money(amount_fen, row["currency"]),
        donated_at=row["donated_at"],
        receipt_code=row["receipt_code"] or "",
        receipt_number=row["receipt_number"] or "",
        issued_at=row["issued_at"],
        issued_by=row["issued_by"],
    )


async def _donation_by_token(token: str) -> dict[str, Any]:
    """The donation whose receipt address holds `token` (id, status, e-mail); 404 otherwise."""
    row = None
    if 0 < len(token) <= MAX_RECEIPT_TOKEN_LENGTH:
        row = (
            await Donation.select(Donation.id, Donation.public_id, Donation.status, Donation.email)
            .where(Donation.receipt_token_hash == receipt_token_digest(token))
            .first()
        )
    if row is None:
        raise NotFound(N_("There is no receipt at this address"))
    return dict(row)


async def receipt_request_of(token: str) -> OfficialReceiptView | None:
    """The request made for the donation of this receipt token, or None."""
    donation = await _donation_by_token(token)
    row = (
        await OfficialReceipt.select(*_COLUMNS)
        .where(OfficialReceipt.donation == donation["id"])
        .first()
    )
    return _view(row) if row is not None else None


async def donation_email(token: str) -> str:
    """The e-mail the donor gave with the donation ("" when none): the request form's default."""
    return str((await _donation_by_token(token))["email"] or "")


async def _lock(table: str, row_id: int) -> None:
    """Lock one row until the transaction ends (PostgreSQL; SQLite's write transaction already
    holds the whole database's write lock)."""
    engine = get_engine()
    if is_postgres(engine):
        await engine.run_querystring(
            QueryString(f"SELECT id FROM {table} WHERE id = {{}} FOR UPDATE", row_id)
        )


async def _request_of(donation_pk: int) -> OfficialReceiptView | None:
    row = (
        await OfficialReceipt.select(*_COLUMNS)
        .where(OfficialReceipt.donation == donation_pk)
        .first()
    )
    return _view(row) if row is not None else None


async def ask_for_receipt(
    token: str, data: ReceiptRequestInput
) -> tuple[OfficialReceiptView, bool]:
    """Record the donor's request for the donation of `token`; (the request, True when made
    now). A donation that has one already answers it (False), whatever was typed: one request
    per donation (the unique `donation` column is the database's guarantee).

    Refused: a donation not confirmed or wholly refunded (Conflict), no host charity named yet
    (Conflict), and bad fields (ValidationErrors, each beside its field). The token is kept
    sealed until the "issued" mail, which links to the receipt page, is sent."""
    async with write_transaction():
        donation = await _donation_by_token(token)
        seal = seal_receipt_token(token, get_settings().secret_key)
        return await _ask(donation, data, seal)


async def ask_for_receipt_of(
    donation_id: str, data: ReceiptRequestInput
) -> tuple[OfficialReceiptView, bool]:
    """The same request made for a donation known by its public id (the demo): without the
    receipt token, so no "issued" mail is sent for it (there is no link to give)."""
    async with write_transaction():
        row = (
            await Donation.select(Donation.id, Donation.public_id, Donation.status, Donation.email)
            .where(Donation.public_id == donation_id)
            .first()
        )
        if row is None:
            raise NotFound(N_("No donation %(id)s"), id=donation_id)
        return await _ask(dict(row), data, None)


async def _ask(
    donation: dict[str, Any], data: ReceiptRequestInput, seal: str | None
) -> tuple[OfficialReceiptView, bool]:
    problems = receipt_request_problems(data, credit_code(data.credit_code))
    await _lock("donation", donation["id"])
    existing = await _request_of(donation["id"])
    if existing is not None:
        return existing, False
    if not receipt_askable(DonationStatus(donation["status"])):
        raise Conflict(N_("Only a confirmed donation can have an official receipt"))
    if not await Host.exists():
        raise Conflict(
            N_("The host charity is not named yet: no official receipt can be asked for")
        )
    if problems:
        raise ValidationErrors(problems)
    organisation = data.payer_kind == PayerKind.ORGANISATION.value
    code = credit_code(data.credit_code) if organisation else None
    await OfficialReceipt.insert(
        OfficialReceipt(
            public_id=new_official_receipt_id(),
            donation=donation["id"],
            status=OfficialReceiptStatus.REQUESTED.value,
            payer_kind=data.payer_kind,
            payer_name=data.payer_name.strip(),
            credit_code=code or "",
            email=data.email.strip(),
            link_seal=seal,
            requested_at=utc_now(),
        )
    )
    made = await _request_of(donation["id"])
    assert made is not None
    return made, True


async def receipt_pdf_by_token(token: str) -> bytes:
    """The issued receipt's PDF of the donation of `token`; 404 before it is issued."""
    donation = await _donation_by_token(token)
    row = (
        await OfficialReceipt.select(OfficialReceipt.status, OfficialReceipt.pdf_path)
        .where(OfficialReceipt.donation == donation["id"])
        .first()
    )
    if row is None or row["status"] != OfficialReceiptStatus.ISSUED.value or not row["pdf_path"]:
        raise NotFound(N_("No official receipt has been issued for this donation yet"))
    return await files.read(row["pdf_path"])


# The host's finance staff -----------------------------------------------------------------------
async def pending_requests() -> list[OfficialReceiptView]:
    """Requests not yet issued, oldest first: the finance staff's queue."""
    rows = (
        await OfficialReceipt.select(*_COLUMNS)
        .where(OfficialReceipt.status == OfficialReceiptStatus.REQUESTED.value)
        .order_by(OfficialReceipt.requested_at)
        .order_by(OfficialReceipt.id)
    )
    return [_view(row) for row in rows]


async def issued_receipts(limit: int = 50) -> list[OfficialReceiptView]:
    """The receipts issued most recently, newest first."""
    rows = (
        await OfficialReceipt.select(*_COLUMNS)
        .where(OfficialReceipt.status == OfficialReceiptStatus.ISSUED.value)
        .order_by(OfficialReceipt.issued_at, ascending=False)
        .order_by(OfficialReceipt.id, ascending=False)
        .limit(limit)
    )
    return [_view(row) for row in rows]


async def official_receipt(receipt_id: str) -> OfficialReceiptView:
    row = (
        await OfficialReceipt.select(*_COLUMNS)
        .where(OfficialReceipt.public_id == receipt_id)
        .first()
    )
    if row is None:
        raise NotFound(N_("No such receipt request"))
    return _view(row)


async def receipt_pdf(receipt_id: str) -> bytes:
    """The issued receipt's PDF, for the finance staff; 404 before it is issued."""
    row = (
        await OfficialReceipt.select(OfficialReceipt.pdf_path)
        .where(OfficialReceipt.public_id == receipt_id)
        .first()
    )
    if row is None or not row["pdf_path"]:
        raise NotFound(N_("No official receipt has been issued for this donation yet"))
    return await files.read(row["pdf_path"])


@dataclass(frozen=True, slots=True)
class ReceiptIssue:
    """What the finance staff record: the receipt's code and number, and its PDF."""

    receipt_code: str
    receipt_number: str
    pdf: bytes


async def _host_id() -> int:
    row = await Host.select(Host.id).order_by(Host.id).first()
    if row is None:
        raise Conflict(N_("The host charity is not named yet: no official receipt can be issued"))
    return int(row["id"])


async def issue_receipt(actor: Actor, receipt_id: str, issue: ReceiptIssue) -> OfficialReceiptView:
    """Record the receipt issued for a request, store its PDF privately and queue the mail.

    Every field is checked first, all at once (ValidationErrors beside each). Under the host's
    row lock (so two issues of one number are decided one after the other; the unique index is
    the database's own guarantee): a number the host already used is refused beside the number,
    a request already issued or whose donation was wholly refunded since is refused (Conflict).
    The PDF is written before the row that names it and discarded again when refused."""
    code, number = issue.receipt_code.strip(), issue.receipt_number.strip()
    problems = issue_problems(code, number)
    pdf_problem = receipt_pdf_problem(issue.pdf)
    if pdf_problem:
        problems["pdf"] = pdf_problem
    if problems:
        raise ValidationErrors(problems)
    stored = await files.store(issue.pdf, "private")
    try:
        async with write_transaction():
            host_id = await _host_id()
            await _lock("host", host_id)
            row = (
                await OfficialReceipt.select(
                    OfficialReceipt.id,
                    OfficialReceipt.status,
                    OfficialReceipt.link_seal,
                    OfficialReceipt.donation.status.as_alias("donation_status"),
                    OfficialReceipt.donation.amount_fen.as_alias("donation_fen"),
                    OfficialReceipt.donation.refunded_fen.as_alias("refunded_fen"),
                )
                .where(OfficialReceipt.public_id == receipt_id)
                .first()
            )
            if row is None:
                raise NotFound(N_("No such receipt request"))
            await _lock("official_receipt", row["id"])
            if row["status"] != OfficialReceiptStatus.REQUESTED.value:
                raise Conflict(N_("This receipt was issued already"))
            if not receipt_askable(DonationStatus(row["donation_status"])):
                raise Conflict(
                    N_("The donation was refunded: no official receipt can be issued for it")
                )
            if await OfficialReceipt.exists().where(
                (OfficialReceipt.host == host_id) & (OfficialReceipt.receipt_number == number)
            ):
                raise ValidationErrors(
                    {"receipt_number": N_("The host has issued a receipt with this number already")}
                )
            amount_fen = int(row["donation_fen"]) - int(row["refunded_fen"])
            now = utc_now()
            await OfficialReceipt.update(
                {
                    OfficialReceipt.status: OfficialReceiptStatus.ISSUED.value,
                    OfficialReceipt.host: host_id,
                    OfficialReceipt.receipt_code: code,
                    OfficialReceipt.receipt_number: number,
                    OfficialReceipt.amount_fen: amount_fen,
                    OfficialReceipt.pdf_path: stored.path,
                    OfficialReceipt.pdf_sha256: stored.sha256,
                    OfficialReceipt.issued_at: now,
                    OfficialReceipt.issued_by: actor.label[:254],
                }
            ).where(OfficialReceipt.id == row["id"])
            await record_audit(
                actor,
                "official_receipt.issue",
                "official_receipt",
                receipt_id,
                before={"status": OfficialReceiptStatus.REQUESTED.value},
                after={
                    "status": OfficialReceiptStatus.ISSUED.value,
                    "receipt_code": code,
                    "receipt_number": number,
                    "amount_fen": amount_fen,
                    "pdf_sha256": stored.sha256,
                },
            )
            if row["link_seal"]:  # a request made without the token (the demo) has no link
                await enqueue(
                    OFFICIAL_RECEIPT_JOB,
                    {"receipt": receipt_id},
                    dedupe_key=f"{OFFICIAL_RECEIPT_JOB}:{receipt_id}",
                )
    except BaseException:
        await files.discard(stored.path)
        raise
    return await official_receipt(receipt_id)
