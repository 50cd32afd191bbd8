"""The read side of the secretary's work: the dashboard, a project's workbench, the page section.

What needs the secretary: drafts to finish, offline donations waiting for a committee member,
and projects whose disclosure (项目公示, docs/adr/0029-disclosures.md) is overdue.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from linju.platform.accounts.services import CurrentUser
from linju.platform.db import select_rows
from linju.platform.kernel.errors import NotFound
from linju.platform.kernel.money import Money
from linju.projects.core.read import ProjectDetail
from linju.projects.core.services.drafting import draft_values
from linju.projects.core.tables import Community, Project, ProjectPhoto
from linju.projects.stewardship.services.disclosures import (
    public_disclosures,
    status_of,
)
from linju.projects.stewardship.services.in_kind import in_kind_register
from linju.projects.stewardship.services.matching import project_pledges
from linju.projects.stewardship.services.offline_donations import offline_donations_of
from linju.projects.stewardship.services.poster import share_card
from linju.projects.stewardship.services.updates import project_updates
from linju.projects.stewardship.tables import Disclosure, OfflineDonation


async def gallery_of(project_id: int) -> list[dict[str, Any]]:
    return await select_rows(
        ProjectPhoto.url,
        where=[(ProjectPhoto.project, project_id)],
        order_by=[(ProjectPhoto.position, True)],
    )


async def dashboard_rows(community_ids: Sequence[int]) -> list[dict[str, Any]]:
    """Each of the secretary's communities with its projects and what each one needs."""
    communities = (
        await Community.select(Community.id, Community.slug, Community.name)
        .where(Community.id.is_in(list(community_ids)))
        .order_by(Community.name)
    )
    projects = await Project.select(
        Project.id,
        Project.slug,
        Project.title,
        Project.status,
        Project.community,
        Project.status_changed_at,
        Project.created_at,
        Project.plan_starts_on,
        Project.plan_ends_on,
    ).where(Project.community.is_in(list(community_ids)) if community_ids else Project.id < 0)
    ids = [p["id"] for p in projects] or [-1]
    waiting = await OfflineDonation.select(OfflineDonation.project).where(
        OfflineDonation.project.is_in(ids) & OfflineDonation.confirmed_at.is_null()
    )
    published = (
        await Disclosure.select(
            Disclosure.project, Disclosure.kind, Disclosure.period_ends_on, Disclosure.published_at
        )
        .where(Disclosure.project.is_in(ids))
        .order_by(Disclosure.seq)
    )
    for project in projects:
        project["waiting"] = sum(1 for w in waiting if w["project"] == project["id"])
        mine = [d for d in published if d["project"] == project["id"]]
        project["overdue"] = status_of(project, mine).overdue
        project["needs"] = (
            project["status"] == "draft" or project["waiting"] > 0 or project["overdue"]
        )
    return [
        {**c, "projects": [p for p in projects if p["community"] == c["id"]]} for c in communities
    ]


async def workbench(slug: str) -> dict[str, Any]:
    """Everything the secretary's (and the committee's) pages for one project show."""
    project = (
        await Project.select(
            Project.id, Project.slug, Project.title, Project.status, Project.status_changed_at,
            Project.goal_fen, Project.currency, Project.community.slug, Project.community.name,
        )
        .where(Project.slug == slug)
        .first()
    )  # fmt: skip
    if project is None:
        raise NotFound("No project %(slug)s", slug=slug)
    offline = await offline_donations_of(project["id"])
    return {
        "project": project,
        "draft": await draft_values(slug),
        "offline": offline,
        "waiting": [o for o in offline if o["confirmed_at"] is None],
        "pledges": await project_pledges(project["id"]),
        "goal": Money(project["goal_fen"], project["currency"]),
        "updates": await project_updates(project["id"]),
        "gallery": await gallery_of(project["id"]),
        "in_kind": await in_kind_register(project["id"]),
        "disclosure": await public_disclosures(slug),
    }


async def offline_page(slug: str, viewer: CurrentUser) -> dict[str, Any]:
    """The offline gifts page of a project (/p/{slug}/offline) as `viewer` (the logged-in
    user) sees it: a committee member of the project may confirm what someone else recorded."""
    context = await workbench(slug)
    can_confirm = viewer.is_committee_member_of(context["project"]["id"])
    return {**context, "can_confirm": can_confirm, "me": viewer.id}


async def project_section(project: ProjectDetail) -> dict[str, Any]:
    """The project page's loader (PROJECT_SECTION_LOADERS): disclosures, updates, matching and
    in-kind help."""
    updates = await project_updates(project.id)  # newest first
    return {
        "stewardship_updates": updates,
        "stewardship_gallery": await gallery_of(project.id),
        "stewardship_pledges": await project_pledges(project.id, confirmed_only=True),
        "stewardship_in_kind": await in_kind_register(project.id),
        "share": share_card(project.summary.slug, project.summary.cover_image),  # ADR 0028
        "stewardship_disclosure": await public_disclosures(project.summary.slug),
    }
