"""Matching sponsors: a pledge matches each confirmed donation in its window, up to its cap.

One person cannot put money on the ledger (docs/adr/0019-pledges-two-people.md): a steward
records a pledge with the sponsor's letter (`create_pledge`), and it draws nothing until a
committee member who is not the recorder confirms it on the committee's page (`decide_pledge`,
through the same second-person check as offline gifts, `services/second_person.py`). It then
matches donations confirmed from that moment on, inside its window; donations confirmed
earlier are not matched afterwards. A rejected pledge never draws.

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
from typing import Any

from piccolo.columns import Column

from linju.platform.accounts.audit import Actor, record_audit
from linju.platform.accounts.tables import Account
from linju.platform.db import is_postgres, select_rows, write_transaction
from linju.platform.kernel.clock import utc_now
from linju.platform.kernel.errors import N_, NotFound, ValidationErrors
from linju.platform.kernel.money import Money
from linju.projects.core.services.funding import project_taking_donations
from linju.projects.core.tables import CommitteeMember, Project
from linju.projects.ledger import services as ledger
from linju.projects.ledger.format import EntryKind, fund_account
from linju.projects.stewardship import notify
from linju.projects.stewardship.rules import (
    PledgePlan,
    match_amount,
    pledge_decision_problems,
    pledge_problems,
)
from linju.projects.stewardship.services.second_person import record_to_decide
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
                # Confirmed by a second person before this donation was: never an unconfirmed
                # or rejected pledge, never a donation confirmed before the pledge was.
                & (MatchingPledge.confirmed_at <= confirmed_at)
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
    """Record a sponsor's pledge with their letter; it draws nothing until confirmed."""
    async with write_transaction():
        project = await project_taking_donations(project_slug)
        goal = await Project.select(Project.goal_fen).where(Project.id == project.id).first()
        problems = pledge_problems(plan, goal_fen=int(goal["goal_fen"]) if goal else 0)
        if problems:
            raise ValidationErrors(problems)
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
                recorded_by=actor.id or 0,
                letter_path=plan.letter_url,
                letter_sha256=plan.letter_sha256,
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
                "letter_sha256": plan.letter_sha256,
            },
        )
        await notify.pledge_awaits(project.id, actor.id, plan.sponsor_name.strip())
    return pledge_id


async def decide_pledge(
    actor: Actor, project_slug: str, pledge_id: int, member: int, confirm: bool, reason: str
) -> None:
    """A committee member (`member`, their seat on this project's committee) confirms the
    pledge, from which moment it matches, or rejects it with a reason; never its recorder."""
    problems = pledge_decision_problems(confirm, reason)
    if problems:
        raise ValidationErrors(problems)
    async with write_transaction():
        seat = (
            await CommitteeMember.select(CommitteeMember.name, CommitteeMember.account_id)
            .where((CommitteeMember.id == member) & (CommitteeMember.project.slug == project_slug))
            .first()
        )
        if seat is None:
            raise NotFound(N_("You are not on this project's committee"))
        await record_to_decide(
            MatchingPledge,
            MatchingPledge.id,
            pledge_id,
            project_slug,
            (),
            decided=(MatchingPledge.confirmed_at, MatchingPledge.rejected_at),
            confirmers=(actor.id, seat["account_id"]),
            not_found=N_("No pledge %(id)s"),
            already_decided=N_("This pledge was already decided"),
        )
        if confirm:
            await project_taking_donations(project_slug)  # a closed project takes no new match
        now = utc_now()
        decided: dict[Column | str, Any] = {
            MatchingPledge.decided_by_name: seat["name"],
            MatchingPledge.decision_reason: reason.strip(),
        }
        if confirm:
            decided |= {MatchingPledge.confirmed_by: actor.id, MatchingPledge.confirmed_at: now}
        else:
            decided |= {MatchingPledge.rejected_by: actor.id, MatchingPledge.rejected_at: now}
        await MatchingPledge.update(decided).where(MatchingPledge.id == pledge_id)
        await record_audit(
            actor,
            "pledge.confirm" if confirm else "pledge.reject",
            "project",
            project_slug,
            before={"pledge": pledge_id, "status": "awaiting"},
            after={
                "pledge": pledge_id,
                "status": "confirmed" if confirm else "rejected",
                "member": seat["name"],
                "reason": reason.strip(),
            },
        )


def _with_money(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for row in rows:
        row["left"] = Money(max(0, row["cap_fen"] - row["drawn_fen"]), row["currency"])
        row["cap"] = Money(row["cap_fen"], row["currency"])
        row["status"] = (
            "confirmed"
            if row["confirmed_at"] is not None
            else "rejected"
            if row["rejected_at"] is not None
            else "awaiting"
        )
    return rows


async def project_pledges(project_id: int, *, confirmed_only: bool = False) -> list[dict[str, Any]]:
    """The project's pledges with what is left of each cap and their status (`awaiting`,
    `confirmed`, `rejected`); the project page shows only the confirmed ones."""
    rows = _with_money(
        await select_rows(
            where=[(MatchingPledge.project, project_id)], order_by=[(MatchingPledge.id, True)]
        )
    )
    return [r for r in rows if r["status"] == "confirmed"] if confirmed_only else rows


async def pledges_awaiting(project_id: int) -> list[dict[str, Any]]:
    """The project's pledges that wait for a committee member, oldest first, with the name of
    the account that recorded each (the committee's page)."""
    rows = _with_money(
        list(
            await MatchingPledge.select()
            .where(
                (MatchingPledge.project == project_id)
                & MatchingPledge.confirmed_at.is_null()
                & MatchingPledge.rejected_at.is_null()
            )
            .order_by(MatchingPledge.id)
        )
    )
    recorders = {r["recorded_by"] for r in rows if r["recorded_by"]}
    names = {
        a["id"]: a["display_name"]
        for a in (
            await Account.select(Account.id, Account.display_name).where(
                Account.id.is_in(list(recorders))
            )
            if recorders
            else []
        )
    }
    for row in rows:
        row["recorder_name"] = names.get(row["recorded_by"], "")
    return rows
