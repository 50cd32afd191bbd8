"""Donation tables: what a resident gave (or tried to give) and what went back to them.

Money is BigInt fen beside a currency code. A donation's `public_id` is the id shown outside
(the ledger's `ref`, the stewards' pages and API): it is public. The receipt's address holds a
secret token of its own, of which the table keeps only the SHA-256 (`receipt_token_hash`,
unique by the index `donation_receipt_token_hash` of the migration that fills it).
"""

from __future__ import annotations

from piccolo.columns import BigInt, Boolean, ForeignKey, OnDelete, Serial, Timestamptz, Varchar
from piccolo.table import Table

from linju.projects.core.tables import Host, Project


class Donation(Table, tablename="donation"):
    id = Serial(primary_key=True)
    public_id = Varchar(length=40, unique=True)
    receipt_token_hash = Varchar(length=64, null=True, default=None)  # rules.receipt_token_digest
    # The token sealed for the thank-you mail (rules.seal_receipt_token), only while a donation
    # with an e-mail waits for that mail; cleared once it is sent (ADR 0027).
    receipt_seal = Varchar(length=255, null=True, default=None)
    project = ForeignKey(references=Project, on_delete=OnDelete.restrict, null=False, index=True)
    amount_fen = BigInt()
    currency = Varchar(length=3, default="CNY")
    display_name = Varchar(length=40, default="")
    anonymous = Boolean(default=False)
    message = Varchar(length=200, default="")
    # A steward hid the message from the donor wall (docs/adr/0028): when and who; null when shown.
    message_hidden_at = Timestamptz(null=True, default=None)
    message_hidden_by = Varchar(length=100, default="")
    email = Varchar(length=254, null=True, default=None)  # never shown publicly
    status = Varchar(length=16, default="pending", index=True)
    gateway = Varchar(length=32)
    provider_ref = Varchar(length=255, default="")  # the provider's checkout reference
    checkout_url = Varchar(length=2000, default="")
    fee_fen = BigInt(default=0)  # the processor's fee once reported
    refunded_fen = BigInt(default=0)  # confirmed refunds posted to the ledger
    created_at = Timestamptz()
    confirmed_at = Timestamptz(null=True, default=None)
    updated_at = Timestamptz()


class DonationRefund(Table, tablename="donation_refund"):
    """A refund asked for by the platform or reported by the provider.

    `provider_ref` names the provider's refund; it keys the ledger entry, so the refund the
    platform asked for and the provider's later report of it post once. A refund confirmed
    before its donation (events in any order) waits here until the donation is confirmed.
    """

    id = Serial(primary_key=True)
    public_id = Varchar(length=40, unique=True)
    donation = ForeignKey(references=Donation, on_delete=OnDelete.restrict, null=False, index=True)
    amount_fen = BigInt()
    reason = Varchar(length=200, default="")
    actor = Varchar(length=100, default="")
    status = Varchar(length=16, default="requested")  # rules.RefundStatus
    provider_ref = Varchar(length=255, null=True, default=None, unique=True)
    ledger_seq = BigInt(null=True, default=None)
    created_at = Timestamptz()
    confirmed_at = Timestamptz(null=True, default=None)


class OfficialReceipt(Table, tablename="official_receipt"):
    """A donor's request for an official donation receipt (捐赠票据) and, once the host's finance
    staff issued it, the receipt (docs/adr/0030-official-receipts-and-host-finance.md).

    One per donation (`donation` is unique). The payer's name, credit code and e-mail are
    personal: no public page, export, API answer or ledger entry reads this table. A receipt's
    number is unique per host (the unique index `official_receipt_host_number` of its
    migration); the PDF is a private object of the storage. `link_seal` holds the receipt
    page's token, sealed, from the request until the "issued" mail is sent (ADR 0027's seal).
    """

    id = Serial(primary_key=True)
    public_id = Varchar(length=40, unique=True)
    donation = ForeignKey(references=Donation, on_delete=OnDelete.restrict, null=False, unique=True)
    status = Varchar(length=16, default="requested", index=True)  # rules.OfficialReceiptStatus
    payer_kind = Varchar(length=16)  # rules.PayerKind
    payer_name = Varchar(length=100)
    credit_code = Varchar(length=18, default="")
    email = Varchar(length=254)
    link_seal = Varchar(length=255, null=True, default=None)
    requested_at = Timestamptz()
    host = ForeignKey(references=Host, on_delete=OnDelete.restrict, null=True, default=None)
    receipt_code = Varchar(length=20, null=True, default=None)  # 票据代码
    receipt_number = Varchar(length=20, null=True, default=None)  # 票据号码
    amount_fen = BigInt(null=True, default=None)  # what the receipt is made out for
    pdf_path = Varchar(length=255, default="")
    pdf_sha256 = Varchar(length=64, default="")
    issued_at = Timestamptz(null=True, default=None)
    issued_by = Varchar(length=254, default="")
