"""Disclosures (项目公示, docs/adr/0029-disclosures.md): built from the ledger, published by the
community's secretary, frozen once published.

A disclosure covers a period of days and, exactly, the ledger entries after the previous
disclosure's head up to the last entry made before the period's end (community time): the
snapshot names that head (seq and hash), so anyone can recompute its figures from the ledger's
export. Publishing re-reads everything under the project's lock: the period must follow the
previous one, the figures are computed again there, and a refusal writes nothing.

Money out by budget line needs each expenditure's line, which the spending area keeps (above
this one): the composition root registers its reader (`register_expenditure_lines`).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from piccolo.query.functions.aggregate import Max

from linju.platform.accounts.audit import Actor, record_audit
from linju.platform.db import write_transaction
from linju.platform.kernel.clock import COMMUNITY_TIMEZONE, community_date, local_today, utc_now
from linju.platform.kernel.errors import N_, DomainError, NotFound, ValidationErrors
from linju.platform.kernel.money import Money
from linju.projects.core.read import get_project, host_details
from linju.projects.core.rules import ProjectStatus
from linju.projects.core.tables import BudgetLine, Project
from linju.projects.ledger import read as ledger_read
from linju.projects.ledger.format import format_at
from linju.projects.ledger.lock import locked_project
from linju.projects.ledger.tables import LedgerEntry
from linju.projects.stewardship.rules import (
    DisclosureDuty,
    DisclosureFigures,
    DisclosureKind,
    DisclosurePlan,
    DueDisclosure,
    disclosure_problems,
    is_overdue,
    kind_to_publish,
    next_disclosure,
    next_period_starts_on,
    tally,
)
from linju.projects.stewardship.tables import Disclosure

GENESIS_HASH = "0" * 64

ExpenditureLines = Callable[[int], Awaitable[dict[str, int]]]


async def _no_lines(_project_id: int) -> dict[str, int]:
    return {}


_expenditure_lines: list[ExpenditureLines] = [_no_lines]


def register_expenditure_lines(reader: ExpenditureLines) -> None:
    """Set the reader of a project's expenditures' budget lines (public id → line id)."""
    _expenditure_lines[:] = [reader]


def figures_view(figures: DisclosureFigures) -> dict[str, Any]:
    """The figures as the pages show them: amounts as Money, the lines with their titles."""

    def money(fen: int) -> Money:
        return Money(fen, figures.currency)

    return {
        "opening": money(figures.opening_fen),
        "online": money(figures.online_fen),
        "offline": money(figures.offline_fen),
        "matching": money(figures.matching_fen),
        "refunds": money(figures.refunds_fen),
        "money_in": money(figures.money_in_fen),
        "fees": money(figures.fees_fen),
        "lines": [(line.title, money(line.spent_fen)) for line in figures.spent],
        "spent": money(figures.spent_fen),
        "transfers": money(figures.transfers_fen),
        "money_out": money(figures.money_out_fen),
        "closing": money(figures.closing_fen),
        "first_seq": figures.first_seq,
        "head_seq": figures.head_seq,
        "head_hash": figures.head_hash,
        "entries": figures.entries,
    }


class NotTheSecretary(DomainError):
    status = 403


@dataclass(frozen=True, slots=True)
class DisclosureStatus:
    """Where a project stands: its duty, what it owes next and whether that is late."""

    duty: DisclosureDuty
    due: DueDisclosure | None
    overdue: bool
    next_starts_on: date
    next_kind: DisclosureKind


async def _project(slug: str) -> dict[str, Any]:
    project = (
        await Project.select(
            Project.id, Project.slug, Project.title, Project.status, Project.currency,
            Project.community, Project.community.slug, Project.community.name,
            Project.created_at, Project.status_changed_at, Project.plan_starts_on,
            Project.plan_ends_on, Project.fund_name, Project.filing_number,
        )
        .where(Project.slug == slug)
        .first()
    )  # fmt: skip
    if project is None:
        raise NotFound(N_("No project %(slug)s"), slug=slug)
    return project


async def disclosures_of(project_id: int) -> list[dict[str, Any]]:
    """The project's published disclosures, oldest first, each with its figures read back."""
    rows = list(
        await Disclosure.select().where(Disclosure.project == project_id).order_by(Disclosure.seq)
    )
    for row in rows:
        row["figures"] = DisclosureFigures.from_json(json.loads(row["figures"]))
        row["view"] = figures_view(row["figures"])
    return rows


def duty_of(project: dict[str, Any], published: list[dict[str, Any]]) -> DisclosureDuty:
    last = published[-1] if published else None
    completed = project["status"] == ProjectStatus.COMPLETED.value
    return DisclosureDuty(
        status=project["status"],
        plan_starts_on=project["plan_starts_on"],
        plan_ends_on=project["plan_ends_on"],
        opened_on=project["plan_starts_on"] or community_date(project["created_at"]),
        completed_on=community_date(project["status_changed_at"]) if completed else None,
        last_published_on=community_date(last["published_at"]) if last else None,
        last_period_ends_on=last["period_ends_on"] if last else None,
        final_published=any(d["kind"] == DisclosureKind.FINAL.value for d in published),
    )


def status_of(project: dict[str, Any], published: list[dict[str, Any]]) -> DisclosureStatus:
    duty = duty_of(project, published)
    due = next_disclosure(duty)
    return DisclosureStatus(
        duty=duty,
        due=due,
        overdue=is_overdue(due, local_today()),
        next_starts_on=next_period_starts_on(duty),
        next_kind=kind_to_publish(project["status"]),
    )


def _end_of(day: date) -> datetime:
    """The first moment after `day` where the communities are."""
    return datetime.combine(day + timedelta(days=1), time.min, COMMUNITY_TIMEZONE).astimezone(UTC)


async def build_figures(
    project: dict[str, Any], published: list[dict[str, Any]], ends_on: date
) -> DisclosureFigures:
    """The figures of the entries after the last disclosure's head, made before `ends_on` ended."""
    ledger = await ledger_read.find_ledger(project["slug"], include_drafts=True)
    after = int(published[-1]["head_seq"]) if published else 0
    row = (
        await LedgerEntry.select(Max(LedgerEntry.seq, alias="last"))
        .where(
            (LedgerEntry.project == project["id"])
            & (LedgerEntry.seq > after)
            & (LedgerEntry.at < format_at(_end_of(ends_on)))  # RFC 3339 text, fixed width
        )
        .first()
    )
    up_to = int(row["last"]) if row and row["last"] is not None else after
    entries: list[dict[str, Any]] = []
    while len(entries) < up_to - after:
        start = after + len(entries)
        page = await ledger_read.entries_after(ledger, start, ledger_read.EXPORT_PAGE_SIZE, up_to)
        if not page:
            break
        entries.extend(page)
    after_hash = (await ledger_read.entry_at(ledger, after))["hash"] if after else GENESIS_HASH
    lines = await BudgetLine.select(BudgetLine.id, BudgetLine.title).where(
        BudgetLine.project == project["id"]
    ).order_by(BudgetLine.position)  # fmt: skip
    return tally(
        entries,
        slug=project["slug"],
        currency=project["currency"],
        opening_fen=await ledger_read.fund_balance_after(ledger, after) if after else 0,
        after_seq=after,
        after_hash=after_hash,
        lines={int(line["id"]): line["title"] for line in lines},
        line_of_ref=await _expenditure_lines[0](project["id"]),
    )


async def disclosure_workbench(slug: str) -> dict[str, Any]:
    """The secretary's page of a project's disclosures: the list, where it stands, and a
    preview of the next one's figures up to today."""
    project = await _project(slug)
    published = await disclosures_of(project["id"])
    status = status_of(project, published)
    today = local_today()
    preview = None
    if project["status"] != ProjectStatus.DRAFT.value and status.next_starts_on <= today:
        preview = figures_view(await build_figures(project, published, today))
    return {
        "project": project,
        "disclosures": published,
        "status": status,
        "preview": preview,
        "can_start": status.next_starts_on <= today,
        "initial": {
            "starts_on": status.next_starts_on.isoformat(),
            "ends_on": today.isoformat(),
        },
    }


async def check_disclosure(slug: str, plan: DisclosurePlan) -> dict[str, Any]:
    """What publishing `plan` would publish (the confirmation page's figures), or the refusal."""
    project = await _project(slug)
    published = await disclosures_of(project["id"])
    problems = disclosure_problems(plan, duty_of(project, published), local_today())
    if problems:
        raise ValidationErrors(problems)
    return {
        "project": project,
        "plan": plan,
        "kind": kind_to_publish(project["status"]),
        "seq": len(published) + 1,
        "figures": figures_view(await build_figures(project, published, plan.ends_on)),
    }


async def publish_disclosure(
    actor: Actor, secretary_of: frozenset[int], name: str, slug: str, plan: DisclosurePlan
) -> int:
    """Publish the next disclosure (its number); only the project's community's secretary."""
    async with write_transaction():
        await locked_project(slug)  # the ledger's head waits: the figures are the ledger's
        project = await _project(slug)
        if project["community"] not in secretary_of:
            raise NotTheSecretary(N_("Only the community's secretary publishes its disclosures"))
        published = await disclosures_of(project["id"])
        problems = disclosure_problems(plan, duty_of(project, published), local_today())
        if problems:
            raise ValidationErrors(problems)
        figures = await build_figures(project, published, plan.ends_on)
        seq = len(published) + 1
        kind = kind_to_publish(project["status"])
        await Disclosure.insert(
            Disclosure(
                project=project["id"],
                seq=seq,
                kind=kind.value,
                period_starts_on=plan.starts_on,
                period_ends_on=plan.ends_on,
                currency=figures.currency,
                opening_fen=figures.opening_fen,
                closing_fen=figures.closing_fen,
                first_seq=figures.first_seq,
                head_seq=figures.head_seq,
                head_hash=figures.head_hash,
                figures=json.dumps(figures.as_json(), ensure_ascii=False, sort_keys=True),
                what_was_done=plan.what_was_done.strip(),
                published_by=actor.id or 0,
                published_by_name=name[:100],
                published_at=utc_now(),
            )
        )
        await record_audit(
            actor,
            "disclosure.publish",
            "project",
            slug,
            after={
                "disclosure": seq,
                "kind": kind.value,
                "period": [plan.starts_on, plan.ends_on],
                "head_seq": figures.head_seq,
                "head_hash": figures.head_hash,
            },
        )
    return seq


async def public_disclosures(slug: str) -> dict[str, Any]:
    """The project page's part: the list, and where the project stands (late or not)."""
    project = await _project(slug)
    published = await disclosures_of(project["id"])
    return {"disclosures": published, "status": status_of(project, published)}


async def published_disclosures(slug: str) -> list[dict[str, Any]]:
    """A published project's disclosures, oldest first (a draft's: 404, as its page)."""
    project = await get_project(slug)
    return await disclosures_of(project.id)


async def disclosure_page(slug: str, seq: int) -> dict[str, Any]:
    """One published disclosure as its printable page shows it (404 for a draft project)."""
    project = await get_project(slug)  # a draft's: 404
    published = await disclosures_of(project.id)
    found = [d for d in published if d["seq"] == seq]
    if not found:
        raise NotFound(N_("No disclosure %(seq)s of %(slug)s"), seq=seq, slug=slug)
    return {"project": project, "disclosure": found[0], "host": await host_details()}
