"""Use cases of a project's lifecycle: create a draft, publish it, move its status.

Statuses change only here, and only along `rules.TRANSITIONS`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
    Filing,
    ProjectStatus,
    budget_problems,
    can_transition,
    committee_problems,
    fund_name,
    fund_problems,
    is_valid_slug,
    problem_list,
    publication_problems_by_field,
)
from linju.projects.core.tables import BudgetLine, CommitteeMember, Community, Host, Project
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
    fund_name: str = ""  # empty: generated from the host, the community and the title (ADR 0027)
    filing: Filing = field(default_factory=Filing)


async def host_filing() -> tuple[str, bool]:
    """The host's name ("" before an admin names it) and whether it requires a filed plan
    before a project is published (no host: no filing rule to apply)."""
    row = await Host.select(Host.name, Host.filing_required).order_by(Host.id).first()
    if row is None:
        return "", False
    return row["name"], bool(row["filing_required"])


async def _fund_name(draft: ProjectDraft, community_name: str) -> str:
    if draft.fund_name.strip():
        return draft.fund_name.strip()
    host_name, _ = await host_filing()
    return fund_name(host_name, community_name, draft.title)


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
    for name, problem in fund_problems(draft.fund_name, draft.filing).items():
        problems.setdefault(name, problem)
    return problems


async def create_project(draft: ProjectDraft) -> int:
    """Create a project as a draft, with its budget lines, committee and empty ledger head."""
    problems = _draft_problems(draft)
    if problems:
        raise ValidationErrors(problems)
    now = utc_now()
    async with write_transaction():
        community = (
            await Community.select(Community.id, Community.name)
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
                fund_name=await _fund_name(draft, community["name"]),
                filing_number=draft.filing.number.strip(),
                plan_starts_on=draft.filing.starts_on,
                plan_ends_on=draft.filing.ends_on,
            )
        )
        project_id = int(rows[0]["id"])
        await _write_lines_and_seats(project_id, draft, linked={})
        await LedgerHead.insert(LedgerHead(project=project_id, currency=draft.currency))
    return project_id


class PublicationRefused(RuleViolation):
    """Publishing was refused; `reasons` lists every missing piece, so the secretary sees all,
    and `fields` says which of the draft form's fields fixes each (ADR 0038)."""

    def __init__(
        self, reasons: list[str], fields: Mapping[str, Sequence[str]] | None = None
    ) -> None:
        super().__init__(N_("The project cannot be published yet"))
        self.reasons = reasons
        self.fields = {name: list(messages) for name, messages in (fields or {}).items()}


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


async def check_publishable(slug: str) -> None:
    """Refuse a project that cannot be published now, as publishing would (every reason),
    writing nothing: what its confirmation page checks before it asks (ADR 0024)."""
    row = await Project.select(Project.id, Project.status).where(Project.slug == slug).first()
    if row is None:
        raise NotFound("No project %(slug)s", slug=slug)
    current = ProjectStatus(row["status"])
    if current is not ProjectStatus.DRAFT:
        raise Conflict(
            "A project cannot go from %(current)s to %(target)s",
            current=current.value,
            target=ProjectStatus.FUNDRAISING.value,
        )
    await _check_publishable(int(row["id"]))


async def publication_check(slug: str) -> dict[str, list[str]]:
    """What keeps a project from being published now, by the draft form's field that fixes it
    (`rules.publication_problems_by_field`); empty when nothing does. Writes nothing."""
    row = await Project.select(Project.id).where(Project.slug == slug).first()
    if row is None:
        raise NotFound("No project %(slug)s", slug=slug)
    return await _publication_problems(int(row["id"]))


async def _check_publishable(project_id: int) -> None:
    problems = await _publication_problems(project_id)
    if problems:
        raise PublicationRefused(problem_list(problems), problems)


async def _publication_problems(project_id: int) -> dict[str, list[str]]:
    project = (
        await Project.select(
            Project.goal_fen,
            Project.deadline,
            Project.filing_number,
            Project.plan_starts_on,
            Project.plan_ends_on,
        )
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
    return publication_problems_by_field(
        project["goal_fen"],
        [BudgetLinePlan(line["title"], line["amount_fen"]) for line in lines],
        [CommitteeSeat(s["name"], CommitteeRole(s["role"]), s["background"]) for s in seats],
        project["deadline"],
        local_today(),
        Filing(project["filing_number"], project["plan_starts_on"], project["plan_ends_on"]),
        filing_required=(await host_filing())[1],
    )


async def publish(slug: str) -> None:
    """Start raising money: only with a complete committee, a budget that adds up and, when the
    host requires it, the fundraising plan's filing number and dates (ADR 0027)."""
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
        community = (
            await Project.select(Project.community.name.as_alias("name"))
            .where(Project.id == project_id)
            .first()
        )
        assert community is not None
        await Project.update(
            {
                Project.fund_name: await _fund_name(draft, community["name"]),
                Project.filing_number: draft.filing.number.strip(),
                Project.plan_starts_on: draft.filing.starts_on,
                Project.plan_ends_on: draft.filing.ends_on,
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
