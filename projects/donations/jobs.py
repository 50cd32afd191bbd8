"""The donations area's job: the thank-you mail of a confirmed donation (ADR 0027).

Every confirmed donation with an e-mail is mailed once: the job is queued in the confirmation's
own transaction (`services.apply_outcome`, with a dedupe key), and sends one message whose
Message-ID is fixed by the donation (`thanks-<id>`), whatever the job or the attempt; the
outbox records it in `sent_mail` and does not send a recorded message again. The mail carries
the receipt's private link: the token, sealed under the secret key since the donation was made,
is opened here and the seal cleared once the mail is recorded.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from linju.platform.accounts.mailer import Mail, in_both_languages
from linju.platform.accounts.outbox import deliver
from linju.platform.db import write_transaction
from linju.platform.i18n import translate_in
from linju.platform.jobs.registry import JobContext, JobKind, register
from linju.platform.kernel.money import Money, format_money
from linju.platform.settings import get_settings
from linju.projects.core.read import get_project
from linju.projects.donations.official_receipts import OFFICIAL_RECEIPT_JOB
from linju.projects.donations.rules import (
    ANONYMOUS_NAME,
    DonationStatus,
    OfficialReceiptStatus,
    amount_in_capitals,
    open_receipt_seal,
    public_name,
    receipt_path,
)
from linju.projects.donations.services import THANK_YOU_JOB
from linju.projects.donations.tables import Donation, OfficialReceipt

_MAILED = (DonationStatus.SUCCEEDED.value, DonationStatus.REFUNDED.value)


def thank_you_mail(to: str, name: str, project: str, fund: str, amount: Money, link: str) -> Mail:
    """The thank-you message, in both languages."""

    def body(locale: str) -> str:
        return translate_in(
            locale,
            "Dear %(name)s,\n\nYour donation of %(amount)s to %(project)s is confirmed. It "
            "was received by %(fund)s and is on the project's public ledger.\n\nYour "
            "receipt, at its private address (do not share it):\n%(link)s\n\nThank you!",
            name=name or translate_in(locale, "friend"),
            amount=format_money(amount, locale)
            + (f"（{amount_in_capitals(amount.amount)}）" if locale == "zh_CN" else ""),
            project=project,
            fund=fund,
            link=link,
        )

    return in_both_languages(
        to,
        lambda locale: translate_in(
            locale, "Thank you for your donation to %(project)s", project=project
        ),
        body,
    )


def _greeting_name(display_name: str, anonymous: bool) -> str:
    """The name the mail greets: the wall's, or "" for an anonymous gift (then "friend")."""
    shown = public_name(display_name, anonymous)
    return "" if shown == ANONYMOUS_NAME else shown


async def thank_you_job(args: dict[str, Any], ctx: JobContext) -> None:
    donation_id = str(args["donation"])
    row = (
        await Donation.select(
            Donation.id,
            Donation.email,
            Donation.receipt_seal,
            Donation.status,
            Donation.amount_fen,
            Donation.currency,
            Donation.display_name,
            Donation.anonymous,
            Donation.project.slug.as_alias("project_slug"),
        )
        .where(Donation.public_id == donation_id)
        .first()
    )
    if row is None or not row["email"] or not row["receipt_seal"] or row["status"] not in _MAILED:
        return  # no address, already mailed (the seal is cleared), or not confirmed
    settings = get_settings()
    token = open_receipt_seal(row["receipt_seal"], settings.secret_key)
    project = await get_project(row["project_slug"], include_drafts=True)
    mail = thank_you_mail(
        to=row["email"],
        name=_greeting_name(row["display_name"], row["anonymous"]),
        project=project.summary.title,
        fund=project.fund.name if project.fund else project.summary.title,
        amount=Money(row["amount_fen"], row["currency"]),
        link=settings.base_url + receipt_path(token),
    )
    # One Message-ID per donation and address, whichever job or attempt sends it.
    await deliver(replace(ctx, key=f"thanks-{donation_id}"), mail)
    async with write_transaction():
        await Donation.update({Donation.receipt_seal: None}).where(Donation.id == row["id"])


# The official receipt's mail (docs/adr/0030-official-receipts-and-host-finance.md) --------------
def official_receipt_mail(to: str, project: str, number: str, link: str) -> Mail:
    """The "your official receipt is issued" message, in both languages."""
    return in_both_languages(
        to,
        lambda locale: translate_in(locale, "Your official donation receipt is ready"),
        lambda locale: translate_in(
            locale,
            "Hello,\n\nThe official donation receipt (No. %(number)s) for your donation to "
            "%(project)s has been issued by the host charity. Download it from your receipt "
            "page, at its private address (do not share it):\n%(link)s\n\nThank you!",
            number=number,
            project=project,
            link=link,
        ),
    )


async def official_receipt_job(args: dict[str, Any], ctx: JobContext) -> None:
    receipt_id = str(args["receipt"])
    row = (
        await OfficialReceipt.select(
            OfficialReceipt.id,
            OfficialReceipt.status,
            OfficialReceipt.email,
            OfficialReceipt.link_seal,
            OfficialReceipt.receipt_number,
            OfficialReceipt.donation._.project._.title.as_alias("project_title"),
        )
        .where(OfficialReceipt.public_id == receipt_id)
        .first()
    )
    if row is None or row["status"] != OfficialReceiptStatus.ISSUED.value or not row["link_seal"]:
        return  # not issued, or already mailed (the seal is cleared)
    settings = get_settings()
    token = open_receipt_seal(row["link_seal"], settings.secret_key)
    mail = official_receipt_mail(
        to=row["email"],
        project=row["project_title"],
        number=row["receipt_number"] or "",
        link=settings.base_url + receipt_path(token),
    )
    # One Message-ID per receipt, whichever job or attempt sends it.
    await deliver(replace(ctx, key=f"official-receipt-{receipt_id}"), mail)
    async with write_transaction():
        await OfficialReceipt.update({OfficialReceipt.link_seal: None}).where(
            OfficialReceipt.id == row["id"]
        )


def register_jobs() -> None:
    register(JobKind(THANK_YOU_JOB, thank_you_job))
    register(JobKind(OFFICIAL_RECEIPT_JOB, official_receipt_job))
