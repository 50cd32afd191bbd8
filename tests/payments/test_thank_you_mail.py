"""The thank-you mail (issue 15, docs/adr/0027-host-and-fund.md): every confirmed donation with an
e-mail gets one, carrying its receipt's private link, through the job queue; a retry after a
crash sends the same Message-ID; a donation without an e-mail, or not confirmed, gets none."""

from __future__ import annotations

import email
from email import policy
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import InvalidToken

from linju.platform.accounts.tables import SentMail
from linju.platform.jobs import queue
from linju.platform.jobs.registry import JobContext
from linju.platform.jobs.worker import drain_jobs
from linju.platform.settings import get_settings
from linju.projects.donations.jobs import thank_you_job
from linju.projects.donations.rules import open_receipt_seal, seal_receipt_token
from linju.projects.donations.services import THANK_YOU_JOB
from linju.projects.donations.tables import Donation
from tests.forms import submit, submit_shown

from .helpers import sandbox_event, signed

pytestmark = pytest.mark.usefixtures("demo")
SLUG = "tongqu-leyuan"
Client = httpx.AsyncClient


def test_the_sealed_token_opens_only_with_the_secret() -> None:
    sealed = seal_receipt_token("a-token", "secret one")
    assert "a-token" not in sealed
    assert open_receipt_seal(sealed, "secret one") == "a-token"
    with pytest.raises(InvalidToken):
        open_receipt_seal(sealed, "another secret")


async def _donate(client: Client, email: str, name: str = "小李", status: str = "paid") -> str:
    """Give ¥88.50 through the project page's form and its review, then the sandbox reports
    `status` to the webhook; the donation's receipt token (from its checkout's return address)."""
    review = await submit(
        client,
        f"/p/{SLUG}",
        f"/p/{SLUG}/donate",
        {"amount_choice": "custom", "custom_amount": "88.5", "display_name": name, "email": email},
    )
    paid = await submit_shown(client, review.text, "form-review", press="pay")
    checkout_url = paid.headers["location"]
    body, headers = signed(await sandbox_event(checkout_url, status))
    assert (
        await client.post("/webhooks/sandbox", content=body, headers=headers)
    ).status_code == 200
    checkout = await client.get(checkout_url.removeprefix("http://testserver.local"))
    assert checkout.status_code == 200
    row = await Donation.select(Donation.public_id).order_by(Donation.id, ascending=False).first()
    assert row is not None
    return str(row["public_id"])


def _mails_to(address: str) -> list[email.message.EmailMessage]:
    folder = Path(get_settings().var_dir) / "mail"
    found = []
    for path in sorted(folder.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        if message["To"] == address:
            found.append(message)
    return found


async def test_a_confirmed_donation_is_thanked_once_with_its_receipt_link(client: Client) -> None:
    donation = await _donate(client, "li.thanks@example.cn")
    jobs = [job for job in await queue.list_jobs() if job.name == THANK_YOU_JOB]
    assert len(jobs) == 1  # queued with the confirmation
    row = await Donation.select(Donation.receipt_seal).where(Donation.public_id == donation).first()
    assert row is not None
    token = open_receipt_seal(row["receipt_seal"], get_settings().secret_key)
    await drain_jobs()

    [mail] = _mails_to("li.thanks@example.cn")
    body = mail.get_content()
    link = f"{get_settings().base_url}/donations/{token}"
    assert link in body
    assert "小李" in body
    assert "¥88.50（人民币捌拾捌元伍角）" in body
    assert "青山区慈善会·绿景苑社区童趣乐园项目基金" in body
    assert "Your donation of ¥88.50 to 童趣乐园 is confirmed" in body
    assert "感谢您为童趣乐园捐款" in mail["Subject"]
    assert mail["Message-ID"].startswith(f"<thanks-{donation}"[:17])
    receipt = await client.get(link.removeprefix(get_settings().base_url))
    assert receipt.status_code == 200  # the link opens the receipt
    sent = await SentMail.select(SentMail.message_id).where(
        SentMail.recipient == "li.thanks@example.cn"
    )
    assert len(sent) == 1
    cleared = (
        await Donation.select(Donation.receipt_seal).where(Donation.public_id == donation).first()
    )
    assert cleared is not None
    assert cleared["receipt_seal"] is None  # the token is kept no longer than the mail needs it

    # The provider redelivers the confirmation: nothing new is queued or sent.
    await thank_you_job({"donation": donation}, JobContext(job_id=0, key="another-job", attempt=1))
    await drain_jobs()
    assert len(_mails_to("li.thanks@example.cn")) == 1


async def test_a_retry_after_a_crash_sends_the_same_message_id(client: Client) -> None:
    donation = await _donate(client, "wang.retry@example.cn", name="")
    row = await Donation.select(Donation.receipt_seal).where(Donation.public_id == donation).first()
    assert row is not None
    seal = row["receipt_seal"]
    first = JobContext(job_id=1, key="first-attempt", attempt=0)
    await thank_you_job({"donation": donation}, first)
    # The worker died after the send and before its record: the record and the seal come back.
    await SentMail.delete().where(SentMail.recipient == "wang.retry@example.cn")
    await Donation.update({Donation.receipt_seal: seal}).where(Donation.public_id == donation)
    await thank_you_job({"donation": donation}, JobContext(job_id=2, key="second", attempt=1))
    mails = _mails_to("wang.retry@example.cn")
    assert len(mails) == 2
    assert mails[0]["Message-ID"] == mails[1]["Message-ID"]  # mail systems drop the copy
    assert "朋友，您好" in mails[0].get_content()  # an anonymous gift is greeted as a friend


@pytest.mark.parametrize(("address", "status"), [("", "paid"), ("zhao@example.cn", "failed")])
async def test_no_mail_without_an_address_or_a_confirmation(
    client: Client, address: str, status: str
) -> None:
    await _donate(client, address, status=status)
    assert [job for job in await queue.list_jobs() if job.name == THANK_YOU_JOB] == []
    await drain_jobs()
    if address:
        assert _mails_to(address) == []
