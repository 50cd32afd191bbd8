"""The public read API (contract.md, "Read"). Thin: queries shape the data, this shapes JSON."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import msgspec
from litestar import get
from litestar.params import FromPath, QueryParameter

from linju.platform.kernel.money import AmountOut
from linju.projects.core import read as queries
from linju.projects.core.rules import ProjectStatus


class CommunityRef(msgspec.Struct):
    slug: str
    name: str


class CommunityOut(msgspec.Struct):
    slug: str
    name: str
    district: str
    description: str


class CommitteeMemberOut(msgspec.Struct):
    name: str
    role: str
    background: str


class BudgetLineOut(msgspec.Struct):
    title: str
    amount: AmountOut


class LedgerHeadOut(msgspec.Struct):
    seq: int
    hash: str


class ProjectSummaryOut(msgspec.Struct):
    slug: str
    title: str
    summary: str
    community: CommunityRef
    status: ProjectStatus
    goal: AmountOut
    raised: AmountOut
    balance: AmountOut
    spent: AmountOut
    donations_count: int
    deadline: date | None
    url: str


class ProjectOut(ProjectSummaryOut):
    story: str
    budget: list[BudgetLineOut]
    committee: list[CommitteeMemberOut]
    ledger_head: LedgerHeadOut


def _summary_fields(p: queries.ProjectSummary) -> dict[str, Any]:
    return {
        "slug": p.slug,
        "title": p.title,
        "summary": p.summary,
        "community": CommunityRef(slug=p.community.slug, name=p.community.name),
        "status": p.status,
        "goal": AmountOut.of(p.goal),
        "raised": AmountOut.of(p.raised),
        "balance": AmountOut.of(p.balance),
        "spent": AmountOut.of(p.spent),
        "donations_count": p.donations_count,
        "deadline": p.deadline,
        "url": f"/p/{p.slug}",
    }


def _community_out(c: queries.CommunityView) -> CommunityOut:
    return CommunityOut(slug=c.slug, name=c.name, district=c.district, description=c.description)


@get("/api/v1/communities", tags=["communities"], summary="Every community")
async def list_communities() -> list[CommunityOut]:
    return [_community_out(c) for c in await queries.list_communities()]


@get("/api/v1/communities/{slug:str}", tags=["communities"], summary="One community")
async def get_community(slug: FromPath[str]) -> CommunityOut:
    return _community_out(await queries.get_community(slug))


@get("/api/v1/projects", tags=["projects"], summary="Public project summaries")
async def list_projects(
    community: Annotated[
        str | None, QueryParameter(max_length=64, description="A community's slug")
    ] = None,
    status: Annotated[
        ProjectStatus | None, QueryParameter(description="Only projects in this status")
    ] = None,
) -> list[ProjectSummaryOut]:
    projects = await queries.list_projects(community=community, status=status)
    return [ProjectSummaryOut(**_summary_fields(p)) for p in projects]


@get("/api/v1/projects/{slug:str}", tags=["projects"], summary="One project with its figures")
async def get_project(slug: FromPath[str]) -> ProjectOut:
    project = await queries.get_project(slug)
    return ProjectOut(
        **_summary_fields(project.summary),
        story=project.story,
        budget=[
            BudgetLineOut(title=b.title, amount=AmountOut.of(b.amount)) for b in project.budget
        ],
        committee=[
            CommitteeMemberOut(name=m.name, role=m.role, background=m.background)
            for m in project.committee
        ],
        ledger_head=LedgerHeadOut(seq=project.ledger_head.seq, hash=project.ledger_head.hash),
    )


ROUTES: list[Any] = [list_communities, get_community, list_projects, get_project]
