"""Reading donations: the receipt page, the donation API, and the project page's sections."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import get
from litestar.params import FromPath
from litestar.response import Template

from linju.platform.kernel.money import AmountOut
from linju.platform.settings import get_settings
from linju.projects.donations import services as donations
from linju.projects.donations.rules import (
    DonationStatus,
)


class LedgerRefOut(msgspec.Struct):
    seq: int
    kind: str
    hash: str
    url: str


class DonationOut(msgspec.Struct):
    id: str
    project: str
    status: str
    amount: AmountOut
    refunded: AmountOut
    display_name: str
    message: str
    created_at: str
    confirmed_at: str | None
    ledger_entry: LedgerRefOut | None
    receipt_url: str


def _entry_url(slug: str, seq: int) -> str:
    return f"/api/v1/projects/{slug}/ledger/{seq}"


@get(
    "/api/v1/donations/{donation_id:str}",
    tags=["donations"],
    summary="One donation by its unguessable id (for its receipt)",
)
async def get_donation_api(donation_id: FromPath[str]) -> DonationOut:
    view = await donations.get_donation(donation_id)
    entry = await donations.donation_entry(view)
    return DonationOut(
        id=view.id,
        project=view.project_slug,
        status=view.status.value,
        amount=AmountOut.of(view.amount),
        refunded=AmountOut.of(view.refunded),
        display_name=view.public_name,
        message=view.message,
        created_at=view.created_at.isoformat(),
        confirmed_at=view.confirmed_at.isoformat() if view.confirmed_at else None,
        ledger_entry=LedgerRefOut(
            seq=entry["seq"],
            kind=entry["kind"],
            hash=entry["hash"],
            url=_entry_url(view.project_slug, entry["seq"]),
        )
        if entry
        else None,
        receipt_url=f"{get_settings().base_url}/donations/{view.id}",
    )


@get(
    "/donations/{donation_id:str}",
    name="donation-receipt",
    tags=["pages"],
    summary="A donation's receipt: waits for the confirmation, then shows the ledger entry",
)
async def receipt_page(donation_id: FromPath[str]) -> Template:
    view = await donations.get_donation(donation_id)
    entry = await donations.donation_entry(view)
    return Template(
        "donations/receipt.html",
        context={
            "donation": view,
            "entry": entry,
            "entry_url": _entry_url(view.project_slug, entry["seq"]) if entry else None,
            "waiting": view.status is DonationStatus.PENDING,
        },
    )


ROUTES: list[Any] = [get_donation_api, receipt_page]
