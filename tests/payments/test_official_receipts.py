"""Official donation receipts (捐赠票据, docs/adr/0030-official-receipts-and-host-finance.md).

A donor asks from the private receipt page of a confirmed donation (once; an anonymous gift
too), the host's finance staff issue it from their queue through its confirmation page (code,
number unique per host, the PDF), a job mails the donor the link once, and the PDF is served
only with the receipt's token or to the finance staff. The payer's name, credit code and e-mail
appear on no public page, the ledger, its export or the API. Forms are submitted as the pages
render them (tests/forms.py).
"""

from __future__ import annotations

import email
import re
from email import policy
from pathlib import Path
from typing import Any

import httpx
import pytest

from linju.platform.accounts.outbox import message_id
from linju.platform.accounts.tables import AuditRecord, SentMail
from linju.platform.jobs import queue
from linju.platform.jobs.registry import JobContext
from linju.platform.jobs.worker import drain_jobs
from linju.platform.kernel.errors import Conflict, ValidationErrors
from linju.platform.settings import get_settings
from linju.projects.donations import official_receipts
from linju.projects.donations.jobs import official_receipt_job
from linju.projects.donations.official_receipts import OFFICIAL_RECEIPT_JOB, ReceiptIssue
from linju.projects.donations.rules import (
    ReceiptRequestInput,
    receipt_pdf_problem,
    receipt_request_problems,
)
from linju.projects.donations.tables import OfficialReceipt
from tests.accounts_support import log_in, make_account
from tests.client_support import BASE_URL
from tests.forms import assert_form_refused, confirm_shown, find_form, submit, submit_shown

from .helpers import sandbox_event, signed

pytestmark = pytest.mark.usefixtures("demo")
SLUG = "tongqu-leyuan"
Client = httpx.AsyncClient
RECEIPT = re.compile(re.escape(BASE_URL) + r"/donations/([A-Za-z0-9_-]{43})")
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
ORG_CODE = "91420100MA4K2Y3L0N"  # a valid 统一社会信用代码 (its check character by python-stdnum)
PAYER = "湖北青禾科技有限公司"


async def donate(
    client: Client, *, email: str = "", name: str = "周阿姨", paid: bool = True
) -> str:
    """A donation through the API and the sandbox; its receipt token."""
    body: dict[str, Any] = {"amount": {"amount": 12_300, "currency": "CNY"}}
    if name:
        body["display_name"] = name
    else:
        body["anonymous"] = True
    if email:
        body["email"] = email
    answer = await client.post(f"/api/v1/projects/{SLUG}/donations", json=body)
    assert answer.status_code == 201, answer.text
    started = answer.json()
    if paid:
        payload, headers = signed(await sandbox_event(started["checkout_url"], "paid"))
        assert (await client.post("/webhooks/sandbox", content=payload, headers=headers)).is_success
    match = RECEIPT.fullmatch(started["receipt_url"])
    assert match
    return match.group(1)


async def ask(client: Client, token: str, **fields: str) -> httpx.Response:
    values = {"payer_kind": "person", "payer_name": "周小红", "email": "zhou@example.cn"}
    values.update(fields)
    answer: httpx.Response = await submit(client, f"/donations/{token}", "official-receipt", values)
    return answer


async def finance(client: Client, email: str = "kuaiji@example.cn") -> int:
    account = await make_account(email, "finance", name="李会计", client=client)
    await log_in(client, account)
    return account


def _mails_to(address: str) -> list[email.message.EmailMessage]:
    folder = Path(get_settings().var_dir) / "mail"
    found = []
    for path in sorted(folder.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        if message["To"] == address:
            found.append(message)
    return found


# Rules ------------------------------------------------------------------------------------------
def test_the_request_rules() -> None:
    def problems(**fields: str) -> dict[str, str]:
        values = {
            "payer_kind": "person",
            "payer_name": "周小红",
            "credit_code": "",
            "email": "a@b.cn",
        }
        values.update(fields)
        from linju.projects.core.rules import credit_code

        data = ReceiptRequestInput(**values)
        return receipt_request_problems(data, credit_code(data.credit_code))

    assert problems() == {}
    assert problems(credit_code="not checked for a person") == {}
    assert set(problems(payer_kind="robot")) == {"payer_kind"}
    assert set(problems(payer_name=" ")) == {"payer_name"}
    assert set(problems(email="nope")) == {"email"}
    assert set(problems(payer_kind="organisation")) == {"credit_code"}
    assert set(problems(payer_kind="organisation", credit_code="91420100MA4K2Y3L0X")) == {
        "credit_code"
    }  # a wrong check character
    assert problems(payer_kind="organisation", credit_code=ORG_CODE.lower()) == {}


def test_a_receipt_pdf_is_checked_by_its_content() -> None:
    assert receipt_pdf_problem(PDF) is None
    assert receipt_pdf_problem(b"") is not None
    assert receipt_pdf_problem(b"GIF89a" + PDF) is not None  # not the signature first
    assert receipt_pdf_problem(PDF[:-10]) is not None  # cut short: no %%EOF
    assert receipt_pdf_problem(PDF[:-7] + b" " * (5 * 1024 * 1024) + b"%%EOF\n") is not None


# Services ---------------------------------------------------------------------------------------
async def test_one_request_per_donation_and_only_for_a_confirmed_one(client: Client) -> None:
    demo = await OfficialReceipt.count()  # the demo's two
    token = await donate(client)
    data = ReceiptRequestInput("person", "周小红", "", "zhou@example.cn")
    first, made = await official_receipts.ask_for_receipt(token, data)
    assert made
    again, made_again = await official_receipts.ask_for_receipt(
        token, ReceiptRequestInput("person", "别人", "", "other@example.cn")
    )
    assert not made_again
    assert again.id == first.id
    assert again.payer_name == "周小红"
    assert await OfficialReceipt.count() == demo + 1

    pending = await donate(client, paid=False)
    with pytest.raises(Conflict):
        await official_receipts.ask_for_receipt(pending, data)
    assert await OfficialReceipt.count() == demo + 1

    organisation = await donate(client)
    with pytest.raises(ValidationErrors) as refused:
        await official_receipts.ask_for_receipt(
            organisation, ReceiptRequestInput("organisation", PAYER, "123", "a@b.cn")
        )
    assert set(refused.value.problems) == {"credit_code"}
    made_org, _ = await official_receipts.ask_for_receipt(
        organisation, ReceiptRequestInput("organisation", PAYER, ORG_CODE.lower(), "a@b.cn")
    )
    assert made_org.credit_code == ORG_CODE  # stored compact, upper case


async def test_a_receipt_number_is_unique_per_host(client: Client) -> None:
    actor_id = await make_account("kj@example.cn", "finance", client=client)
    from linju.platform.accounts.audit import Actor

    actor = Actor(id=actor_id, label="kj@example.cn")
    data = ReceiptRequestInput("person", "周小红", "", "zhou@example.cn")
    one, _ = await official_receipts.ask_for_receipt(await donate(client), data)
    two, _ = await official_receipts.ask_for_receipt(await donate(client), data)
    issued = await official_receipts.issue_receipt(
        actor, one.id, ReceiptIssue("42010122", "0000012345", PDF)
    )
    assert issued.issued
    assert issued.amount.amount == 12_300
    with pytest.raises(ValidationErrors) as taken:
        await official_receipts.issue_receipt(
            actor, two.id, ReceiptIssue("42010122", "0000012345", PDF)
        )
    assert set(taken.value.problems) == {"receipt_number"}
    with pytest.raises(Conflict):  # issued once, for good
        await official_receipts.issue_receipt(
            actor, one.id, ReceiptIssue("42010122", "0000099999", PDF)
        )
    assert (await official_receipts.official_receipt(two.id)).issued is False
    issues = AuditRecord.action == "official_receipt.issue"
    assert await AuditRecord.count().where(issues & (AuditRecord.actor_id == actor_id)) == 1


# HTTP: the donor --------------------------------------------------------------------------------
async def test_the_donor_asks_from_the_receipt_page_and_sees_the_status(client: Client) -> None:
    token = await donate(client, email="zhou@example.cn", name="")  # an anonymous gift
    page = await client.get(f"/donations/{token}")
    form = find_form(page.text, "official-receipt")
    assert 'value="zhou@example.cn"' in page.text  # the donation's e-mail, prefilled
    assert {"payer_kind", "payer_name", "credit_code", "email"} <= form.names()

    refused = await ask(client, token, payer_kind="organisation", payer_name=PAYER, credit_code="")
    assert_form_refused(refused, "单位须填写统一社会信用代码", status=422)
    assert 'id="e-official-receipt-credit_code"' in refused.text
    assert refused.headers["cache-control"] == "private, no-store"
    refused = await submit_shown(
        client, refused.text, "official-receipt", {"credit_code": "91420100MA4K2Y3L0X"}
    )
    assert_form_refused(refused, "这不是有效的统一社会信用代码")
    assert await OfficialReceipt.count() == 2  # the demo's: nothing written on refusal

    done = await submit_shown(client, refused.text, "official-receipt", {"credit_code": ORG_CODE})
    assert done.status_code == 303
    assert done.headers["location"] == f"/donations/{token}#official-receipt"
    shown = await client.get(f"/donations/{token}")
    assert 'data-status="requested"' in shown.text
    assert PAYER in shown.text
    assert 'data-testid="official-form"' not in shown.text  # asked once: the status instead
    assert "official-download" not in shown.text
    assert (await client.get(f"/donations/{token}/official-receipt.pdf")).status_code == 404


async def test_a_pending_or_failed_donation_has_no_form(client: Client) -> None:
    token = await donate(client, paid=False)
    page = await client.get(f"/donations/{token}")
    assert 'data-testid="official-receipt"' not in page.text


# HTTP: the finance staff ------------------------------------------------------------------------
async def test_the_queue_is_for_host_finance_only(client: Client) -> None:
    anonymous = await client.get("/finance/receipts", follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/login?next=")
    admin = await make_account("boss@example.cn", "admin", client=client)
    await log_in(client, admin)
    assert (await client.get("/finance/receipts")).status_code == 403
    assert (await client.get("/finance/receipts/orc_nothing")).status_code == 403
    await finance(client)
    assert (await client.get("/finance/receipts")).status_code == 200
    assert (await client.get("/finance/receipts/orc_nothing")).status_code == 404


async def test_finance_issues_and_the_donor_downloads(client: Client) -> None:
    token = await donate(client, name="")
    assert (await ask(client, token, email="zhou.receipt@example.cn")).status_code == 303
    older = await donate(client)
    await official_receipts.ask_for_receipt(
        older, ReceiptRequestInput("organisation", PAYER, ORG_CODE, "org@example.cn")
    )
    await finance(client)
    queue_page = await client.get("/finance/receipts")
    assert queue_page.text.index("周小红") < queue_page.text.index(PAYER)  # oldest first
    assert "¥123.00" in queue_page.text
    [request] = await OfficialReceipt.select(OfficialReceipt.public_id).where(
        OfficialReceipt.payer_name == "周小红"
    )
    issue_path = f"/finance/receipts/{request['public_id']}"
    shown = await client.get(issue_path)
    assert 'data-testid="confirm-what"' in shown.text

    # Posted without `confirmed` (not from its confirmation page): nothing happens.
    form = find_form(shown.text, issue_path)
    assert "confirmed" in form.names()
    # Each refusal beside its field, nothing written.
    refused = await confirm_shown(
        client,
        shown,
        {"receipt_code": "42-01", "receipt_number": ""},
        {"pdf": ("receipt.pdf", b"GIF89a not a pdf", "application/pdf")},
        page=issue_path,
    )
    assert_form_refused(
        refused,
        "票据代码为 4 至 20 位数字",
        "票据号码为 4 至 20 位数字",
        "这个文件不是 PDF",
        status=422,
    )
    for field in ("receipt_code", "receipt_number", "pdf"):
        assert f'id="e-issue-{request["public_id"]}-{field}"' in refused.text
    assert await OfficialReceipt.count().where(OfficialReceipt.status == "issued") == 1  # demo's

    issued = await confirm_shown(
        client,
        await client.get(issue_path),
        {"receipt_code": "42010122", "receipt_number": "0000012345"},
        {"pdf": ("receipt.pdf", PDF, "application/pdf")},
        page=issue_path,
    )
    assert issued.status_code == 303, issued.text[:500]
    assert issued.headers["location"] == "/finance/receipts"
    after = await client.get("/finance/receipts")
    assert "0000012345" in after.text
    pdf = await client.get(f"{issue_path}/pdf")
    assert pdf.content == PDF
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["cache-control"] == "private, no-store"

    # The same number for the other request: refused beside the number.
    [other] = await OfficialReceipt.select(OfficialReceipt.public_id).where(
        OfficialReceipt.payer_name == PAYER
    )
    other_path = f"/finance/receipts/{other['public_id']}"
    taken = await confirm_shown(
        client,
        await client.get(other_path),
        {"receipt_code": "42010122", "receipt_number": "0000012345"},
        {"pdf": ("r.pdf", PDF, "application/pdf")},
        page=other_path,
    )
    assert_form_refused(taken, "主办方已经开具过这个号码的票据")
    assert f'id="e-issue-{other["public_id"]}-receipt_number"' in taken.text

    # The mail: queued once, sent once by the worker, with a stable Message-ID and the link.
    jobs = [
        job
        for job in await queue.list_jobs()
        if job.name == OFFICIAL_RECEIPT_JOB and job.status == "queued"
    ]
    assert len(jobs) == 1
    await drain_jobs()
    [mail] = _mails_to("zhou.receipt@example.cn")
    link = f"{BASE_URL}/donations/{token}"
    assert link in mail.get_content()
    assert "0000012345" in mail.get_content()
    key = f"official-receipt-{request['public_id']}"  # fixed by the receipt, whatever the job
    assert mail["Message-ID"] == message_id(key, "zhou.receipt@example.cn")
    await official_receipt_job(
        {"receipt": request["public_id"]}, JobContext(job_id=0, key="again", attempt=1)
    )
    assert len(_mails_to("zhou.receipt@example.cn")) == 1
    assert await SentMail.count().where(SentMail.recipient == "zhou.receipt@example.cn") == 1

    # The donor downloads with the token; without it, nothing.
    client.cookies.clear()
    page = await client.get(f"/donations/{token}")
    assert 'data-status="issued"' in page.text
    assert f'href="/donations/{token}/official-receipt.pdf"' in page.text
    download = await client.get(f"/donations/{token}/official-receipt.pdf")
    assert download.status_code == 200
    assert download.content == PDF
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["cache-control"] == "private, no-store"
    assert download.headers["content-disposition"].startswith("attachment;")
    assert (await client.get(f"/donations/{'x' * 43}/official-receipt.pdf")).status_code == 404
    assert (await client.get(f"{issue_path}/pdf", follow_redirects=False)).status_code == 303


async def test_a_retry_after_a_crash_sends_the_same_message_id(client: Client) -> None:
    account = await make_account("kj2@example.cn", "finance", client=client)
    from linju.platform.accounts.audit import Actor

    token = await donate(client)
    made, _ = await official_receipts.ask_for_receipt(
        token, ReceiptRequestInput("person", "周小红", "", "retry@example.cn")
    )
    await official_receipts.issue_receipt(
        Actor(account, "kj2@example.cn"), made.id, ReceiptIssue("42010122", "0000000002", PDF)
    )
    [row] = await OfficialReceipt.select(OfficialReceipt.link_seal).where(
        OfficialReceipt.public_id == made.id
    )
    seal = row["link_seal"]
    await official_receipt_job({"receipt": made.id}, JobContext(job_id=1, key="one", attempt=0))
    cleared = await OfficialReceipt.select(OfficialReceipt.link_seal).where(
        OfficialReceipt.public_id == made.id
    )
    assert cleared == [{"link_seal": None}]  # the token is kept no longer than the mail needs
    await SentMail.delete().where(SentMail.recipient == "retry@example.cn")
    await OfficialReceipt.update({OfficialReceipt.link_seal: seal}).where(
        OfficialReceipt.public_id == made.id
    )
    await official_receipt_job({"receipt": made.id}, JobContext(job_id=2, key="two", attempt=1))
    mails = _mails_to("retry@example.cn")
    assert len(mails) == 2
    assert mails[0]["Message-ID"] == mails[1]["Message-ID"]


async def test_nothing_personal_is_public(client: Client) -> None:
    account = await make_account("kj3@example.cn", "finance", client=client)
    from linju.platform.accounts.audit import Actor

    token = await donate(client, name="")
    made, _ = await official_receipts.ask_for_receipt(
        token, ReceiptRequestInput("organisation", PAYER, ORG_CODE, "secret.payer@example.cn")
    )
    await official_receipts.issue_receipt(
        Actor(account, "kj3@example.cn"), made.id, ReceiptIssue("42010122", "0000000777", PDF)
    )
    public = [
        f"/p/{SLUG}",
        f"/p/{SLUG}/ledger",
        f"/p/{SLUG}/poster",
        f"/api/v1/projects/{SLUG}",
        f"/api/v1/projects/{SLUG}/ledger",
        f"/api/v1/projects/{SLUG}/ledger.csv",
        f"/api/v1/projects/{SLUG}/ledger.jsonl",
        f"/api/v1/donations/{token}",
        "/c/lvjingyuan",
        "/",
    ]
    for path in public:
        answer = await client.get(path)
        assert answer.status_code == 200, path
        for secret in (PAYER, ORG_CODE, "secret.payer@example.cn", "0000000777"):
            assert secret not in answer.text, (path, secret)
