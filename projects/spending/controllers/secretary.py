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
from linju.platform.kernel.errors import N_, Conflict, found
from linju.platform.kernel.inputs import whole_number
from linju.platform.kernel.money import Money, parse_yuan
from linju.platform.web import (
    Confirmation,
    FormState,
    Page,
    SubmittedForm,
    confirmed,
    iso_date,
    tell,
)
from linju.projects.core import files
from linju.projects.core import read as queries
from linju.projects.core.files import AttachmentUpload, Upload
from linju.projects.core.rules import OTHER_METHOD, ProjectStatus, payment_method_from_choice
from linju.projects.core.services.funding import close_when_goal_reached
from linju.projects.core.services.projects import change_status
from linju.projects.spending.read import spending_view
from linju.projects.spending.rules import ExpenditureStatus, LeftoverChoice, Person, quorum
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
        committee = (await spending_view(slug)).committee_size
        tell(
            request,
            N_("Sent to the committee: %(num)s approvals decide it"),
            num=quorum(committee),
        )
        return f"/p/{slug}/spending#{public_id}"

    return await _page(slug).submit(request, "propose", propose_it)


def _payment_page(slug: str, expenditure: str) -> Page:
    """The payment's confirmation page, which holds its form (files cannot be carried through a
    page): the expenditure, the fund before and after, who sees the payment (ADR 0024)."""

    async def context() -> dict[str, Any]:
        spending = await spending_view(slug)
        found_one = next((e for e in spending.expenditures if e.public_id == expenditure), None)
        e = found(found_one, N_("No such expenditure"))
        if e.status is not ExpenditureStatus.APPROVED:
            raise Conflict(N_("Only an approved expenditure can be paid"))
        return {
            "p": (await queries.get_project(slug)).summary,
            "spending": spending,
            "e": e,
            "today": local_today().isoformat(),
            "confirmation": Confirmation(
                f"/p/{slug}/spending/expenditures/{expenditure}/payment",
                f"/p/{slug}/spending#{expenditure}",
            ),
            "confirm_form": f"pay-{expenditure}",
            "multipart": True,
        }

    return Page("spending/confirm_payment.html", context)


@get(
    "/p/{slug:str}/spending/expenditures/{expenditure:str}/payment",
    guards=SECRETARY,
    tags=["spending"],
    summary="The payment's confirmation page and form: what is paid, to whom, who sees it",
)
async def payment_form(slug: FromPath[str], expenditure: FromPath[str]) -> Template:
    return await _payment_page(slug, expenditure).show()


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
    page = _payment_page(slug, expenditure)

    async def pay(form: SubmittedForm) -> Response[Any] | str:
        if not confirmed(form):  # not from its confirmation page: show it, do nothing
            return await page.show(failed_form=FormState(f"pay-{expenditure}", form.texts()))
        paid_on = form.parsed("paid_on", iso_date, N_("Enter the payment date"), local_today())
        method = payment_method_from_choice(form.text("method"), form.text("method_detail"))
        if method is None:
            if form.text("method") == OTHER_METHOD:
                form.problems.setdefault("method_detail", N_("Say how it was paid"))
            else:
                form.problems.setdefault("method", N_("Choose how it was paid"))
        proof = await read_upload(form, "proof", "proof_public")
        if proof is None:
            form.refuse("proof", N_("Attach the proof of payment"))
        form.raise_problems()
        result = await expenditures.record_payment(
            slug, expenditure, Payment(paid_on, method or "", proof)
        )
        tell(request, N_("Paid: on the public ledger as entry #%(seq)s"), seq=result.seq)
        return f"/p/{slug}#{expenditure}"

    return await page.submit(request, f"pay-{expenditure}", pay)


def _withdrawal_page(slug: str, expenditure: str, reason: str) -> Page:
    """Withdrawing's confirmation page: the expenditure, the reason, who sees it."""

    async def context() -> dict[str, Any]:
        spending = await spending_view(slug)
        found_one = next((e for e in spending.expenditures if e.public_id == expenditure), None)
        return {
            "p": (await queries.get_project(slug)).summary,
            "e": found(found_one, N_("No such expenditure")),
            "reason": reason,
            "confirmation": Confirmation(
                f"/p/{slug}/spending/expenditures/{expenditure}/withdrawal",
                f"/p/{slug}/spending#{expenditure}",
                {"reason": reason},
            ),
            "confirm_form": f"withdraw-{expenditure}",
        }

    return Page("spending/confirm_withdrawal.html", context)


@post(
    "/p/{slug:str}/spending/expenditures/{expenditure:str}/withdrawal",
    guards=SECRETARY,
    tags=["spending"],
    summary="Withdraw an unpaid expenditure, with a reason (confirmed first)",
)
async def withdraw(
    request: AnyRequest, slug: FromPath[str], expenditure: FromPath[str]
) -> Response[Any]:
    async def withdraw_it(form: SubmittedForm) -> Response[Any] | str:
        reason = form.text("reason")
        if not confirmed(form):  # checked, then confirmed on a page of its own (ADR 0024)
            await expenditures.check_withdrawal(slug, expenditure, reason)
            return await _withdrawal_page(slug, expenditure, reason).show()
        await expenditures.withdraw(slug, expenditure, reason)
        tell(request, N_("Withdrawn: the committee no longer decides it"))
        return f"/p/{slug}/spending#{expenditure}"

    return await _page(slug).submit(request, f"withdraw-{expenditure}", withdraw_it)


def _closing_page(slug: str) -> Page:
    """Closing fundraising's confirmation page: the goal, what was raised, who sees it."""

    async def context() -> dict[str, Any]:
        project = await queries.get_project(slug)
        if project.summary.status is not ProjectStatus.FUNDRAISING:
            raise Conflict(N_("Only a project raising money can close its fundraising"))
        return {
            "project": project,
            "p": project.summary,
            "confirmation": Confirmation(
                f"/p/{slug}/spending/fundraising-closed", f"/p/{slug}/spending"
            ),
            "confirm_form": "close",
        }

    return Page("spending/confirm_close.html", context)


@get(
    "/p/{slug:str}/spending/fundraising-closed",
    guards=SECRETARY,
    tags=["spending"],
    summary="Closing fundraising's confirmation page: the goal, the raised total, who sees it",
)
async def confirm_close_fundraising(slug: FromPath[str]) -> Template:
    return await _closing_page(slug).show()


@post(
    "/p/{slug:str}/spending/fundraising-closed",
    guards=SECRETARY,
    tags=["spending"],
    summary="Close fundraising: the project is funded and may start spending (confirmed first)",
)
async def close_fundraising(request: AnyRequest, slug: FromPath[str]) -> Response[Any]:
    async def close(form: SubmittedForm) -> Response[Any] | str:
        if not confirmed(form):
            return await _closing_page(slug).show()
        await change_status(slug, ProjectStatus.FUNDED)
        tell(request, N_("Fundraising closed: the project takes no more donations"))
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
        tell(request, N_("Report sent to the committee for sign-off"))
        return f"/p/{slug}#spending"

    return await _page(slug).submit(request, "completion", file_it)


def _cancellation_page(slug: str, reason: str) -> Page:
    """Asking to cancel's confirmation page: the money to give back, the reason, who sees it."""

    async def context() -> dict[str, Any]:
        project = await queries.get_project(slug)
        return {
            "project": project,
            "p": project.summary,
            "reason": reason,
            "confirmation": Confirmation(
                f"/p/{slug}/spending/cancellation", f"/p/{slug}/spending#cancel", {"reason": reason}
            ),
            "confirm_form": "cancel",
        }

    return Page("spending/confirm_cancellation.html", context)


@post(
    "/p/{slug:str}/spending/cancellation",
    guards=SECRETARY,
    tags=["spending"],
    summary="Ask the committee to cancel the project (every donation is then returned)",
)
async def ask_cancellation(request: AnyRequest, slug: FromPath[str]) -> Response[Any]:
    async def ask(form: SubmittedForm) -> Response[Any] | str:
        reason = form.text("reason")
        if not confirmed(form):  # checked, then confirmed on a page of its own (ADR 0024)
            await cancellation.check_cancellation(slug, reason)
            return await _cancellation_page(slug, reason).show()
        await cancellation.propose_cancellation(slug, reason, _proposer(request))
        tell(request, N_("Sent to the committee: the project is cancelled only if they approve"))
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
        tell(request, N_("Recorded: the gift was handed back"))
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
    payment_form,
    record_payment,
    withdraw,
    confirm_close_fundraising,
    close_fundraising,
    file_completion,
    ask_cancellation,
    refund_offline,
    public_file,
    original_file,
]
