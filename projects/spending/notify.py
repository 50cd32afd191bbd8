"""Telling committee members that a decision awaits them, through the accounts area's outbox.

The notices are queued in the proposal's own transaction and sent by a job (retried with
backoff when the mail server is down), so a slow mail server holds up no request and a notice
exists exactly when its proposal does. The member's page lists what awaits them whatever the
mail did.
"""

from __future__ import annotations

from linju.platform.accounts.mailer import Mail
from linju.platform.accounts.outbox import queue_mail
from linju.platform.accounts.tables import Account
from linju.platform.i18n import translate_in
from linju.platform.settings import get_settings
from linju.projects.core.tables import CommitteeMember
from linju.projects.spending.tables import Expenditure


async def _member_addresses(project_id: int, exclude_names: set[str]) -> list[str]:
    seats = await CommitteeMember.select(CommitteeMember.name, CommitteeMember.account_id).where(
        (CommitteeMember.project == project_id) & CommitteeMember.account_id.is_not_null()
    )
    ids = [s["account_id"] for s in seats if s["name"] not in exclude_names]
    if not ids:
        return []
    rows = await Account.select(Account.email).where(
        Account.id.is_in(ids) & (Account.is_active == True)  # noqa: E712 - Piccolo's operator
    )
    return [r["email"] for r in rows]


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
    addresses = await _member_addresses(row["project"], {row["proposer_name"], row["payee"]})
    await queue_mail([Mail(to=address, subject=subject, body=body) for address in addresses])
