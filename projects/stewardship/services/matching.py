"""Matching sponsors: a pledge matches each confirmed donation in its window, up to its cap.

`draw_matches` runs INSIDE the write transaction that confirms a donation (online or offline):
the match and the donation commit together or not at all. The pledge row is locked
(`SELECT … FOR UPDATE` on PostgreSQL; SQLite's BEGIN IMMEDIATE serialises writers) before its
remaining cap is read, so concurrent confirmations near the cap never draw more than the cap.
Each donation draws at most one match (the earliest open pledge with room left), exactly once:
`match_draw.donation_ref` is unique and the ledger key is `matching:<donation ref>`.
A refund reverses the whole match (`reverse_match`) and gives its room back to the pledge.
"""

from __future__ import annotations

from datetime import datetime

from linju.platform.accounts.audit import Actor, record_audit
from linju.platform.db import is_postgres, select_rows, write_transaction
from linju.platform.kernel.clock import utc_now
from linju.platform.kernel.errors import NotFound, ValidationErrors
from linju.platform.kernel.money import Money
from linju.projects.core.services.funding import project_taking_donations
from linju.projects.core.tables import Project
from linju.projects.ledger import services as ledger
from linju.projects.ledger.format import EntryKind, fund_account
from linju.projects.stewardship.rules import PledgePlan, match_amount, pledge_problems
from linju.projects.stewardship.tables import MatchDraw, MatchingPledge


async def draw_matches(
    project_slug: str, donation_ref: str, amount_fen: int, confirmed_at: datetime
) -> int:
    """Post the match of a confirmed donation; returns the fen matched (0 when none).

    Call inside the donation's confirmation transaction. Idempotent per `donation_ref`.
    """
    async with write_transaction():  # joins the caller's transaction
        if await MatchDraw.exists().where(MatchDraw.donation_ref == donation_ref):
            return 0
        project = await Project.select(Project.id).where(Project.slug == project_slug).first()
        if project is None:
            raise NotFound("No project %(slug)s", slug=project_slug)
        query = (
            MatchingPledge.select(
                MatchingPledge.id,
                MatchingPledge.sponsor_slug,
                MatchingPledge.sponsor_name,
                MatchingPledge.ratio_num,
                MatchingPledge.ratio_den,
                MatchingPledge.cap_fen,
                MatchingPledge.drawn_fen,
                MatchingPledge.currency,
            )
            .where(
                (MatchingPledge.project == project["id"])
                & (MatchingPledge.starts_at <= confirmed_at)
                & (MatchingPledge.ends_at >= confirmed_at)
            )
            .order_by(MatchingPledge.id)
        )
        if is_postgres():
            query = query.lock_rows("UPDATE")
        for pledge in await query:
            room = pledge["cap_fen"] - pledge["drawn_fen"]
            matched = match_amount(amount_fen, pledge["ratio_num"], pledge["ratio_den"], room)
            if matched <= 0:
                continue
            result = await ledger.append(
                project_slug,
                ledger.LedgerEvent(
                    kind=EntryKind.MATCHING,
                    memo=f"{pledge['sponsor_name']}配捐",
                    ref=donation_ref,
                    postings=(
                        ledger.Posting(fund_account(project_slug), matched, pledge["currency"]),
                        ledger.Posting(
                            f"sponsor:{pledge['sponsor_slug']}", -matched, pledge["currency"]
                        ),
                    ),
                    idempotency_key=f"matching:{donation_ref}",
                ),
            )
            await MatchDraw.insert(
                MatchDraw(
                    pledge=pledge["id"],
                    donation_ref=donation_ref,
                    amount_fen=matched,
                    ledger_seq=result.entry["seq"],
                    drawn_at=utc_now(),
                )
            )
            await MatchingPledge.update(
                {MatchingPledge.drawn_fen: MatchingPledge.drawn_fen + matched}
            ).where(MatchingPledge.id == pledge["id"])
            return matched
    return 0


async def reverse_match(project_slug: str, donation_ref: str, reason: str) -> int:
    """Reverse the match of a refunded donation (once); returns the fen given back (0: none).

    Call inside the refund's transaction.
    """
    async with write_transaction():
        draw = (
            await MatchDraw.select(
                MatchDraw.id, MatchDraw.pledge, MatchDraw.amount_fen, MatchDraw.ledger_seq
            )
            .where((MatchDraw.donation_ref == donation_ref) & MatchDraw.reversed_at.is_null())
            .first()
        )
        if draw is None:
            return 0
        lock = MatchingPledge.select(MatchingPledge.id).where(MatchingPledge.id == draw["pledge"])
        if is_postgres():
            lock = lock.lock_rows("UPDATE")
        await lock
        await ledger.reverse(project_slug, draw["ledger_seq"], reason)
        await MatchDraw.update({MatchDraw.reversed_at: utc_now()}).where(MatchDraw.id == draw["id"])
        await MatchingPledge.update(
            {MatchingPledge.drawn_fen: MatchingPledge.drawn_fen - draw["amount_fen"]}
        ).where(MatchingPledge.id == draw["pledge"])
        return int(draw["amount_fen"])


async def create_pledge(actor: Actor, project_slug: str, plan: PledgePlan) -> int:
    problems = pledge_problems(plan)
    if problems:
        raise ValidationErrors(problems)
    async with write_transaction():
        project = await project_taking_donations(project_slug)
        rows = await MatchingPledge.insert(
            MatchingPledge(
                project=project.id,
                sponsor_slug=plan.sponsor_slug,
                sponsor_name=plan.sponsor_name.strip(),
                ratio_num=plan.ratio_num,
                ratio_den=plan.ratio_den,
                cap_fen=plan.cap_fen,
                currency=project.currency,
                starts_at=plan.starts_at,
                ends_at=plan.ends_at,
                created_at=utc_now(),
            )
        )
        pledge_id = int(rows[0]["id"])
        await record_audit(
            actor,
            "pledge.create",
            "project",
            project_slug,
            after={
                "pledge": pledge_id,
                "sponsor": plan.sponsor_slug,
                "ratio": f"{plan.ratio_num}:{plan.ratio_den}",
                "cap_fen": plan.cap_fen,
                "starts_at": plan.starts_at,
                "ends_at": plan.ends_at,
            },
        )
    return pledge_id


async def project_pledges(project_id: int) -> list[dict[str, object]]:
    """The project's pledges with what is left of each cap (for the project page)."""
    rows = await select_rows(
        where=[(MatchingPledge.project, project_id)], order_by=[(MatchingPledge.id, True)]
    )
    for row in rows:
        row["left"] = Money(max(0, row["cap_fen"] - row["drawn_fen"]), row["currency"])
        row["cap"] = Money(row["cap_fen"], row["currency"])
    return rows
