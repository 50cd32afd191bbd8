"""Reading donations: the donor's receipt page and status API (by the receipt's secret token),
and a donation as its project's stewards read it (by its public id).

The public id is on the public ledger (`ref`), so it opens no receipt: only the token the donor
was given does (docs/adr/0020-private-receipts-and-api-csrf.md). Both of the donor's answers are
kept out of caches and send no referrer.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import ResponseHeader
from litestar.params import FromPath
from litestar.response import Template

from linju.platform.accounts import guards
from linju.platform.accounts.guards import require_secretary_or_admin_of_project
from linju.platform.kernel.errors import N_, NotFound, RuleViolation
from linju.platform.kernel.money import AmountOut
from linju.platform.settings import get_settings
from linju.platform.web import Page, SubmittedForm, tell
from linju.projects.core.read import project_page_context
from linju.projects.donations import services as donations
from linju.projects.donations.rules import DonationStatus, receipt_path
from linju.projects.donations.services import DonationView
from linju.projects.ledger.log import read as log_read

# A receipt's address is its secret: no shared cache keeps it, and no link from it tells the
# next site (or this one's logs) where the visitor came from.
RECEIPT_HEADERS = [
    ResponseHeader(name="Cache-Control", value="private, no-store"),
    ResponseHeader(name="Referrer-Policy", value="no-referrer"),
]


class LedgerRefOut(msgspec.Struct):
    seq: int
    kind: str
    hash: str
    url: str


class DonationRecordOut(msgspec.Struct):
    """A donation as its project's stewards read it (by the public id, which the ledger shows)."""

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


class DonationOut(DonationRecordOut):
    """A donation as its donor reads it, by the secret token of `receipt_url`."""

    receipt_url: str


def _entry_url(slug: str, seq: int) -> str:
    return f"/api/v1/projects/{slug}/ledger/{seq}"


async def _record(view: DonationView) -> dict[str, Any]:
    entry = await donations.donation_entry(view)
    return {
        "id": view.id,
        "project": view.project_slug,
        "status": view.status.value,
        "amount": AmountOut.of(view.amount),
        "refunded": AmountOut.of(view.refunded),
        "display_name": view.public_name,
        "message": view.message,
        "created_at": view.created_at.isoformat(),
        "confirmed_at": view.confirmed_at.isoformat() if view.confirmed_at else None,
        "ledger_entry": LedgerRefOut(
            seq=entry["seq"],
            kind=entry["kind"],
            hash=entry["hash"],
            url=_entry_url(view.project_slug, entry["seq"]),
        )
        if entry
        else None,
    }


@get(
    "/api/v1/donations/{token:str}",
    tags=["donations"],
    summary="One donation, by the secret token of its receipt_url (the donor's; not its id)",
    response_headers=RECEIPT_HEADERS,
)
async def get_donation_api(token: FromPath[str]) -> DonationOut:
    view = await donations.get_donation_by_receipt(token)
    receipt_url = get_settings().base_url + receipt_path(token)
    return DonationOut(**await _record(view), receipt_url=receipt_url)


@get(
    "/api/v1/projects/{slug:str}/donations/{donation_id:str}",
    guards=[require_secretary_or_admin_of_project],
    tags=["refunds"],
    summary="One donation of the project, by its id (admin or the community's secretary)",
)
async def get_project_donation_api(
    slug: FromPath[str], donation_id: FromPath[str]
) -> DonationRecordOut:
    view = await donations.get_donation(donation_id)
    if view.project_slug != slug:
        raise NotFound(N_("No donation %(id)s"), id=donation_id)
    return DonationRecordOut(**await _record(view))


@get(
    "/donations/{token:str}",
    name="donation-receipt",
    tags=["pages"],
    summary="A donation's receipt, by its secret token: waits for the confirmation, then shows "
    "the ledger entry",
    response_headers=RECEIPT_HEADERS,
)
async def receipt_page(token: FromPath[str]) -> Template:
    view = await donations.get_donation_by_receipt(token)
    entry = await donations.donation_entry(view)
    place = await log_read.entry_place(view.project_slug, entry["seq"]) if entry else None
    return Template(
        "donations/receipt.html",
        context={
            "donation": view,
            "receipt_path": receipt_path(token),
            "entry": entry,
            "entry_url": _entry_url(view.project_slug, entry["seq"]) if entry else None,
            "waiting": view.status is DonationStatus.PENDING,
            "log": place,
        },
    )


# Moderating the donor wall (docs/adr/0028) -------------------------------------------------------
HIDE_CHOICES = {"yes": True, "no": False}


def _wall_page(slug: str) -> Page:
    """The project's page as its steward sees it: the wall with its hide / show-again forms."""

    async def context() -> dict[str, Any]:
        return {**await project_page_context(slug), "can_moderate": True}

    return Page("pages/project.html", context)


@post(
    "/p/{slug:str}/donations/{donation_id:str}/message",
    guards=[guards.require_steward_of_project],
    tags=["pages"],
    summary="Hide a gift's message from the donor wall, or show it again (the project's "
    "secretary or a committee member); the ledger is untouched",
)
async def moderate_message(
    request: Request[Any, Any, Any], slug: FromPath[str], donation_id: FromPath[str]
) -> Response[Any]:
    user = guards.logged_in_user(request)

    async def moderate(form: SubmittedForm) -> str:
        hide = HIDE_CHOICES.get(form.text("hide"))
        if hide is None:
            raise RuleViolation(N_("Choose to hide the message or to show it again"))
        await donations.set_message_hidden(user.actor, slug, donation_id, hide)
        tell(request, N_("Message hidden") if hide else N_("Message shown again"))
        return f"/p/{slug}#gift-{donation_id}"

    return await _wall_page(slug).submit(request, f"message-{donation_id}", moderate)


ROUTES: list[Any] = [
    get_donation_api,
    get_project_donation_api,
    receipt_page,
    moderate_message,
]
