"""Telling committee members that money a steward recorded awaits their confirmation.

An offline gift and a matching pledge count nowhere until a committee member other than the
recorder confirms it (docs/adr/0019-pledges-two-people.md). Each is mailed, like a proposed
expenditure (`projects/spending/notify.py`), to the project's committee members other than the
recorder, queued in the record's own transaction through the accounts area's outbox and sent by
a job; the addresses come from the one lookup both areas share (`committee_addresses`,
docs/adr/0021-finding-your-way.md). The member's page, /committee, lists the same whatever the
mail did.
"""

from __future__ import annotations

from linju.platform.accounts.mailer import Mail
from linju.platform.accounts.outbox import queue_mail
from linju.platform.i18n import translate_in
from linju.platform.kernel.money import Money, format_money
from linju.platform.settings import get_settings
from linju.projects.core.services.places import committee_addresses
from linju.projects.core.tables import Project


async def _mail_committee(project_id: int, recorder: int | None, subject: str, body: str) -> None:
    addresses = await committee_addresses(project_id, except_account=recorder)
    await queue_mail([Mail(to=address, subject=subject, body=body) for address in addresses])


def _inbox() -> str:
    return get_settings().base_url + "/committee"


async def _title(project_id: int) -> str:
    row = await Project.select(Project.title).where(Project.id == project_id).first()
    return row["title"] if row else ""


async def gift_awaits(project_id: int, recorder: int | None, amount: Money) -> None:
    """Queue the notice of an offline gift to confirm; call in the record's transaction."""
    title = await _title(project_id)
    subject = translate_in(
        "zh_CN", "An offline donation to %(project)s awaits your confirmation", project=title
    )
    body = translate_in(
        "zh_CN",
        "An offline donation of %(amount)s was recorded for %(project)s. It counts only once a "
        "committee member other than its recorder has seen the money and confirms it: "
        "%(link)s",
        amount=format_money(amount, "zh_CN"),
        project=title,
        link=_inbox(),
    )
    await _mail_committee(project_id, recorder, subject, body)


async def pledge_awaits(project_id: int, recorder: int | None, sponsor: str) -> None:
    """Queue the notice of a matching pledge to confirm; call in the record's transaction."""
    title = await _title(project_id)
    subject = translate_in(
        "zh_CN", "A matching pledge for %(project)s awaits your confirmation", project=title
    )
    body = translate_in(
        "zh_CN",
        "%(sponsor)s's matching pledge was recorded for %(project)s. It matches nothing until a "
        "committee member other than its recorder has seen the sponsor's letter and confirms "
        "it: %(link)s",
        sponsor=sponsor,
        project=title,
        link=_inbox(),
    )
    await _mail_committee(project_id, recorder, subject, body)
