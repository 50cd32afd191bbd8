"""The secretary's spending pages and the files of expenditures.

Thin: read the form, call one use case, then redirect (303) or show the page again with the
problems in the visitor's language (422), nothing half-written. Attachments arrive as multipart
uploads; their content is checked by the service, never trusted from the browser.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template

from linju.platform.accounts import guards
from linju.platform.kernel.clock import local_today
from linju.platform.kernel.errors import N_, DomainError, ValidationErrors, found
from linju.platform.kernel.money import Money, yuan_or_none
from linju.platform.web import form_errors
from linju.projects.core import files
from linju.projects.core import read as queries
from linju.projects.core.files import AttachmentUpload, Upload
from linju.projects.core.rules import ProjectStatus
from linju.projects.core.services.funding import close_when_goal_reached
from linju.projects.core.services.projects import change_status
from linju.projects.spending.read import spending_view
from linju.projects.spending.rules import LeftoverChoice, Person
from linju.projects.spending.services import cancellation, completion, expenditures
from linju.projects.spending.services.expenditures import Payment, Proposal
from linju.projects.spending.tables import Attachment

AnyRequest = Request[Any, Any, Any]
Multipart = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
# A few attachments of at most 10 MB each, plus the form's text.
MAX_UPLOAD_BODY = 45 * 1024 * 1024
SECRETARY = [guards.require_secretary_of_project]
LEFTOVER_CHOICES = {choice.value for choice in LeftoverChoice}


def _files(value: Any) -> list[UploadFile]:
    items = value if isinstance(value, list) else [value]
    return [item for item in items if isinstance(item, UploadFile) and item.filename]


async def read_upload(
    data: dict[str, Any], field: str, redacted_field: str, publish_field: str, label: str
) -> AttachmentUpload | None:
    """One original file from the form, with the public copy the secretary chose."""
    originals = _files(data.get(field))
    if not originals:
        return None
    original = originals[0]
    redacted = _files(data.get(redacted_field))
    return AttachmentUpload(
        original=Upload(original.filename, await original.read()),
        label=str(data.get(label) or "")[:200],  # the file name may hold personal data
        redacted=Upload(redacted[0].filename, await redacted[0].read()) if redacted else None,
        publish_original=str(data.get(publish_field, "")) == "on",
    )


def _proposer(request: AnyRequest) -> Person:
    user = guards.logged_in_user(request)
    return Person(user.display_name, user.id)


async def _page(slug: str, status: int = 200, **context: Any) -> Template:
    context.setdefault("errors", {})
    context.setdefault("values", {})
    context.setdefault("pay_errors", {})
    context.setdefault("pay_for", "")
    project = await queries.get_project(slug)
    return Template(
        "spending/secretary.html",
        context={
            "project": project,
            "p": project.summary,
            "spending": await spending_view(slug),
            "today": local_today().isoformat(),
            "offline_to_return": [
                {**gift, "amount": Money(int(gift["amount_fen"]), gift["currency"])}
                for gift in (
                    await cancellation.offline_to_return(slug)
                    if project.summary.status is ProjectStatus.CANCELLED
                    else []
                )
            ],
            **context,
        },
        status_code=status,
    )


@get(
    "/p/{slug:str}/spending",
    guards=SECRETARY,
    tags=["spending"],
    summary="The secretary's spending page: propose, pay, withdraw",
)
async def secretary_page(slug: FromPath[str]) -> Template:
    await close_when_goal_reached(slug)
    return await _page(slug)


@post(
    "/p/{slug:str}/spending/expenditures",
    guards=SECRETARY,
    tags=["spending"],
    summary="Propose an expenditure to the committee",
    request_max_body_size=MAX_UPLOAD_BODY,
)
async def propose(request: AnyRequest, slug: FromPath[str], data: Multipart) -> Response[Any]:
    values = {k: str(v) for k, v in data.items() if isinstance(v, str)}
    try:
        amount = yuan_or_none(values.get("amount", ""))
        if amount is None:
            raise ValidationErrors({"amount": N_("Enter an amount in yuan, like 4800.00")})
        try:
            line_id = int(values.get("budget_line", ""))
        except ValueError:
            raise ValidationErrors({"budget_line": N_("Choose one of the budget lines")}) from None
        upload = await read_upload(data, "invoice", "invoice_public", "publish_original", "label")
        if upload is None:
            raise ValidationErrors({"invoice": N_("Attach the invoice, receipt or quote")})
        public_id = await expenditures.propose(
            slug,
            Proposal(
                budget_line_id=line_id,
                payee=values.get("payee", ""),
                purpose=values.get("purpose", ""),
                amount_fen=amount,
                justification=values.get("justification", ""),
                attachments=(upload,),
            ),
            _proposer(request),
        )
    except DomainError as exc:
        return await _page(slug, 422, errors=form_errors(exc), values=values)
    return Redirect(path=f"/p/{slug}/spending#{public_id}", status_code=303)


@post(
    "/p/{slug:str}/spending/expenditures/{expenditure:str}/payment",
    guards=SECRETARY,
    tags=["spending"],
    summary="Record the payment of an approved expenditure (posts it to the ledger once)",
    request_max_body_size=MAX_UPLOAD_BODY,
)
async def record_payment(
    slug: FromPath[str], expenditure: FromPath[str], data: Multipart
) -> Response[Any]:
    values = {k: str(v) for k, v in data.items() if isinstance(v, str)}
    try:
        try:
            paid_on = date.fromisoformat(values.get("paid_on", ""))
        except ValueError:
            raise ValidationErrors({"paid_on": N_("Enter the payment date")}) from None
        proof = await read_upload(data, "proof", "proof_public", "publish_original", "label")
        if proof is None:
            raise ValidationErrors({"proof": N_("Attach the proof of payment")})
        await expenditures.record_payment(
            slug, expenditure, Payment(paid_on, values.get("method", ""), proof)
        )
    except DomainError as exc:
        return await _page(slug, 422, pay_errors=form_errors(exc), pay_for=expenditure)
    return Redirect(path=f"/p/{slug}#{expenditure}", status_code=303)


@post(
    "/p/{slug:str}/spending/expenditures/{expenditure:str}/withdrawal",
    guards=SECRETARY,
    tags=["spending"],
    summary="Withdraw an unpaid expenditure, with a reason",
)
async def withdraw(slug: FromPath[str], expenditure: FromPath[str], data: Form) -> Response[Any]:
    try:
        await expenditures.withdraw(slug, expenditure, data.get("reason", ""))
    except DomainError as exc:
        return await _page(slug, 422, pay_errors=form_errors(exc), pay_for=expenditure)
    return Redirect(path=f"/p/{slug}/spending#{expenditure}", status_code=303)


@post(
    "/p/{slug:str}/spending/fundraising-closed",
    guards=SECRETARY,
    tags=["spending"],
    summary="Close fundraising: the project is funded and may start spending",
)
async def close_fundraising(slug: FromPath[str]) -> Response[Any]:
    try:
        await change_status(slug, ProjectStatus.FUNDED)
    except DomainError as exc:
        return await _page(slug, exc.status, pay_errors=form_errors(exc), pay_for="cancellation")
    return Redirect(path=f"/p/{slug}/spending", status_code=303)


@post(
    "/p/{slug:str}/spending/completion",
    guards=SECRETARY,
    tags=["spending"],
    summary="File the completion report for the committee's sign-off",
    request_max_body_size=MAX_UPLOAD_BODY,
)
async def file_completion(
    request: AnyRequest, slug: FromPath[str], data: Multipart
) -> Response[Any]:
    values = {k: str(v) for k, v in data.items() if isinstance(v, str)}
    try:
        choice = values.get("leftover", "")
        leftover = LeftoverChoice(choice) if choice in LEFTOVER_CHOICES else None
        photos = [
            AttachmentUpload(Upload(f.filename, await f.read())) for f in _files(data.get("photos"))
        ]
        await completion.file_report(
            slug,
            values.get("summary", ""),
            _proposer(request),
            leftover,
            values.get("follow_up", ""),
            [replace(photo, publish_original=True) for photo in photos],
        )
    except DomainError as exc:
        return await _page(slug, 422, pay_errors=form_errors(exc), pay_for="completion")
    return Redirect(path=f"/p/{slug}#spending", status_code=303)


@post(
    "/p/{slug:str}/spending/cancellation",
    guards=SECRETARY,
    tags=["spending"],
    summary="Ask the committee to cancel the project (every donation is then returned)",
)
async def ask_cancellation(request: AnyRequest, slug: FromPath[str], data: Form) -> Response[Any]:
    try:
        await cancellation.propose_cancellation(slug, data.get("reason", ""), _proposer(request))
    except DomainError as exc:
        return await _page(slug, 422, pay_errors=form_errors(exc), pay_for="cancellation")
    return Redirect(path=f"/p/{slug}#spending", status_code=303)


@post(
    "/p/{slug:str}/spending/offline-refunds/{gift:str}",
    guards=SECRETARY,
    tags=["spending"],
    summary="Record that a cancelled project's cash or transfer gift was handed back, with proof",
    request_max_body_size=MAX_UPLOAD_BODY,
)
async def refund_offline(
    slug: FromPath[str], gift: FromPath[str], data: Multipart
) -> Response[Any]:
    try:
        proof = await read_upload(data, "proof", "proof_public", "publish_original", "label")
        if proof is None:
            raise ValidationErrors({"proof": N_("Attach the proof of payment")})
        await cancellation.refund_offline(slug, gift, proof)
    except DomainError as exc:
        return await _page(slug, 422, pay_errors=form_errors(exc), pay_for="cancellation")
    return Redirect(path=f"/p/{slug}/spending", status_code=303)


async def _attachment(slug: str, file_id: str) -> dict[str, Any]:
    row = (
        await Attachment.select(
            Attachment.private_path,
            Attachment.content_type,
            Attachment.public_path,
            Attachment.public_content_type,
        )
        .where((Attachment.public_id == file_id) & (Attachment.project.slug == slug))
        .first()
    )
    return found(row, N_("No such file"))


def _file_response(path: str, content_type: str) -> Response[bytes]:
    return Response(
        files.read(path),
        media_type=content_type,
        headers={
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": "inline",
            "Content-Security-Policy": "default-src 'none'; img-src 'self'",
            "Cache-Control": "private, max-age=3600",
        },
    )


@get(
    "/p/{slug:str}/files/{file_id:str}",
    tags=["spending"],
    summary="The public (redacted) copy of an expenditure's attachment",
)
async def public_file(slug: FromPath[str], file_id: FromPath[str]) -> Response[bytes]:
    row = await _attachment(slug, file_id)
    path = found(row["public_path"] or None, N_("This file is not published"))
    return _file_response(path, row["public_content_type"])


@get(
    "/p/{slug:str}/files/{file_id:str}/original",
    guards=[guards.require_steward_of_project],
    tags=["spending"],
    summary="The original attachment, for the secretary and the committee only",
)
async def original_file(slug: FromPath[str], file_id: FromPath[str]) -> Response[bytes]:
    row = await _attachment(slug, file_id)
    return _file_response(row["private_path"], row["content_type"])


ROUTES: list[Any] = [
    secretary_page,
    propose,
    record_payment,
    withdraw,
    close_fundraising,
    file_completion,
    ask_cancellation,
    refund_offline,
    public_file,
    original_file,
]
