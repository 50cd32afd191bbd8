"""The payment adapter's own tables.

`ProcessedEvent` remembers every provider event applied, so a redelivered event is recognised.
`ReconcileWatermark` remembers, per gateway, from when the scheduled reconciliation asks next.
The sandbox's tables stand in for a provider's own records: its checkout sessions and refunds
live here, not in the domain, and `SandboxGateway.events_since` reads them as a provider's event
list would be read.
"""

from __future__ import annotations

from piccolo.columns import BigInt, Serial, Timestamptz, Varchar
from piccolo.table import Table


class ProcessedEvent(Table, tablename="payment_processed_event"):
    id = Serial(primary_key=True)
    gateway = Varchar(length=32)
    event_id = Varchar(length=255, unique=True)
    kind = Varchar(length=16)
    donation_id = Varchar(length=40, index=True)
    outcome = Varchar(length=32)
    processed_at = Timestamptz()


class ReconcileWatermark(Table, tablename="payment_reconcile_watermark"):
    """The start of the last successful scheduled reconciliation of a gateway: the next run asks
    the provider for its events from here, less an overlap (payments/reconcile.py)."""

    id = Serial(primary_key=True)
    gateway = Varchar(length=32, unique=True)
    reconciled_until = Timestamptz()
    updated_at = Timestamptz()


class SandboxSession(Table, tablename="payment_sandbox_session"):
    id = Serial(primary_key=True)
    public_id = Varchar(length=40, unique=True)
    idempotency_key = Varchar(length=200, unique=True)
    donation_id = Varchar(length=40, index=True)
    project_slug = Varchar(length=64)
    project_title = Varchar(length=200)
    amount_fen = BigInt()
    currency = Varchar(length=3, default="CNY")
    fee_fen = BigInt(default=0)
    success_url = Varchar(length=2000)
    cancel_url = Varchar(length=2000)
    status = Varchar(length=16, default="open")  # open, paid, failed, abandoned
    created_at = Timestamptz()
    completed_at = Timestamptz(null=True, default=None)


class SandboxRefund(Table, tablename="payment_sandbox_refund"):
    id = Serial(primary_key=True)
    public_id = Varchar(length=40, unique=True)
    idempotency_key = Varchar(length=200, unique=True)
    session_id = Varchar(length=40, index=True)
    donation_id = Varchar(length=40)
    amount_fen = BigInt()
    currency = Varchar(length=3, default="CNY")
    created_at = Timestamptz()
