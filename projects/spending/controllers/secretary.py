"""The secretary's spending pages and the files of expenditures.

Thin: each form goes through `platform.web.Page.submit` with the one use case it calls, then
redirects (303) or the page comes back with the problems in the visitor's language (422, or the
refusal's own status), nothing half-written. Attachments arrive as multipart uploads; their
content is checked by the service, never trusted from the browser.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Template

from linju.platform.accounts import guards
from linju.platform.kernel.clock import local_today
from linju.platform.kernel.errors import N_, found
from linju.platform.kernel.inputs import whole_number
from linju.platform.kernel.money import Money, parse_yuan
from linju.platform.web import Page, SubmittedForm, iso_date
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
# A few attachments of at most 10 MB each, plus the form's text.
MAX_UPLOAD_BODY = 45 * 1024 * 1024
SECRETARY = [guards.require_secretary_of_project]
LEFTOVER_CHOICES = {choice.value for choice in LeftoverChoice}


async def read_upload(
    form: SubmittedForm, field: str, public_field: str
) -> AttachmentUpload | None:
    """One original file from the form, with the public copy the secretary chose."""
    originals = form.files(field)
    if not originals:
        return None
    original = originals[0]
    redacted = form.files(public_field)
    return AttachmentUpload(
        original=Upload(original.filename, await original.read()),
        label=form.text("label")[:200],  # the file name may hold personal data
        redacted=Upload(redacted[0].filename, await redacted[0].read()) if redacted else None,
        publish_original=form.text("publish_original") == "on",
    )


def _proposer(request: AnyRequest) -> Person:
    user = guards.logged_in_user(request)
    return Person(user.display_name, user.id)


def _page(slug: str) -> Page:
    async def context() -> dict[str, Any]:
        project = await queries.get_project(slug)
        cancelled = project.summary.status is ProjectStatus.CANCELLED
        to_return = await cancellation.offline_to_return(slug) if cancelled else []
        return {
            "project": project,
            "p": project.summary,
            "spending": await spending_view(slug),
            "today": local_today().isoformat(),
            "offline_to_return": [
                {**gift, "amount": Money(int(gift["amount_fen"]), gift["currency"])}
                for gift in to_return
            ],
        }

    return Page("spending/secretary.html", context)


@get(
    "/p/{slug:str}/spending",
    guards=SECRETARY,
    tags=["spending"],
    summary="The secretary's spending page: propose, pay, withdraw",
)
async def secretary_page(slug: FromPath[str]) -> Template:
    await close_when_goal_reached(slug)
    return await _page(slug).show()


@post(
    "/p/{slug:str}/spending/expenditures",
    guards=SECRETARY,
    tags=["spending"],
    summary="Propose an expenditure to the committee",
    request_max_body_size=MAX_UPLOAD_BODY,
)
async def propose(request: AnyRequest, slug: FromPath[str]) -> Response[Any]:
    async def propose_it(form: SubmittedForm) -> str:
        amount = form.parsed("amount", parse_yuan, N_("Enter an amount in yuan, like 4800.00"), 0)
        line_id = form.parsed("budget_line", whole_number, N_("Choose one of the budget lines"), 0)
        upload = await read_upload(form, "invoice", "invoice_public")
        if upload is None:
            form.refuse("invoice", N_("Attach the invoice, receipt or quote"))
        form.raise_problems()
        proposal = Proposal(
            budget_line_id=line_id,
            payee=form.text("payee"),
            purpose=form.text("purpose"),
            amount_fen=amount,
            justification=form.text("justification"),
            attachments=(upload,),
        )
        public_id = await expenditures.propose(slug, proposal, _proposer(request))
        return f"/p/{slug}/spending#{public_id}"

    return await _page(slug).submit(request, "propose", propose_it)


@post(
    "/p/{slug:str}/spending/expenditures/{expenditure:str}/payment",
    guards=SECRETARY,
    tags=["spending"],
    summary="Record the payment of an approved expenditure (posts it to the ledger once)",
    request_max_body_size=MAX_UPLOAD_BODY,
)
async def record_payment(
    request: AnyRequest, slug: FromPath[str], expenditure: FromPath[str]
) -> Response[Any]:
    async def pay(form: SubmittedForm) -> str:
        paid_on = form.parsed("paid_on", iso_date, N_("Enter the payment date"), local_today())
        proof = await read_upload(form, "proof", "proof_public")
        if proof is None:
            form.refuse("proof", N_("Attach the proof of payment"))
        form.raise_problems()
        await expenditures.record_payment(
            slug, expenditure, Payment(paid_on, form.text("method"), proof)
        )
        return f"/p/{slug}#{expenditure}"

    return await _page(slug).submit(request, f"pay-{expenditure}", pay)


@post(
    "/p/{slug:str}/spending/expenditures/{expenditure:str}/withdrawal",
    guards=SECRETARY,
    tags=["spending"],
    summary="Withdraw an unpaid expenditure, with a reason",
)
async def withdraw(
    request: AnyRequest, slug: FromPath[str], expenditure: FromPath[str]
) -> Response[Any]:
    async def withdraw_it(form: SubmittedForm) -> str:
        await expenditures.withdraw(slug, expenditure, form.text("reason"))
        return f"/p/{slug}/spending#{expenditure}"

    return await _page(slug).submit(request, f"withdraw-{expenditure}", withdraw_it)


@post(
    "/p/{slug:str}/spending/fundraising-closed",
    guards=SECRETARY,
    tags=["spending"],
    summary="Close fundraising: the project is funded and may start spending",
)
async def close_fundraising(request: AnyRequest, slug: FromPath[str]) -> Response[Any]:
    async def close(form: SubmittedForm) -> str:
        await change_status(slug, ProjectStatus.FUNDED)
        return f"/p/{slug}/spending"

    return await _page(slug).submit(request, "close", close)


@post(
    "/p/{slug:str}/spending/completion",
    guards=SECRETARY,
    tags=["spending"],
    summary="File the completion report for the committee's sign-off",
    request_max_body_size=MAX_UPLOAD_BODY,
)
async def file_completion(request: AnyRequest, slug: FromPath[str]) -> Response[Any]:
    async def file_it(form: SubmittedForm) -> str:
        choice = form.text("leftover")
        photos = [
            AttachmentUpload(Upload(f.filename, await f.read()), publish_original=True)
            for f in form.files("photos")
        ]
        await completion.file_report(
            slug,
            form.text("summary"),
            _proposer(request),
            LeftoverChoice(choice) if choice in LEFTOVER_CHOICES else None,
            form.text("follow_up"),
            photos,
        )
        return f"/p/{slug}#spending"

    return await _page(slug).submit(request, "completion", file_it)


@post(
    "/p/{slug:str}/spending/cancellation",
    guards=SECRETARY,
    tags=["spending"],
    summary="Ask the committee to cancel the project (every donation is then returned)",
)
async def ask_cancellation(request: AnyRequest, slug: FromPath[str]) -> Response[Any]:
    async def ask(form: SubmittedForm) -> str:
        await cancellation.propose_cancellation(slug, form.text("reason"), _proposer(request))
        return f"/p/{slug}#spending"

    return await _page(slug).submit(request, "cancel", ask)


@post(
    "/p/{slug:str}/spending/offline-refunds/{gift:str}",
    guards=SECRETARY,
    tags=["spending"],
    summary="Record that a cancelled project's cash or transfer gift was handed back, with proof",
    request_max_body_size=MAX_UPLOAD_BODY,
)
async def refund_offline(
    request: AnyRequest, slug: FromPath[str], gift: FromPath[str]
) -> Response[Any]:
    async def record(form: SubmittedForm) -> str:
        proof = await read_upload(form, "proof", "proof_public")
        if proof is None:
            form.refuse("proof", N_("Attach the proof of payment"))
        await cancellation.refund_offline(slug, gift, proof)
        return f"/p/{slug}/spending"

    return await _page(slug).submit(request, f"refund-{gift}", record)


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


async def _file_response(path: str, content_type: str) -> Response[bytes]:
    return Response(
        await files.read(path),
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
    return await _file_response(path, row["public_content_type"])


@get(
    "/p/{slug:str}/files/{file_id:str}/original",
    guards=[guards.require_steward_of_project],
    tags=["spending"],
    summary="The original attachment, for the secretary and the committee only",
)
async def original_file(slug: FromPath[str], file_id: FromPath[str]) -> Response[bytes]:
    row = await _attachment(slug, file_id)
    return await _file_response(row["private_path"], row["content_type"])


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
