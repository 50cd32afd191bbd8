"""Offline donations (cash at an event, a bank transfer): recorded by the secretary, confirmed by
a committee member who is not the recorder (`services/second_person.py`, shared with matching
pledges), and only then posted to the ledger.

An unconfirmed record is visible to the project's secretary and committee and counted nowhere.
Confirmation posts the `offline_donation` entry (fund +x, donors:offline −x, key
`offline_donation:<public id>`) and draws any matching pledge, in one transaction.
"""

from __future__ import annotations

import secrets
from typing import Any

from linju.platform.accounts.audit import Actor, record_audit
from linju.platform.db import write_transaction
from linju.platform.kernel.clock import local_today, utc_now
from linju.platform.kernel.errors import N_, Conflict, ValidationErrors
from linju.platform.kernel.money import Money
from linju.platform.settings import get_settings
from linju.projects.core.services.funding import (
    close_when_goal_reached,
    project_taking_donations,
    takes_money_now,
)
from linju.projects.ledger import services as ledger
from linju.projects.ledger.format import EntryKind, fund_account
from linju.projects.ledger.lock import locked_project
from linju.projects.stewardship import notify
from linju.projects.stewardship.rules import ANONYMOUS, OfflineGift, gift_problems
from linju.projects.stewardship.services.matching import draw_matches
from linju.projects.stewardship.services.second_person import record_to_decide
from linju.projects.stewardship.tables import OfflineDonation

# A gift recorded while the project took money, confirmed after it stopped (cancelled,
# completed, closed): refused, so a fund that was settled to zero stays there.
NO_LONGER_TAKING_MONEY = N_(
    "This project no longer takes money, so this gift cannot be confirmed: give it back to the "
    "donor."
)


async def record_offline_donation(actor: Actor, project_slug: str, gift: OfflineGift) -> str:
    problems = gift_problems(gift, max_fen=get_settings().max_donation_fen, today=local_today())
    if problems:
        raise ValidationErrors(problems)
    public_id = secrets.token_urlsafe(12)
    async with write_transaction():
        project = await project_taking_donations(project_slug)
        await OfflineDonation.insert(
            OfflineDonation(
                public_id=public_id,
                project=project.id,
                amount_fen=gift.amount_fen,
                currency=project.currency,
                donor_name="" if gift.anonymous else gift.donor_name.strip(),
                anonymous=gift.anonymous,
                received_on=gift.received_on,
                method=gift.method,
                evidence_path=gift.evidence_url,
                evidence_sha256=gift.evidence_sha256,
                recorded_by=actor.id or 0,
                recorded_at=utc_now(),
            )
        )
        await record_audit(
            actor,
            "offline_donation.record",
            "offline_donation",
            public_id,
            after={
                "project": project_slug,
                "amount_fen": gift.amount_fen,
                "donor": gift.donor_name.strip() or ANONYMOUS,
                "received_on": gift.received_on,
                "method": gift.method,
                "evidence_sha256": gift.evidence_sha256,
            },
        )
        await notify.gift_awaits(project.id, actor.id, Money(gift.amount_fen, project.currency))
    return public_id


async def confirm_offline_donation(actor: Actor, project_slug: str, public_id: str) -> int:
    """Confirm and post; returns the ledger seq. The caller's guard checked the committee seat."""
    async with write_transaction():
        row = await record_to_decide(
            OfflineDonation,
            OfflineDonation.public_id,
            public_id,
            project_slug,
            (
                OfflineDonation.amount_fen,
                OfflineDonation.currency,
                OfflineDonation.donor_name,
                OfflineDonation.anonymous,
            ),
            decided=(OfflineDonation.confirmed_at,),
            confirmers=(actor.id,),
            not_found=N_("No offline donation %(id)s"),
            already_decided=N_("This donation was already confirmed"),
        )
        # The gift's row, then the project's ledger head (the one lock order, ADR 0015): the
        # status read under the head is the one a cancellation or completion committed.
        await locked_project(project_slug)
        if not await takes_money_now(project_slug):
            raise Conflict(NO_LONGER_TAKING_MONEY)
        donor = ANONYMOUS if row["anonymous"] or not row["donor_name"] else row["donor_name"]
        result = await ledger.append(
            project_slug,
            ledger.LedgerEvent(
                kind=EntryKind.OFFLINE_DONATION,
                memo=donor,
                ref=public_id,
                postings=(
                    ledger.Posting(fund_account(project_slug), row["amount_fen"], row["currency"]),
                    ledger.Posting("donors:offline", -row["amount_fen"], row["currency"]),
                ),
                idempotency_key=f"offline_donation:{public_id}",
            ),
        )
        now = utc_now()
        await OfflineDonation.update(
            {
                OfflineDonation.confirmed_by: actor.id,
                OfflineDonation.confirmed_at: now,
                OfflineDonation.ledger_seq: result.entry["seq"],
            }
        ).where(OfflineDonation.id == row["id"])
        await draw_matches(project_slug, public_id, row["amount_fen"], now)
        await close_when_goal_reached(project_slug)
        await record_audit(
            actor,
            "offline_donation.confirm",
            "offline_donation",
            public_id,
            before={"confirmed": False},
            after={"confirmed": True, "ledger_seq": result.entry["seq"]},
        )
        return int(result.entry["seq"])


async def offline_donations_of(project_id: int) -> list[dict[str, Any]]:
    rows = list(
        await OfflineDonation.select()
        .where(OfflineDonation.project == project_id)
        .order_by(OfflineDonation.id, ascending=False)
    )
    for row in rows:
        row["amount"] = Money(row["amount_fen"], row["currency"])
    return rows
