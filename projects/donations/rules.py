"""Pure rules of a donation: its amount, its words, its states. No database, no web.

Amounts typed by people are yuan text ("88.5"), read by the kernel's `parse_yuan` into whole fen.
The state machine is the one place that decides what a provider's report does to a donation,
so events arriving duplicated or in any order end in the same state.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import cn2an
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from linju.platform.kernel.errors import N_, ValidationErrors
from linju.platform.kernel.inputs import whole_number
from linju.platform.kernel.money import yuan_or_none

MIN_DONATION_FEN = 100  # ¥1.00
MAX_DISPLAY_NAME_LENGTH = 40
MAX_MESSAGE_LENGTH = 200
MAX_EMAIL_LENGTH = 254
MAX_REASON_LENGTH = 200
ANONYMOUS_NAME = "匿名"  # what the public sees, in the ledger's memo too, whatever the locale
DONATION_CURRENCY = "CNY"
PRESET_AMOUNTS_FEN = (1000, 5000, 10000, 50000)
EMAIL_PATTERN = re.compile(
    r"^[^@\s<>\"']{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)


class DonationStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    EXPIRED = "expired"
    REFUNDED = "refunded"  # wholly refunded; a partial refund keeps `succeeded`


class RefundStatus(StrEnum):
    """Where a refund stands. The platform's own: `requested` (recorded, its job will send it),
    `sent` (the provider took it and named it), then `confirmed` by the provider and `posted`
    once its ledger entry is written, or `failed` (the provider could not be asked; the amount
    is free to refund again). `superseded`: the provider's report of the same refund arrived
    first and is recorded in its own row, which carries on. A refund the provider reports
    without our asking (its dashboard) starts `confirmed`."""

    REQUESTED = "requested"
    SENT = "sent"
    CONFIRMED = "confirmed"
    POSTED = "posted"
    FAILED = "failed"
    SUPERSEDED = "superseded"


# Asked for and not yet on the ledger: counted against what the donation and the fund can give.
OPEN_REFUNDS = (RefundStatus.REQUESTED, RefundStatus.SENT, RefundStatus.CONFIRMED)


def refund_stage(status: RefundStatus) -> str:
    """What people are told of a refund: `requested`, `sent`, `confirmed` or `failed`; "" for a
    superseded row, which is not shown (the provider's own row of the same refund is)."""
    if status in (RefundStatus.CONFIRMED, RefundStatus.POSTED):
        return "confirmed"
    if status is RefundStatus.SUPERSEDED:
        return ""
    return status.value


class ProviderOutcome(StrEnum):
    """What a provider can report about a donation's payment."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    EXPIRED = "expired"


def new_donation_id() -> str:
    """An unguessable public id: 22 URL-safe characters hold 132 random bits."""
    return "don_" + secrets.token_urlsafe(16)[:22]


def new_refund_id() -> str:
    return "rfd_" + secrets.token_urlsafe(16)[:22]


MAX_RECEIPT_TOKEN_LENGTH = 100  # what a receipt address may hold before it is looked up at all


def new_receipt_token() -> str:
    """The secret of a donation's receipt address: 256 random bits, 43 URL-safe characters.

    Not the donation's id, which is public (the ledger's `ref`): only the donor is given it.
    """
    return secrets.token_urlsafe(32)


def receipt_token_digest(token: str) -> str:
    """What the database keeps of a receipt token: its SHA-256, so a copy of the database opens
    no receipt (docs/adr/0020-private-receipts-and-api-csrf.md)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _sealer(secret: str) -> Fernet:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"linju receipt link for its mail"
    ).derive(secret.encode("utf-8"))
    return Fernet(base64.urlsafe_b64encode(key))


def seal_receipt_token(token: str, secret: str) -> str:
    """The receipt token kept, until the thank-you mail is sent, encrypted (Fernet) under a key
    derived from the platform's secret key: a copy of the database alone still opens no
    receipt (docs/adr/0027-host-and-fund.md, amending 0020)."""
    return _sealer(secret).encrypt(token.encode("utf-8")).decode("ascii")


def open_receipt_seal(sealed: str, secret: str) -> str:
    """The receipt token of `seal_receipt_token` (cryptography's InvalidToken otherwise)."""
    return _sealer(secret).decrypt(sealed.encode("ascii")).decode("utf-8")


def receipt_path(token: str) -> str:
    """The receipt page's path; the donation's status API is `/api/v1` + this path."""
    return f"/donations/{token}"


@dataclass(frozen=True, slots=True)
class DonationInput:
    """What a donor submits, already typed: the amount in fen, the words as given."""

    amount_fen: int
    currency: str
    display_name: str
    anonymous: bool
    message: str
    email: str


def amount_problem(amount_fen: object, currency: str, max_fen: int) -> str | None:
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int):
        return N_("The amount must be a whole number of fen")
    if currency != DONATION_CURRENCY:
        return N_("Donations are in CNY only")
    if amount_fen < MIN_DONATION_FEN:
        return N_("The smallest donation is ¥1.00")
    if amount_fen > max_fen:
        return N_("This is more than the largest donation the platform accepts")
    return None


def donation_problems(data: DonationInput, max_fen: int) -> dict[str, str]:
    """Field -> message id for everything wrong with a donation, all at once; empty when fine."""
    problems: dict[str, str] = {}
    amount = amount_problem(data.amount_fen, data.currency, max_fen)
    if amount:
        problems["amount"] = amount
    if len(data.display_name) > MAX_DISPLAY_NAME_LENGTH:
        problems["display_name"] = N_("A display name can be at most 40 characters")
    if len(data.message) > MAX_MESSAGE_LENGTH:
        problems["message"] = N_("A message can be at most 200 characters")
    if data.email and (len(data.email) > MAX_EMAIL_LENGTH or not EMAIL_PATTERN.match(data.email)):
        problems["email"] = N_("This e-mail address does not look right")
    for field, text in (("display_name", data.display_name), ("message", data.message)):
        if any(ord(ch) < 32 and ch not in "\n\r\t" for ch in text) and field not in problems:
            problems[field] = N_("Control characters are not allowed")
    return problems


def public_name(display_name: str, anonymous: bool) -> str:
    """What the donor wall and the ledger's memo show."""
    return ANONYMOUS_NAME if anonymous or not display_name.strip() else display_name.strip()


def next_status(current: DonationStatus, outcome: ProviderOutcome) -> DonationStatus | None:
    """The status a provider's report moves a donation to; None when it changes nothing.

    Money received wins: a confirmation applies even after a failure or expiry was reported
    (events can arrive in any order), and nothing but a refund moves a succeeded donation.
    """
    if outcome is ProviderOutcome.SUCCEEDED:
        if current in (DonationStatus.PENDING, DonationStatus.FAILED, DonationStatus.EXPIRED):
            return DonationStatus.SUCCEEDED
        return None
    if current is DonationStatus.PENDING:
        return DonationStatus(outcome.value)
    return None


def refundable_fen(amount_fen: int, refunded_fen: int) -> int:
    return max(0, amount_fen - refunded_fen)


def status_after_refunds(amount_fen: int, refunded_fen: int) -> DonationStatus:
    return DonationStatus.REFUNDED if refunded_fen >= amount_fen else DonationStatus.SUCCEEDED


FORM_FIELDS = ("amount_choice", "custom_amount", "display_name", "anonymous", "message", "email")


def _preset(choice: str) -> int:
    """A preset's value as the form sends it (fen, ASCII digits); -1 for anything else."""
    try:
        return whole_number(choice)
    except ValueError:
        return -1


def donation_from_form(fields: Mapping[str, str]) -> tuple[DonationInput, dict[str, str]]:
    """A donate form's fields, typed; the amount problems found while reading them.

    A preset is one of PRESET_AMOUNTS_FEN; a custom amount is yuan text, and wins whenever
    it is filled in, so a donor who types 88.5 is never charged the preset left selected.
    """
    problems: dict[str, str] = {}
    choice = fields.get("amount_choice", "").strip()
    custom = fields.get("custom_amount", "").strip()
    amount_fen = 0
    if custom or choice == "custom":
        parsed = yuan_or_none(custom)
        if parsed is None:
            problems["amount"] = N_("Enter an amount in yuan, like 88 or 88.50")
        else:
            amount_fen = parsed
    elif _preset(choice) in PRESET_AMOUNTS_FEN:
        amount_fen = _preset(choice)
    else:
        problems["amount"] = N_("Choose an amount or enter one")
    data = DonationInput(
        amount_fen=amount_fen,
        currency=DONATION_CURRENCY,
        display_name=fields.get("display_name", "").strip(),
        anonymous=fields.get("anonymous", "") in ("on", "1", "true", "yes"),
        message=fields.get("message", "").strip(),
        email=fields.get("email", "").strip(),
    )
    return data, problems


def donation_from_json(payload: Any) -> DonationInput:
    """The Donate API's body (contract.md), typed; ValidationErrors for any malformed field."""
    problems: dict[str, str] = {}
    if not isinstance(payload, dict):
        raise ValidationErrors({"body": N_("The body must be a JSON object")})
    amount = payload.get("amount")
    amount_fen: Any = None
    currency: Any = None
    if isinstance(amount, dict):
        amount_fen, currency = amount.get("amount"), amount.get("currency")
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int):
        problems["amount"] = N_("The amount must be a whole number of fen")
    elif not isinstance(currency, str) or currency != DONATION_CURRENCY:
        problems["amount"] = N_("Donations are in CNY only")
    texts: dict[str, str] = {}
    for field in ("display_name", "message", "email"):
        value = payload.get(field)
        if value is not None and not isinstance(value, str):
            problems[field] = N_("This field must be text or null")
        texts[field] = value if isinstance(value, str) else ""
    anonymous = payload.get("anonymous", False)
    if not isinstance(anonymous, bool):
        problems["anonymous"] = N_("This field must be true or false")
    if problems:
        raise ValidationErrors(problems)
    return DonationInput(
        amount_fen=amount_fen,
        currency=currency,
        display_name=texts["display_name"].strip(),
        anonymous=bool(anonymous),
        message=texts["message"].strip(),
        email=texts["email"].strip(),
    )


def amount_in_capitals(amount_fen: int) -> str:
    """An amount as a cheque writes it, in Chinese capital numerals, by cn2an's `rmb` mode:
    20000 fen is 人民币贰佰元整, 8850 fen 人民币捌拾捌元伍角 (the review step, WCAG 3.3.4)."""
    yuan, fen = divmod(amount_fen, 100)
    return "人民币" + str(cn2an.an2cn(f"{yuan}.{fen:02d}", "rmb"))


def form_fields(fields: Mapping[str, str]) -> dict[str, str]:
    """The donate form's fields as typed, to carry (hidden) through the review step."""
    return {field: fields.get(field, "") for field in FORM_FIELDS}


# Ends the memo of every ledger entry of a sandbox donation (no real money moved).
TEST_MODE_MEMO = "（测试模式，不收真钱）"


def message_hidden(hidden_at: object | None) -> bool:
    """A gift's message is hidden from the donor wall while a steward's hiding stands
    (docs/adr/0028): the moment it was hidden is kept, and cleared when shown again."""
    return hidden_at is not None


# Official donation receipts (捐赠票据, docs/adr/0030-official-receipts-and-host-finance.md) ----
MAX_PAYER_NAME_LENGTH = 100
MAX_RECEIPT_PDF_BYTES = 5 * 1024 * 1024
RECEIPT_CODE_PATTERN = re.compile(r"^[0-9]{4,20}$")  # 票据代码: digits (8 on today's receipts)
RECEIPT_NUMBER_PATTERN = re.compile(r"^[0-9]{4,20}$")  # 票据号码: digits (10 on today's)
INVALID_CREDIT_CODE = N_(
    "This is not a valid unified social credit code (18 characters; the last one is a check "
    "character)"
)


class PayerKind(StrEnum):
    """Who the official receipt names as the payer (交款人): a person or an organisation."""

    PERSON = "person"
    ORGANISATION = "organisation"


class OfficialReceiptStatus(StrEnum):
    REQUESTED = "requested"  # 已申请: the host's finance staff have it in their queue
    ISSUED = "issued"  # 已开具: the electronic receipt is uploaded and the donor mailed


@dataclass(frozen=True, slots=True)
class ReceiptRequestInput:
    """What a donor asks an official receipt with, as typed."""

    payer_kind: str
    payer_name: str
    credit_code: str
    email: str


def new_official_receipt_id() -> str:
    return "orc_" + secrets.token_urlsafe(16)[:22]


def receipt_askable(status: DonationStatus) -> bool:
    """Only money the fund kept is receipted: a confirmed donation (a partly refunded one too,
    for what is left), not a pending, failed, expired or wholly refunded one."""
    return status is DonationStatus.SUCCEEDED


def receipt_request_problems(
    data: ReceiptRequestInput, valid_credit_code: str | None
) -> dict[str, str]:
    """Field -> message id for everything wrong with a request, all at once; empty when fine.
    A person's request ignores the credit code field (a person has none).

    `valid_credit_code` is the credit code as the host's own check reads it (python-stdnum's
    `cn.uscc`, `projects.core.rules.credit_code`), None when it is not one."""
    problems: dict[str, str] = {}
    if data.payer_kind not in {kind.value for kind in PayerKind}:
        problems["payer_kind"] = N_("Choose a person or an organisation")
    name = data.payer_name.strip()
    if not name:
        problems["payer_name"] = N_("Enter the name the receipt is made out to")
    elif len(name) > MAX_PAYER_NAME_LENGTH:
        problems["payer_name"] = N_("A name is at most 100 characters")
    elif any(ord(ch) < 32 for ch in name):
        problems["payer_name"] = N_("Control characters are not allowed")
    if data.payer_kind == PayerKind.ORGANISATION.value:
        if not data.credit_code.strip():
            problems["credit_code"] = N_("Enter the credit code of the organisation")
        elif valid_credit_code is None:
            problems["credit_code"] = INVALID_CREDIT_CODE
    email = data.email.strip()
    if not email:
        problems["email"] = N_("Enter the e-mail address the receipt is sent to")
    elif len(email) > MAX_EMAIL_LENGTH or not EMAIL_PATTERN.match(email):
        problems["email"] = N_("This e-mail address does not look right")
    return problems


def issue_problems(receipt_code: str, receipt_number: str) -> dict[str, str]:
    """Field -> message id for the receipt's code and number as the finance staff typed them."""
    problems: dict[str, str] = {}
    if not RECEIPT_CODE_PATTERN.match(receipt_code):
        problems["receipt_code"] = N_("The receipt code is 4 to 20 digits, as printed on it")
    if not RECEIPT_NUMBER_PATTERN.match(receipt_number):
        problems["receipt_number"] = N_("The receipt number is 4 to 20 digits, as printed on it")
    return problems


def receipt_pdf_problem(data: bytes) -> str | None:
    """Why these bytes are not an electronic receipt we keep, or None: a PDF by its content (the
    `%PDF-` signature first and the `%%EOF` marker in its last kilobyte: a whole file, not a
    renamed one or half an upload), at most 5 MB."""
    if not data:
        return N_("Attach the electronic receipt (PDF)")
    if len(data) > MAX_RECEIPT_PDF_BYTES:
        return N_("The PDF may be at most 5 MB")
    if not data.startswith(b"%PDF-") or b"%%EOF" not in data[-1024:]:
        return N_("This file is not a PDF")
    return None
