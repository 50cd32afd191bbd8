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
from linju.platform.web import Confirmation, FormState, Page, SubmittedForm, confirmed, render, tell
from linju.projects.core.read import project_page_context
from linju.projects.donations import official_receipts
from linju.projects.donations import services as donations
from linju.projects.donations.rules import (
    DonationStatus,
    PayerKind,
    ReceiptRequestInput,
    receipt_askable,
    receipt_path,
)
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


def _receipt_page(token: str) -> Page:
    """The donor's receipt page, with the official receipt's request form or its status."""

    async def context() -> dict[str, Any]:
        view = await donations.get_donation_by_receipt(token)
        entry = await donations.donation_entry(view)
        place = await log_read.entry_place(view.project_slug, entry["seq"]) if entry else None
        official = await official_receipts.receipt_request_of(token)
        return {
            "donation": view,
            "receipt_path": receipt_path(token),
            "entry": entry,
            "entry_url": _entry_url(view.project_slug, entry["seq"]) if entry else None,
            "waiting": view.status is DonationStatus.PENDING,
            "log": place,
            "official": official,
            "official_askable": official is None and receipt_askable(view.status),
            "official_initial": {
                "payer_kind": PayerKind.PERSON.value,
                "email": await official_receipts.donation_email(token),
            },
        }

    return Page("donations/receipt.html", context)


@get(
    "/donations/{token:str}",
    name="donation-receipt",
    tags=["pages"],
    summary="A donation's receipt, by its secret token: waits for the confirmation, then shows "
    "the ledger entry and the official receipt's request or status",
    response_headers=RECEIPT_HEADERS,
)
async def receipt_page(token: FromPath[str]) -> Template:
    return await _receipt_page(token).show()


# Official receipts (捐赠票据, docs/adr/0030) ----------------------------------------------------
OFFICIAL_FORM = "official-receipt"
MAX_RECEIPT_UPLOAD_BODY = 6 * 1024 * 1024  # one PDF of at most 5 MB and the form's text
FINANCE = [guards.require_host_finance]


@post(
    "/donations/{token:str}/official-receipt",
    tags=["pages"],
    summary="Ask for an official donation receipt (捐赠票据) of a confirmed donation, from its "
    "private receipt page; once per donation",
    response_headers=RECEIPT_HEADERS,
)
async def ask_for_official_receipt(
    request: Request[Any, Any, Any], token: FromPath[str]
) -> Response[Any]:
    async def ask(form: SubmittedForm) -> str:
        data = ReceiptRequestInput(
            payer_kind=form.text("payer_kind"),
            payer_name=form.text("payer_name"),
            credit_code=form.text("credit_code"),
            email=form.text("email"),
        )
        _request, made = await official_receipts.ask_for_receipt(token, data)
        if made:
            tell(request, N_("Asked: the host charity's finance staff will issue your receipt"))
        else:
            tell(request, N_("You asked for an official receipt already: here is where it stands"))
        return receipt_path(token) + "#official-receipt"

    return await _receipt_page(token).submit(request, OFFICIAL_FORM, ask)


def _pdf_response(data: bytes, number: str) -> Response[bytes]:
    """An official receipt's PDF: private, never cached, downloaded under its number."""
    return Response(
        data,
        media_type=official_receipts.PDF,
        headers={
            "Cache-Control": "private, no-store",
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'",
            "Content-Disposition": f'attachment; filename="official-receipt-{number}.pdf"',
        },
    )


@get(
    "/donations/{token:str}/official-receipt.pdf",
    tags=["pages"],
    summary="The issued official receipt (PDF), by the donation's secret receipt token",
)
async def official_receipt_download(token: FromPath[str]) -> Response[bytes]:
    data = await official_receipts.receipt_pdf_by_token(token)
    view = await official_receipts.receipt_request_of(token)
    return _pdf_response(data, view.receipt_number if view else "")


@get(
    "/finance/receipts",
    guards=FINANCE,
    tags=["finance"],
    summary="The host finance staff's queue: official receipts asked for, oldest first, and the "
    "latest issued",
)
async def finance_queue() -> Template:
    return render(
        "finance/receipts.html",
        {
            "pending": await official_receipts.pending_requests(),
            "issued": await official_receipts.issued_receipts(),
        },
    )


def _issue_page(receipt_id: str) -> Page:
    """A request's page: its issuing form on a confirmation page (a file cannot be carried
    through a page, ADR 0024), or, once issued, the receipt recorded."""

    async def context() -> dict[str, Any]:
        receipt = await official_receipts.official_receipt(receipt_id)
        return {
            "r": receipt,
            "confirmation": Confirmation(f"/finance/receipts/{receipt_id}", "/finance/receipts"),
            "confirm_form": f"issue-{receipt_id}",
            "multipart": True,
        }

    return Page("finance/issue.html", context)


@get(
    "/finance/receipts/{receipt_id:str}",
    guards=FINANCE,
    tags=["finance"],
    summary="One request: issue its official receipt (code, number, the PDF) after reading what "
    "will happen; or the receipt issued",
)
async def issue_form(receipt_id: FromPath[str]) -> Template:
    return await _issue_page(receipt_id).show()


@post(
    "/finance/receipts/{receipt_id:str}",
    guards=FINANCE,
    tags=["finance"],
    summary="Record the issued official receipt (irreversible: its number is used) and mail the "
    "donor the link",
    request_max_body_size=MAX_RECEIPT_UPLOAD_BODY,
)
async def issue_submit(request: Request[Any, Any, Any], receipt_id: FromPath[str]) -> Response[Any]:
    user = guards.logged_in_user(request)
    page = _issue_page(receipt_id)

    async def issue(form: SubmittedForm) -> Response[Any] | str:
        if not confirmed(form):  # not from its confirmation page: show it, do nothing
            return await page.show(failed_form=FormState(f"issue-{receipt_id}", form.texts()))
        uploads = form.files("pdf")
        pdf = await uploads[0].read() if uploads else b""
        issued = await official_receipts.issue_receipt(
            user.actor,
            receipt_id,
            official_receipts.ReceiptIssue(
                form.text("receipt_code"), form.text("receipt_number"), pdf
            ),
        )
        tell(
            request,
            N_("Issued: receipt No. %(number)s; the donor is mailed a link"),
            number=issued.receipt_number,
        )
        return "/finance/receipts"

    return await page.submit(request, f"issue-{receipt_id}", issue)


@get(
    "/finance/receipts/{receipt_id:str}/pdf",
    guards=FINANCE,
    tags=["finance"],
    summary="An issued official receipt's PDF, for the host finance staff",
)
async def finance_receipt_pdf(receipt_id: FromPath[str]) -> Response[bytes]:
    view = await official_receipts.official_receipt(receipt_id)
    return _pdf_response(await official_receipts.receipt_pdf(receipt_id), view.receipt_number)


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


# A donor's receipt is reached by its token alone (platform.secret_paths: never logged).
SECRET_PATHS = (r"/donations/([^/]+)(?:/.*)?", r"/api/v1/donations/([^/]+)(?:/.*)?")

ROUTES: list[Any] = [
    get_donation_api,
    get_project_donation_api,
    receipt_page,
    ask_for_official_receipt,
    official_receipt_download,
    finance_queue,
    issue_form,
    issue_submit,
    finance_receipt_pdf,
    moderate_message,
]
