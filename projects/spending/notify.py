"""Telling committee members that a decision awaits them, through the accounts area's outbox.

The notices are queued in the proposal's own transaction and sent by a job (retried with
backoff when the mail server is down), so a slow mail server holds up no request and a notice
exists exactly when its proposal does. The member's page lists what awaits them whatever the
mail did.
"""

from __future__ import annotations

from linju.platform.accounts.mailer import Mail
from linju.platform.accounts.outbox import queue_mail
from linju.platform.i18n import translate_in
from linju.platform.settings import get_settings
from linju.projects.core.services.places import committee_addresses
from linju.projects.spending.tables import Expenditure


async def proposal_awaits(public_id: str) -> None:
    """Queue a notice to each member who may vote; call in the proposal's transaction."""
    row = (
        await Expenditure.select(
            Expenditure.project,
            Expenditure.payee,
            Expenditure.purpose,
            Expenditure.proposer_name,
            Expenditure.project.title.as_alias("title"),
        )
        .where(Expenditure.public_id == public_id)
        .first()
    )
    if row is None:
        return
    link = f"{get_settings().base_url}/committee"
    subject = translate_in(
        "zh_CN", "An expenditure for %(project)s awaits your decision", project=row["title"]
    )
    body = translate_in(
        "zh_CN",
        "%(proposer)s proposes to pay %(payee)s for %(purpose)s.\nReview it and decide: %(link)s",
        proposer=row["proposer_name"],
        payee=row["payee"],
        purpose=row["purpose"],
        link=link,
    )
    addresses = await committee_addresses(
        row["project"], except_names=(row["proposer_name"], row["payee"])
    )
    await queue_mail([Mail(to=address, subject=subject, body=body) for address in addresses])
