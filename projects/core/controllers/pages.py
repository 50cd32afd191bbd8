"""Server-rendered pages for residents: home, a community's list, a project, its photos."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from litestar import Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Template

from linju.projects.core import read as queries
from linju.projects.core.rules import ProjectStatus
from linju.projects.core.services import photos

# The order a community's list shows its projects in: what needs money first.
STATUS_ORDER = (
    ProjectStatus.FUNDRAISING,
    ProjectStatus.FUNDED,
    ProjectStatus.IN_PROGRESS,
    ProjectStatus.COMPLETED,
    ProjectStatus.CANCELLED,
)


def _by_status(projects: list[queries.ProjectSummary]) -> OrderedDict[str, list[Any]]:
    grouped: OrderedDict[str, list[Any]] = OrderedDict((s.value, []) for s in STATUS_ORDER)
    for project in projects:
        grouped.setdefault(project.status.value, []).append(project)
    return OrderedDict((k, v) for k, v in grouped.items() if v)


@get("/", name="home", tags=["pages"], summary="Home: every community and its projects")
async def home() -> Template:
    communities = await queries.list_communities()
    projects = await queries.list_projects()
    by_community: dict[str, list[queries.ProjectSummary]] = {c.slug: [] for c in communities}
    for project in projects:
        by_community.setdefault(project.community.slug, []).append(project)
    return Template(
        "pages/home.html",
        context={"communities": communities, "projects_by_community": by_community},
    )


@get("/c/{slug:str}", name="community", tags=["pages"], summary="A community's project list")
async def community_page(slug: FromPath[str]) -> Template:
    community = await queries.get_community(slug)
    projects = await queries.list_projects(community=slug)
    return Template(
        "pages/community.html", context={"community": community, "groups": _by_status(projects)}
    )


@get("/p/{slug:str}", name="project", tags=["pages"], summary="A project's page")
async def project_page(slug: FromPath[str]) -> Template:
    context = await queries.project_page_context(slug)
    return Template("pages/project.html", context=context)


@get("/photos/{name:str}", tags=["pages"], summary="A stored photo (always image/jpeg)")
async def photo(name: FromPath[str]) -> Response[bytes]:
    try:
        data = await photos.read_photo(name)
    except (FileNotFoundError, OSError) as exc:
        raise NotFoundException() from exc
    return Response(
        data,
        media_type="image/jpeg",
        headers={
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "public, max-age=31536000, immutable",
            "Content-Security-Policy": "default-src 'none'",
        },
    )


ROUTES: list[Any] = [home, community_page, project_page, photo]
