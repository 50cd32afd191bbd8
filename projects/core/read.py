"""The read side: what pages and the public API show. No writes here.

A project's figures come from its ledger head row (kept by the ledger service in the same
transaction as each entry), so reading a project costs the same whatever its ledger's length.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from piccolo.querystring import QueryString

from linju.platform.db import get_engine, read_snapshot, select_rows
from linju.platform.kernel.clock import local_today
from linju.platform.kernel.errors import NotFound
from linju.platform.kernel.money import Money, percent_of
from linju.projects.core.rules import (
    HostDetails,
    ProjectStatus,
    days_left,
    fund_name,
    platforms_from_text,
    takes_donations,
)
from linju.projects.core.tables import BudgetLine, CommitteeMember, Community, Host, Project
from linju.projects.ledger.tables import LedgerHead


@dataclass(frozen=True, slots=True)
class CommunityView:
    slug: str
    name: str
    district: str
    description: str


@dataclass(frozen=True, slots=True)
class LedgerHeadView:
    seq: int
    hash: str


@dataclass(frozen=True, slots=True)
class ProjectSummary:
    slug: str
    title: str
    summary: str
    community: CommunityView
    status: ProjectStatus
    goal: Money
    raised: Money
    balance: Money
    spent: Money
    donations_count: int
    deadline: date | None
    cover_image: str

    @property
    def percent(self) -> int:
        return percent_of(self.raised.amount, self.goal.amount)


@dataclass(frozen=True, slots=True)
class BudgetLineView:
    id: int
    title: str
    amount: Money


@dataclass(frozen=True, slots=True)
class CommitteeMemberView:
    name: str
    role: str
    background: str


@dataclass(frozen=True, slots=True)
class FundView:
    """Who receives a project's money and under which filing (the page's 募捐信息, the poster,
    the donation's review): the host's fund, the executing party, the filed plan (ADR 0027)."""

    name: str
    host_name: str
    host_credit_code: str
    executing_party: str  # the community
    filing_number: str
    plan_starts_on: date | None
    plan_ends_on: date | None
    platforms: tuple[str, ...] = ()  # the host's designated platforms, where it is also published

    @property
    def filed(self) -> bool:
        return bool(self.filing_number)


@dataclass(frozen=True, slots=True)
class ProjectDetail:
    """A project as its page shows it; the page's sections read what they need from here
    (ids included) rather than reading the project again."""

    id: int
    summary: ProjectSummary
    story: str
    budget: Sequence[BudgetLineView]
    committee: Sequence[CommitteeMemberView]
    ledger_head: LedgerHeadView
    accepts_donations_when_funded: bool
    status_changed_at: datetime
    fund: FundView | None = None


_SUMMARY_COLUMNS = (
    Project.slug,
    Project.title,
    Project.summary,
    Project.status,
    Project.goal_fen,
    Project.currency,
    Project.deadline,
    Project.cover_image,
    Project.community.slug.as_alias("community_slug"),
    Project.community.name.as_alias("community_name"),
    Project.community.district.as_alias("community_district"),
    Project.community.description.as_alias("community_description"),
)


def _community_from_row(row: dict[str, Any]) -> CommunityView:
    return CommunityView(
        slug=row["community_slug"],
        name=row["community_name"],
        district=row["community_district"],
        description=row["community_description"],
    )


def _summary_from_rows(row: dict[str, Any], head: dict[str, Any] | None) -> ProjectSummary:
    currency = row["currency"]
    head = head or {}
    return ProjectSummary(
        slug=row["slug"],
        title=row["title"],
        summary=row["summary"],
        community=_community_from_row(row),
        status=ProjectStatus(row["status"]),
        goal=Money(row["goal_fen"], currency),
        raised=Money(head.get("raised_fen", 0), currency),
        balance=Money(head.get("balance_fen", 0), currency),
        spent=Money(head.get("spent_fen", 0), currency),
        donations_count=head.get("donations_count", 0),
        deadline=row["deadline"],
        cover_image=row["cover_image"],
    )


_HEAD_COLUMNS = (
    LedgerHead.project,
    LedgerHead.seq,
    LedgerHead.hash,
    LedgerHead.balance_fen,
    LedgerHead.raised_fen,
    LedgerHead.spent_fen,
    LedgerHead.donations_count,
)


async def _heads_by_project(project_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    if not project_ids:
        return {}
    rows = await LedgerHead.select(*_HEAD_COLUMNS).where(
        LedgerHead.project.is_in(list(project_ids))
    )
    return {row["project"]: row for row in rows}


async def list_communities() -> list[CommunityView]:
    rows = await Community.select(
        Community.slug, Community.name, Community.district, Community.description
    ).order_by(Community.id)
    return [CommunityView(**row) for row in rows]


async def get_community(slug: str) -> CommunityView:
    row = (
        await Community.select(
            Community.slug, Community.name, Community.district, Community.description
        )
        .where(Community.slug == slug)
        .first()
    )
    if row is None:
        raise NotFound("No community %(slug)s", slug=slug)
    return CommunityView(**row)


async def list_projects(
    community: str | None = None,
    status: ProjectStatus | None = None,
    include_drafts: bool = False,
) -> list[ProjectSummary]:
    """Public project summaries, oldest first; drafts are not public."""
    if status is ProjectStatus.DRAFT and not include_drafts:
        return []
    query = Project.select(Project.id, *_SUMMARY_COLUMNS).order_by(Project.id)
    if community is not None:
        query = query.where(Project.community.slug == community)
    if status is not None:
        query = query.where(Project.status == status.value)
    elif not include_drafts:
        query = query.where(Project.status != ProjectStatus.DRAFT.value)
    rows = await query
    heads = await _heads_by_project([row["id"] for row in rows])
    return [_summary_from_rows(row, heads.get(row["id"])) for row in rows]


# The project page's first read: the project, its community and its ledger head in one
# statement (every project has a head row from its creation). The page is the platform's
# busiest read (bench/ledger.py), and each statement costs a round trip and Python's time.
_DETAIL_SQL = """
SELECT p.id, p.slug, p.title, p.summary, p.status, p.goal_fen, p.currency, p.deadline,
    p.cover_image, p.story, p.accepts_donations_when_funded, p.status_changed_at,
    c.slug AS community_slug, c.name AS community_name, c.district AS community_district,
    c.description AS community_description,
    h.seq, h.hash, h.balance_fen, h.raised_fen, h.spent_fen, h.donations_count,
    p.fund_name, p.filing_number, p.plan_starts_on, p.plan_ends_on,
    ho.name AS host_name, ho.credit_code AS host_credit_code,
    ho.designated_platforms AS host_platforms
FROM project p
JOIN community c ON c.id = p.community
JOIN ledger_head h ON h.project = p.id
LEFT JOIN (SELECT name, credit_code, designated_platforms FROM host ORDER BY id LIMIT 1) ho
    ON 1 = 1
WHERE p.slug = {}
"""


async def get_project(slug: str, include_drafts: bool = False) -> ProjectDetail:
    rows = await get_engine().run_querystring(QueryString(_DETAIL_SQL, slug))
    row = dict(rows[0]) if rows else None
    if row is None or (row["status"] == ProjectStatus.DRAFT.value and not include_drafts):
        raise NotFound("No project %(slug)s", slug=slug)
    project_id = row["id"]
    lines = await select_rows(
        BudgetLine.id,
        BudgetLine.title,
        BudgetLine.amount_fen,
        where=[(BudgetLine.project, project_id)],
        order_by=[(BudgetLine.position, True)],
    )
    members = await select_rows(
        CommitteeMember.name,
        CommitteeMember.role,
        CommitteeMember.background,
        where=[(CommitteeMember.project, project_id)],
        order_by=[(CommitteeMember.position, True)],
    )
    currency = row["currency"]
    return ProjectDetail(
        id=project_id,
        summary=_summary_from_rows(row, row),
        story=row["story"],
        budget=[
            BudgetLineView(line["id"], line["title"], Money(line["amount_fen"], currency))
            for line in lines
        ],
        committee=[CommitteeMemberView(**member) for member in members],
        ledger_head=LedgerHeadView(seq=int(row["seq"]), hash=row["hash"]),
        accepts_donations_when_funded=bool(row["accepts_donations_when_funded"]),
        status_changed_at=row["status_changed_at"],
        fund=_fund_from_row(row),
    )


def _fund_from_row(row: dict[str, Any]) -> FundView:
    host = row["host_name"] or ""
    return FundView(
        name=row["fund_name"] or fund_name(host, row["community_name"], row["title"]),
        host_name=host,
        host_credit_code=row["host_credit_code"] or "",
        executing_party=row["community_name"],
        filing_number=row["filing_number"] or "",
        plan_starts_on=_day(row["plan_starts_on"]),
        plan_ends_on=_day(row["plan_ends_on"]),
        platforms=platforms_from_text(row["host_platforms"] or ""),
    )


def _day(value: Any) -> date | None:
    """A date column read through a raw statement (SQLite may hand back its ISO text)."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


# The host charity (docs/adr/0027-host-and-fund.md) ---------------------------------------------
async def host_details() -> HostDetails | None:
    """The platform's host charity, or None before an admin has named it."""
    row = await Host.select().order_by(Host.id).first()
    if row is None:
        return None
    return HostDetails(
        name=row["name"],
        credit_code=row["credit_code"],
        fundraising_qualified=bool(row["fundraising_qualified"]),
        qualified_on=row["qualified_on"],
        registration_authority=row["registration_authority"],
        contact=row["contact"],
        designated_platforms=platforms_from_text(row["designated_platforms"]),
        filing_required=bool(row["filing_required"]),
    )


# The project page ------------------------------------------------------------------------------
# Each area that shows a section on the project page (donations, stewardship, spending) has a
# loader in its `read.py`: it gets the project and returns the extra context its partial template
# (templates/projects/_*.html) needs. The composition root registers them, in page order
# (`linju.platform.app.wire`), so this area imports none of them.
SectionLoader = Callable[[ProjectDetail], Awaitable[dict[str, Any]]]
_section_loaders: list[SectionLoader] = []


def register_sections(*loaders: SectionLoader) -> None:
    """Set the project page's section loaders (replacing any registered before)."""
    _section_loaders[:] = loaders


# The community page ----------------------------------------------------------------------------
# An area that shows something beside a community's projects (residents' needs, ADR 0033) has a
# loader in its `read.py`: it gets the community and returns the extra context its partial
# template needs; the composition root registers it, so this area imports none of them.
CommunitySectionLoader = Callable[[CommunityView], Awaitable[dict[str, Any]]]
_community_loaders: list[CommunitySectionLoader] = []


def register_community_sections(*loaders: CommunitySectionLoader) -> None:
    """Set the community page's section loaders (replacing any registered before)."""
    _community_loaders[:] = loaders


async def community_sections(community: CommunityView) -> dict[str, Any]:
    """What the registered areas add to the community page."""
    context: dict[str, Any] = {}
    for load_section in _community_loaders:
        context.update(await load_section(community))
    return context


async def project_page_context(slug: str, preview: bool = False) -> dict[str, Any]:
    """Everything the project page (pages/project.html) shows, read in one snapshot.

    The page's route renders it; a form on the page that fails (the donate form) renders it too,
    with its values and errors laid over it. `preview`: a draft too, as its stewards preview it
    (`/p/{slug}/preview`, docs/adr/0022-drafting.md); the page then carries the preview's banner.
    """
    async with read_snapshot():  # every section sees the same state, on one connection
        project = await get_project(slug, include_drafts=preview)
        summary = project.summary
        context: dict[str, Any] = {
            "preview": preview,
            "project": project,
            "p": summary,
            "days_left": days_left(summary.deadline, local_today()),
            "takes_donations": takes_donations(
                summary.status, project.accepts_donations_when_funded
            ),
        }
        for load_section in _section_loaders:
            context.update(await load_section(project))
    return context
