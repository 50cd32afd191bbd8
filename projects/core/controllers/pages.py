"""Server-rendered pages for residents: home, a community's list, a project, its photos; and a
project's preview for its stewards (a draft as the public will see it, ADR 0022)."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from linju.platform.accounts import guards
from linju.platform.kernel.errors import NotFound
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
        "pages/community.html",
        context={
            "community": community,
            "groups": _by_status(projects),
            **await queries.community_sections(community),
        },
    )


@get("/p/{slug:str}", name="project", tags=["pages"], summary="A project's page")
async def project_page(request: Request[Any, Any, Any], slug: FromPath[str]) -> Template:
    context = await queries.project_page_context(slug)
    # The project's secretary and committee members moderate the donor wall (ADR 0028).
    context["can_moderate"] = await _moderates(request, slug)
    return Template("pages/project.html", context=context)


async def _moderates(request: Request[Any, Any, Any], slug: str) -> bool:
    """The secretary of the project's community or a member of its committee (as
    `guards.require_steward_of_project` allows)."""
    user = guards.current_user(request)
    if user is None:
        return False
    project, community = await guards.project_ids(slug)
    return user.is_secretary_of(community) or user.is_committee_member_of(project)


async def _is_steward(request: Request[Any, Any, Any], slug: str) -> bool:
    """An admin, the secretary of the project's community, or a member of its committee."""
    user = guards.current_user(request)
    if user is None:
        return False
    try:
        project, community = await guards.project_ids(slug)
    except NotFound:
        return False
    return user.is_admin or user.is_secretary_of(community) or user.is_committee_member_of(project)


PREVIEW_HEADERS = {"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer"}


@get(
    "/p/{slug:str}/preview",
    name="project_preview",
    tags=["pages"],
    summary="A project as the public will see it, for its stewards only (404 to anyone else)",
)
async def project_preview(
    request: Request[Any, Any, Any], slug: FromPath[str]
) -> Template | Redirect:
    if not await _is_steward(request, slug):
        raise NotFoundException()  # as for any draft: nothing says it exists
    context = await queries.project_page_context(slug, preview=True)
    if context["p"].status is not ProjectStatus.DRAFT:
        return Redirect(path=f"/p/{slug}", status_code=303)  # public now: the page itself
    return Template("pages/preview.html", context=context, headers=PREVIEW_HEADERS)


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


ROUTES: list[Any] = [home, community_page, project_page, project_preview, photo]

# The public pages residents share, cached for anonymous visitors (platform.pagecache, ADR
# 0036): whole paths, as regular expressions. None of them shows a form that needs a token.
CACHED_PAGES = (r"/", r"/c/[^/]+", r"/p/[^/]+")
