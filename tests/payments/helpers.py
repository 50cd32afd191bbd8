"""Shared helpers of the payment tests: counting what the ledger holds, signing like a provider."""

from __future__ import annotations

import json
import re
from typing import Any

from linju.payments import signatures
from linju.payments.sandbox import (
    SIGNATURE_HEADER,
    SandboxOutcome,
    finish_session,
    session_payload,
)
from linju.projects.donations.tables import Donation
from linju.projects.ledger.tables import LedgerEntry, LedgerHead

CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')
SANDBOX_SECRET = "test-sandbox-webhook-secret-" + "y" * 16  # tests/conftest.py sets it


async def entries(slug: str, kind: str | None = None) -> list[dict[str, Any]]:
    query = LedgerEntry.select(
        LedgerEntry.seq, LedgerEntry.kind, LedgerEntry.public_ref, LedgerEntry.memo
    ).where(LedgerEntry.project.slug == slug)
    if kind:
        query = query.where(LedgerEntry.kind == kind)
    return list(await query.order_by(LedgerEntry.seq))


async def balance(slug: str) -> int:
    head = (
        await LedgerHead.select(LedgerHead.balance_fen)
        .where(LedgerHead.project.slug == slug)
        .first()
    )
    assert head is not None
    return int(head["balance_fen"])


async def donation_count() -> int:
    """Donations not (yet) confirmed: the demo's confirmed gifts are not what a test made."""
    return int(await Donation.count().where(Donation.status != "succeeded"))


async def donation_row(donation_id: str) -> dict[str, Any]:
    row = await Donation.select().where(Donation.public_id == donation_id).first()
    assert row is not None
    return dict(row)


def signed(
    payload: dict[str, Any], secret: str = SANDBOX_SECRET, at: int | None = None
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode("utf-8")
    return body, {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signatures.sign(body, secret, at),
    }


async def sandbox_event(checkout_url: str, status: str) -> dict[str, Any]:
    """The event the sandbox sends once its session ends with `status` (paid/failed/abandoned)."""
    session_id = checkout_url.rsplit("/", 1)[1]
    outcome = {"paid": "succeed", "failed": "fail", "abandoned": "abandon"}[status]
    session = await finish_session(session_id, SandboxOutcome(outcome))  # the donor's choice
    assert session is not None
    assert session["status"] == status
    return session_payload(session)


def csrf_token(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)
