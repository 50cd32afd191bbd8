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

from linju.platform.accounts.mailer import Mail
from linju.platform.accounts.outbox import deliver
from linju.platform.db import write_transaction
from linju.platform.i18n import translate_in
from linju.platform.jobs.registry import JobContext, JobKind, register
from linju.platform.kernel.money import Money, format_money
from linju.platform.settings import get_settings
from linju.projects.core.read import get_project
from linju.projects.donations.rules import (
    ANONYMOUS_NAME,
    DonationStatus,
    amount_in_capitals,
    open_receipt_seal,
    public_name,
    receipt_path,
)
from linju.projects.donations.services import THANK_YOU_JOB
from linju.projects.donations.tables import Donation

_MAILED = (DonationStatus.SUCCEEDED.value, DonationStatus.REFUNDED.value)


def thank_you_mail(to: str, name: str, project: str, fund: str, amount: Money, link: str) -> Mail:
    """The thank-you message: Chinese first, then English (the donor's language is not kept)."""
    texts = []
    for locale in ("zh_CN", "en"):
        texts.append(
            translate_in(
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
        )
    subject = " / ".join(
        translate_in(locale, "Thank you for your donation to %(project)s", project=project)
        for locale in ("zh_CN", "en")
    )
    return Mail(to=to, subject=subject, body="\n\n----\n\n".join(texts))


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


def register_jobs() -> None:
    register(JobKind(THANK_YOU_JOB, thank_you_job))
