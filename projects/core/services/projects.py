"""Use cases of a project's lifecycle: create a draft, publish it, move its status.

Statuses change only here, and only along `rules.TRANSITIONS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from linju.platform.db import is_postgres, write_transaction
from linju.platform.kernel.clock import local_today, utc_now
from linju.platform.kernel.errors import N_, Conflict, NotFound, RuleViolation, ValidationErrors
from linju.projects.core.rules import (
    MAX_TITLE_LENGTH,
    BudgetLinePlan,
    CommitteeRole,
    CommitteeSeat,
    ProjectStatus,
    budget_problems,
    can_transition,
    committee_problems,
    is_valid_slug,
    publication_problems,
)
from linju.projects.core.tables import BudgetLine, CommitteeMember, Community, Project
from linju.projects.ledger.tables import LedgerHead


@dataclass(frozen=True, slots=True)
class ProjectDraft:
    """Everything a secretary gives to create a project."""

    community_slug: str
    slug: str
    title: str
    goal_fen: int
    summary: str = ""
    story: str = ""
    deadline: date | None = None
    currency: str = "CNY"
    cover_image: str = ""
    budget: list[BudgetLinePlan] = field(default_factory=list)
    committee: list[CommitteeSeat] = field(default_factory=list)


def _draft_problems(draft: ProjectDraft) -> dict[str, str]:
    problems: dict[str, str] = {}
    if not is_valid_slug(draft.slug):
        problems["slug"] = N_("A slug uses lowercase letters, digits and hyphens")
    if not draft.title.strip():
        problems["title"] = N_("A project needs a title")
    elif len(draft.title) > MAX_TITLE_LENGTH:
        problems["title"] = N_("The title is longer than 200 characters")
    if len(draft.summary) > 500:
        problems["summary"] = N_("The summary is longer than 500 characters")
    if isinstance(draft.goal_fen, bool) or not isinstance(draft.goal_fen, int):
        problems["goal"] = N_("The goal must be a whole number of fen")
    elif draft.goal_fen <= 0:
        problems["goal"] = N_("The goal must be more than zero")
    if draft.budget:
        budget = budget_problems(draft.goal_fen, draft.budget)
        if budget:
            problems["budget"] = budget[0]
    if draft.committee:
        committee = committee_problems(draft.committee)
        if committee:
            problems["committee"] = committee[0]
    if draft.deadline is not None and draft.deadline < local_today():
        problems["deadline"] = N_("The deadline is in the past")
    return problems


async def create_project(draft: ProjectDraft) -> int:
    """Create a project as a draft, with its budget lines, committee and empty ledger head."""
    problems = _draft_problems(draft)
    if problems:
        raise ValidationErrors(problems)
    now = utc_now()
    async with write_transaction():
        community = (
            await Community.select(Community.id)
            .where(Community.slug == draft.community_slug)
            .first()
        )
        if community is None:
            raise NotFound("No community %(slug)s", slug=draft.community_slug)
        if await Project.exists().where(Project.slug == draft.slug):
            raise Conflict("The slug %(slug)s is already taken", slug=draft.slug)
        rows = await Project.insert(
            Project(
                slug=draft.slug,
                community=community["id"],
                title=draft.title.strip(),
                summary=draft.summary.strip(),
                story=draft.story,
                goal_fen=draft.goal_fen,
                currency=draft.currency,
                deadline=draft.deadline,
                status=ProjectStatus.DRAFT.value,
                cover_image=draft.cover_image,
                created_at=now,
                status_changed_at=now,
            )
        )
        project_id = int(rows[0]["id"])
        await _write_lines_and_seats(project_id, draft, linked={})
        await LedgerHead.insert(LedgerHead(project=project_id, currency=draft.currency))
    return project_id


class PublicationRefused(RuleViolation):
    """Publishing was refused; `reasons` lists every missing piece, so the secretary sees all."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__(N_("The project cannot be published yet"))
        self.reasons = reasons


async def _locked_status(slug: str) -> tuple[int, ProjectStatus]:
    query = Project.select(Project.id, Project.status).where(Project.slug == slug)
    if is_postgres():
        query = query.lock_rows("UPDATE")
    row = await query.first()
    if row is None:
        raise NotFound("No project %(slug)s", slug=slug)
    return int(row["id"]), ProjectStatus(row["status"])


async def change_status(slug: str, target: ProjectStatus) -> None:
    """Move a project along its lifecycle; refuses any move `rules.TRANSITIONS` does not list.

    Publishing (draft → fundraising) goes through `publish`, which checks the committee and budget.
    """
    async with write_transaction():
        project_id, current = await _locked_status(slug)
        if current is ProjectStatus.DRAFT and target is ProjectStatus.FUNDRAISING:
            await _check_publishable(project_id)
        if not can_transition(current, target):
            raise Conflict(
                "A project cannot go from %(current)s to %(target)s",
                current=current.value,
                target=target.value,
            )
        await Project.update(
            {Project.status: target.value, Project.status_changed_at: utc_now()}
        ).where(Project.id == project_id)


async def _check_publishable(project_id: int) -> None:
    project = (
        await Project.select(Project.goal_fen, Project.deadline)
        .where(Project.id == project_id)
        .first()
    )
    assert project is not None
    lines = await BudgetLine.select(BudgetLine.title, BudgetLine.amount_fen).where(
        BudgetLine.project == project_id
    )
    seats = await CommitteeMember.select(
        CommitteeMember.name, CommitteeMember.role, CommitteeMember.background
    ).where(CommitteeMember.project == project_id)
    problems = publication_problems(
        project["goal_fen"],
        [BudgetLinePlan(line["title"], line["amount_fen"]) for line in lines],
        [CommitteeSeat(s["name"], CommitteeRole(s["role"]), s["background"]) for s in seats],
        project["deadline"],
        local_today(),
    )
    if problems:
        raise PublicationRefused(problems)


async def publish(slug: str) -> None:
    """Start raising money: only with a complete committee and a budget that adds up."""
    await change_status(slug, ProjectStatus.FUNDRAISING)


async def update_draft(slug: str, draft: ProjectDraft) -> None:
    """Replace a draft's text, goal, deadline, budget and committee in one transaction.

    Only a draft can be edited this way: once a project raises money its promises are public.
    Committee seats keep the account linked to them when the same name stays on the committee.
    """
    problems = _draft_problems(draft)
    if problems:
        raise ValidationErrors(problems)
    async with write_transaction():
        project_id, current = await _locked_status(slug)
        if current is not ProjectStatus.DRAFT:
            raise Conflict(N_("Only a draft can be edited"))
        await Project.update(
            {
                Project.title: draft.title.strip(),
                Project.summary: draft.summary.strip(),
                Project.story: draft.story,
                Project.goal_fen: draft.goal_fen,
                Project.deadline: draft.deadline,
                **({Project.cover_image: draft.cover_image} if draft.cover_image else {}),
            }
        ).where(Project.id == project_id)
        await BudgetLine.delete().where(BudgetLine.project == project_id)
        linked = {
            row["name"]: row["account_id"]
            for row in await CommitteeMember.select(
                CommitteeMember.name, CommitteeMember.account_id
            ).where(CommitteeMember.project == project_id)
        }
        await CommitteeMember.delete().where(CommitteeMember.project == project_id)
        await _write_lines_and_seats(project_id, draft, linked)


async def _write_lines_and_seats(
    project_id: int, draft: ProjectDraft, linked: dict[str, int | None]
) -> None:
    """A draft's budget lines and committee seats, in order; `linked` keeps the account a seat
    of the same name had before an edit."""
    if draft.budget:
        await BudgetLine.insert(
            *[
                BudgetLine(
                    project=project_id,
                    title=line.title.strip(),
                    amount_fen=line.amount_fen,
                    position=index,
                )
                for index, line in enumerate(draft.budget)
            ]
        )
    if draft.committee:
        await CommitteeMember.insert(
            *[
                CommitteeMember(
                    project=project_id,
                    name=seat.name.strip(),
                    role=seat.role.value,
                    background=seat.background.strip(),
                    account_id=linked.get(seat.name.strip()),
                    position=index,
                )
                for index, seat in enumerate(draft.committee)
            ]
        )
