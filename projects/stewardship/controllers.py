"""The secretary's pages: the dashboard, a project's workbench (drafting and publishing through
`projects.core`'s services) and the work around a project (offline donations, matching pledges,
updates, in-kind help, the poster).

Thin: each POST reads its form, calls one use case and redirects (303), or shows the page again
with the problems in the visitor's language (422). Every route is guarded by role AND object
(docs/adr/0006-accounts.md); a committee member confirms offline donations on /p/{slug}/offline.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import PermissionDeniedException
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template

from linju.platform.accounts import guards
from linju.platform.i18n import gettext
from linju.platform.kernel.clock import COMMUNITY_TIMEZONE, local_today
from linju.platform.kernel.errors import N_, DomainError, ValidationErrors
from linju.platform.kernel.money import yuan_or_none
from linju.platform.web import form_errors
from linju.projects.core.services import drafting, photos
from linju.projects.core.services.projects import ProjectDraft, PublicationRefused
from linju.projects.stewardship import read as dashboard
from linju.projects.stewardship import rules
from linju.projects.stewardship.services import (
    in_kind,
    matching,
    offline_donations,
    poster,
    updates,
)

Multipart = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
AnyRequest = Request[Any, Any, Any]
TAGS = ["secretary"]


def _text(data: dict[str, Any], name: str) -> str:
    value = data.get(name, "")
    if isinstance(value, list):
        value = value[0] if value else ""
    return value if isinstance(value, str) else ""


def _files(data: dict[str, Any], name: str) -> list[UploadFile]:
    value = data.get(name)
    items = value if isinstance(value, list) else [value]
    return [item for item in items if isinstance(item, UploadFile) and item.filename]


async def _store_photos(data: dict[str, Any], name: str) -> list[photos.StoredPhoto]:
    """Store the uploaded photos of a field; BadPhoto (nothing kept) when one is not a photo."""
    stored: list[photos.StoredPhoto] = []
    try:
        for upload in _files(data, name):
            stored.append(photos.store_photo(await upload.read()))
    except photos.BadPhoto as exc:
        for photo in stored:
            photos.discard_photo(photo.url)
        raise ValidationErrors({name: exc.message}) from exc
    return stored


def _texts(data: dict[str, Any]) -> dict[str, str]:
    return {key: _text(data, key) for key in data if not _files(data, key)}


async def _save_draft(
    data: dict[str, Any],
    community: str,
    save: Callable[[ProjectDraft, list[photos.StoredPhoto]], Awaitable[None]],
) -> tuple[ProjectDraft | None, dict[str, str]]:
    """Store the photos, read the form and save; on any problem keep no photo, return errors."""
    cover: list[photos.StoredPhoto] = []
    gallery: list[photos.StoredPhoto] = []
    try:
        cover = await _store_photos(data, "cover")
        gallery = await _store_photos(data, "gallery")
        draft = drafting.parse_draft_form(_texts(data), community, cover[0].url if cover else "")
        await save(draft, gallery)
    except DomainError as exc:
        for photo in cover + gallery:
            photos.discard_photo(photo.url)
        return None, form_errors(exc)
    return draft, {}


# Dashboard and new drafts -------------------------------------------------------------------


@get("/secretary", guards=[guards.require_login], tags=TAGS, summary="The secretary's dashboard")
async def secretary_dashboard(request: AnyRequest) -> Template:
    user = guards.logged_in_user(request)
    if not user.secretary_of:
        raise PermissionDeniedException()
    return Template(
        "secretary/dashboard.html",
        context={"rows": await dashboard.dashboard_rows(sorted(user.secretary_of))},
    )


def _draft_page(status: int = 200, **context: Any) -> Template:
    context.setdefault("errors", {})
    context.setdefault("values", {})
    return Template("secretary/draft.html", context=context, status_code=status)


@get(
    "/secretary/c/{community:str}/new",
    guards=[guards.require_secretary_of_community],
    tags=TAGS,
    summary="A new draft project",
)
async def new_draft_form(community: FromPath[str]) -> Template:
    return _draft_page(action=f"/secretary/c/{community}/new", new=True)


@post(
    "/secretary/c/{community:str}/new",
    guards=[guards.require_secretary_of_community],
    tags=TAGS,
    summary="Create a draft project",
)
async def create_draft(request: AnyRequest, community: FromPath[str], data: Multipart) -> Any:
    user = guards.logged_in_user(request)

    async def save(draft: ProjectDraft, gallery: list[photos.StoredPhoto]) -> None:
        await drafting.create_draft(user.actor, draft, gallery)

    draft, errors = await _save_draft(data, community, save)
    if errors or draft is None:
        return _draft_page(
            422, action=f"/secretary/c/{community}/new", new=True,
            errors=errors, values=_texts(data),
        )  # fmt: skip
    return Redirect(path=f"/p/{draft.slug}/manage", status_code=303)


# One project's workbench ---------------------------------------------------------------------


async def _workbench(slug: str, status: int = 200, **context: Any) -> Template:
    context.setdefault("errors", {})
    context.setdefault("values", {})
    context.setdefault("reasons", [])
    context.update(await dashboard.workbench(slug))
    if not context["values"] and context["draft"]["status"] == "draft":
        context["values"] = context["draft"]
    return Template("secretary/project.html", context=context, status_code=status)


@get(
    "/p/{slug:str}/manage",
    guards=[guards.require_secretary_of_project],
    tags=TAGS,
    summary="A project's workbench for its secretary",
)
async def workbench(slug: FromPath[str]) -> Template:
    return await _workbench(slug)


@post(
    "/p/{slug:str}/manage/draft",
    guards=[guards.require_secretary_of_project],
    tags=TAGS,
    summary="Save a draft's edits",
)
async def edit_draft(request: AnyRequest, slug: FromPath[str], data: Multipart) -> Any:
    user = guards.logged_in_user(request)
    community = (await dashboard.workbench(slug))["project"]["community.slug"]

    async def save(draft: ProjectDraft, gallery: list[photos.StoredPhoto]) -> None:
        await drafting.edit_draft(user.actor, slug, draft, gallery)

    _draft, errors = await _save_draft(data, community, save)
    if errors:
        return await _workbench(slug, 422, errors=errors, values=_texts(data))
    return Redirect(path=f"/p/{slug}/manage", status_code=303)


@post(
    "/p/{slug:str}/manage/publish",
    guards=[guards.require_secretary_of_project],
    tags=TAGS,
    summary="Publish a draft (refused with every reason until complete)",
)
async def publish(request: AnyRequest, slug: FromPath[str]) -> Any:
    user = guards.logged_in_user(request)
    try:
        await drafting.publish_project(user.actor, slug)
    except PublicationRefused as exc:
        reasons = [gettext(reason) for reason in exc.reasons]
        return await _workbench(slug, 422, reasons=reasons)
    except DomainError as exc:
        return await _workbench(slug, exc.status, errors=form_errors(exc))
    return Redirect(path=f"/p/{slug}", status_code=303)


@post(
    "/p/{slug:str}/manage/updates",
    guards=[guards.require_secretary_of_project],
    tags=TAGS,
    summary="Post a progress update",
)
async def post_update(request: AnyRequest, slug: FromPath[str], data: Multipart) -> Any:
    user = guards.logged_in_user(request)
    stored: list[photos.StoredPhoto] = []
    try:
        stored = await _store_photos(data, "photos")
        await updates.post_update(user.actor, slug, _text(data, "body"), [p.url for p in stored])
    except DomainError as exc:
        for photo in stored:
            photos.discard_photo(photo.url)
        errors = {f"update_{k}": v for k, v in form_errors(exc).items()}
        return await _workbench(slug, 422, errors=errors, values=_texts(data))
    return Redirect(path=f"/p/{slug}#updates", status_code=303)


def _parse_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


@post(
    "/p/{slug:str}/manage/offline",
    guards=[guards.require_secretary_of_project],
    tags=TAGS,
    summary="Record an offline donation (counted once a committee member confirms it)",
)
async def record_offline(request: AnyRequest, slug: FromPath[str], data: Multipart) -> Any:
    user = guards.logged_in_user(request)
    values = _texts(data)
    stored: list[photos.StoredPhoto] = []
    try:
        amount = yuan_or_none(values.get("amount", ""))
        received = _parse_date(values.get("received_on", ""))
        problems = {}
        if amount is None:
            problems["offline_amount"] = N_("Enter the amount in yuan, e.g. 200 or 200.50")
        if received is None:
            problems["offline_received_on"] = N_("Enter the date it was received")
        if problems:
            raise ValidationErrors(problems)
        stored = await _store_photos(data, "evidence")
        gift = rules.OfflineGift(
            amount_fen=amount or 0,
            donor_name=values.get("donor_name", ""),
            anonymous=bool(values.get("anonymous")),
            received_on=received or local_today(),
            method=values.get("method", "cash"),
            evidence_url=stored[0].url if stored else "",
            evidence_sha256=stored[0].sha256 if stored else "",
        )
        await offline_donations.record_offline_donation(user.actor, slug, gift)
    except DomainError as exc:
        for photo in stored:
            photos.discard_photo(photo.url)
        errors = {
            (k if k.startswith("offline_") else f"offline_{k}"): v
            for k, v in form_errors(exc).items()
        }
        return await _workbench(slug, exc.status, errors=errors, values=values)
    return Redirect(path=f"/p/{slug}/manage#offline", status_code=303)


@post(
    "/p/{slug:str}/manage/pledges",
    guards=[guards.require_secretary_of_project],
    tags=TAGS,
    summary="Record a matching sponsor's pledge",
)
async def create_pledge(request: AnyRequest, slug: FromPath[str], data: Form) -> Any:
    user = guards.logged_in_user(request)
    try:
        cap = yuan_or_none(data.get("cap", ""))
        starts = _parse_date(data.get("starts_on", ""))
        ends = _parse_date(data.get("ends_on", ""))
        num, _, den = data.get("ratio", "").partition(":")
        problems: dict[str, str] = {}
        if cap is None:
            problems["cap"] = N_("Enter the cap in yuan")
        if starts is None or ends is None:
            problems["ends_at"] = N_("Enter the first and last day of the window")
        if not (num.strip().isdigit() and den.strip().isdigit()):
            problems["ratio"] = N_("The ratio needs two whole numbers from 1 to 100")
        if problems:
            raise ValidationErrors(problems)
        assert starts is not None
        assert ends is not None
        assert cap is not None
        plan = rules.PledgePlan(
            sponsor_slug=data.get("sponsor_slug", "").strip(),
            sponsor_name=data.get("sponsor_name", ""),
            ratio_num=int(num),
            ratio_den=int(den),
            cap_fen=cap,
            starts_at=datetime.combine(starts, time.min, COMMUNITY_TIMEZONE).astimezone(UTC),
            ends_at=datetime.combine(ends, time.max, COMMUNITY_TIMEZONE).astimezone(UTC),
        )
        await matching.create_pledge(user.actor, slug, plan)
    except DomainError as exc:
        errors = {f"pledge_{k}": v for k, v in form_errors(exc).items()}
        return await _workbench(slug, 422, errors=errors, values=data)
    return Redirect(path=f"/p/{slug}/manage#pledges", status_code=303)


@post(
    "/p/{slug:str}/manage/in-kind",
    guards=[guards.require_secretary_of_project],
    tags=TAGS,
    summary="Record labour, goods or space given to the project",
)
async def record_in_kind(request: AnyRequest, slug: FromPath[str], data: Form) -> Any:
    user = guards.logged_in_user(request)
    try:
        hours_text = data.get("labour_hours", "").strip() or "0"
        value = yuan_or_none(data.get("estimated_value", "") or "0")
        gift = rules.InKindGift(
            kind=data.get("kind", ""),
            contributor=data.get("contributor", ""),
            description=data.get("description", ""),
            labour_hours=int(hours_text) if hours_text.isdigit() else -1,
            estimated_value_fen=value if value is not None else -1,
            location=data.get("location", ""),
        )
        await in_kind.record_in_kind(user.actor, slug, gift)
    except DomainError as exc:
        errors = {f"in_kind_{k}": v for k, v in form_errors(exc).items()}
        return await _workbench(slug, 422, errors=errors, values=data)
    return Redirect(path=f"/p/{slug}#in-kind", status_code=303)


@get(
    "/p/{slug:str}/poster",
    guards=[guards.require_secretary_of_project],
    tags=TAGS,
    summary="A printable A4 poster with the donate page's QR code",
)
async def poster_page(slug: FromPath[str]) -> Template:
    return Template("secretary/poster.html", context=await poster.poster_context(slug))


# The committee's side of offline donations ---------------------------------------------------


@get(
    "/p/{slug:str}/offline",
    guards=[guards.require_steward_of_project],
    tags=["committee"],
    summary="Offline donations of a project, confirmed or waiting",
)
async def offline_list(request: AnyRequest, slug: FromPath[str]) -> Template:
    user = guards.logged_in_user(request)
    context = await dashboard.workbench(slug)
    context["can_confirm"] = user.is_committee_member_of(context["project"]["id"])
    context["me"] = user.id
    context["errors"] = {}
    return Template("secretary/offline.html", context=context)


@post(
    "/p/{slug:str}/offline/{donation:str}/confirmation",
    guards=[guards.require_committee_member_of_project],
    tags=["committee"],
    summary="Confirm an offline donation (a committee member other than the recorder)",
)
async def confirm_offline(request: AnyRequest, slug: FromPath[str], donation: FromPath[str]) -> Any:
    user = guards.logged_in_user(request)
    try:
        await offline_donations.confirm_offline_donation(user.actor, slug, donation)
    except DomainError as exc:
        context = await dashboard.workbench(slug)
        context.update(can_confirm=True, me=user.id, errors=form_errors(exc))
        return Template("secretary/offline.html", context=context, status_code=exc.status)
    return Redirect(path=f"/p/{slug}/offline", status_code=303)


ROUTES: list[Any] = [
    secretary_dashboard,
    new_draft_form,
    create_draft,
    workbench,
    edit_draft,
    publish,
    post_update,
    record_offline,
    create_pledge,
    record_in_kind,
    poster_page,
    offline_list,
    confirm_offline,
]
