"""The secretary's draft form: from what was typed to a `ProjectDraft`, then create, edit, publish.

The form is plain HTML that works without JavaScript (docs/adr/0022-drafting.md). Budget lines
and committee members are rows of fields (`budget-<i>-item`, `budget-<i>-amount`;
`committee-<i>-name`, `committee-<i>-role`, `committee-<i>-background`); "add a row" posts the
form back and it comes again with one more row and everything typed kept (`form_layout`, which
also computes the running total against the goal). A row left empty is skipped; a row's problem
is named by its own field. The address (slug) is proposed from the title's pinyin, unique on the
platform (`propose_slug`). Every problem is collected at once, so the secretary fixes everything
in one go. Each use case and its audit record share one write transaction.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from linju.platform.accounts.audit import Actor, record_audit
from linju.platform.db import write_transaction
from linju.platform.kernel.clock import utc_now
from linju.platform.kernel.errors import N_, Conflict, NotFound, ValidationErrors
from linju.platform.kernel.inputs import DAY_RANGE, InputRefused, calendar_day
from linju.platform.kernel.money import Money, format_yuan, yuan_or_none
from linju.projects.core.rules import (
    BudgetLinePlan,
    CommitteeRole,
    CommitteeSeat,
    Filing,
    ProjectStatus,
    slug_from_title,
    slug_with_suffix,
)
from linju.projects.core.services.photos import StoredPhoto, discard_photo
from linju.projects.core.services.projects import (
    ProjectDraft,
    create_project,
    publish,
    update_draft,
)
from linju.projects.core.tables import BudgetLine, CommitteeMember, Project, ProjectPhoto

MAX_STORY_LENGTH = 20_000
MAX_LINES = 50
MAX_GALLERY_PHOTOS = 12
NEW_DRAFT_ROWS = {"budget": 3, "committee": 3}  # a new draft starts with three rows of each
ROW_FIELDS = {"budget": ("item", "amount"), "committee": ("name", "role", "background")}
_ROW_NAME = re.compile(r"^(budget|committee)-(\d{1,2})-([a-z]+)$")
SLUG_TAKEN = N_("This address is taken by another project; choose another")


def _row_count(values: Mapping[str, Any], kind: str) -> int:
    """How many rows of `kind` the form has: as many as it says (`<kind>_rows`), at least one
    more than the last row filled in, between 1 and MAX_LINES."""
    try:
        said = int(str(values.get(f"{kind}_rows", "")).strip() or 0)
    except ValueError:
        said = 0
    highest = 0
    for name, value in values.items():
        match = _ROW_NAME.match(name)
        if match and match[1] == kind and str(value or "").strip():
            highest = max(highest, int(match[2]) + 1)
    return max(1, min(MAX_LINES, max(said, highest)))


def _row(values: Mapping[str, Any], kind: str, index: int) -> dict[str, str]:
    return {
        part: str(values.get(f"{kind}-{index}-{part}", "") or "").strip()
        for part in ROW_FIELDS[kind]
    }


@dataclass(frozen=True, slots=True)
class DraftLayout:
    """How the draft form is drawn from its values: its rows, and the budget's running total
    against the goal (computed on every round-trip, as no script runs in the page)."""

    budget_rows: int
    committee_rows: int
    total: Money
    goal: Money | None  # None while the goal cannot be read
    difference: Money | None  # |goal - total|, None without a goal

    @property
    def balanced(self) -> bool:
        return self.goal is not None and self.total.amount == self.goal.amount

    @property
    def short(self) -> bool:
        return self.goal is not None and self.total.amount < self.goal.amount


def form_layout(values: Mapping[str, Any]) -> DraftLayout:
    """The layout of a draft form holding `values` (as typed, or as stored)."""
    budget_rows = _row_count(values, "budget")
    total = 0
    for index in range(budget_rows):
        amount = yuan_or_none(_row(values, "budget", index)["amount"])
        total += amount or 0
    goal = yuan_or_none(str(values.get("goal", "") or ""))
    return DraftLayout(
        budget_rows=budget_rows,
        committee_rows=_row_count(values, "committee"),
        total=Money(total),
        goal=Money(goal) if goal is not None else None,
        difference=Money(abs(goal - total)) if goal is not None else None,
    )


def with_row_added(values: Mapping[str, str], kind: str) -> dict[str, str]:
    """The form's values with one more row of `kind` (budget or committee), up to MAX_LINES."""
    layout = form_layout(values)
    rows = {"budget": layout.budget_rows, "committee": layout.committee_rows}
    if kind in rows:
        rows[kind] = min(MAX_LINES, rows[kind] + 1)
    return {**values, "budget_rows": str(rows["budget"]), "committee_rows": str(rows["committee"])}


async def propose_slug(title: str) -> str:
    """An address for a project titled `title`: its pinyin, with a suffix when it is taken."""
    base = slug_from_title(title)
    rows = await Project.select(Project.slug).where(
        (Project.slug == base) | Project.slug.like(f"{base}-%")
    )
    return slug_with_suffix(base, {row["slug"] for row in rows})


async def slug_taken(slug: str) -> bool:
    return bool(slug) and await Project.exists().where(Project.slug == slug)


def _form_day(form: Mapping[str, str], name: str, problems: dict[str, str]) -> date | None:
    """A date field of the form, None when empty; its problem noted when it is no date."""
    if not form.get(name, "").strip():
        return None
    try:
        return calendar_day(form[name])
    except InputRefused as exc:
        out_of_range = exc.message == DAY_RANGE
        not_a_day = N_("Enter the deadline as a date") if name == "deadline" else N_("Enter a date")
        problems[name] = DAY_RANGE if out_of_range else not_a_day
        return None


def parse_draft_form(
    form: Mapping[str, str], community_slug: str, cover_image: str = ""
) -> ProjectDraft:
    """Read the form; raises ValidationErrors naming every field that cannot be read."""
    problems: dict[str, str] = {}
    goal = yuan_or_none(form.get("goal", ""))
    if goal is None:
        problems["goal"] = N_("Enter the goal in yuan, e.g. 12000 or 12000.50")
    deadline = _form_day(form, "deadline", problems)
    filing = Filing(
        number=form.get("filing_number", "").strip(),
        starts_on=_form_day(form, "plan_starts_on", problems),
        ends_on=_form_day(form, "plan_ends_on", problems),
    )
    layout = form_layout(form)
    budget: list[BudgetLinePlan] = []
    for index in range(layout.budget_rows):
        row = _row(form, "budget", index)
        if not any(row.values()):
            continue  # an empty row is no line
        amount = yuan_or_none(row["amount"])
        if not row["item"]:
            problems[f"budget-{index}-item"] = N_("Name the item of this budget line")
        elif len(row["item"]) > 200:
            problems[f"budget-{index}-item"] = N_("An item is at most 200 characters")
        if amount is None or amount <= 0:
            problems[f"budget-{index}-amount"] = N_(
                "Enter the amount in yuan, e.g. 2000 or 2000.50"
            )
        budget.append(BudgetLinePlan(row["item"], amount or 0))
    committee: list[CommitteeSeat] = []
    for index in range(layout.committee_rows):
        row = _row(form, "committee", index)
        if not (row["name"] or row["background"]):
            continue
        if not row["name"]:
            problems[f"committee-{index}-name"] = N_("Enter the member's name")
        elif len(row["name"]) > 100:
            problems[f"committee-{index}-name"] = N_("A name is at most 100 characters")
        if not row["background"]:
            problems[f"committee-{index}-background"] = N_(
                "Say who this member is, e.g. a retired accountant in building 3"
            )
        elif len(row["background"]) > 200:
            problems[f"committee-{index}-background"] = N_("A background is at most 200 characters")
        if row["role"] not in ("", *CommitteeRole):
            problems[f"committee-{index}-role"] = N_("Choose chair or member")
        role = CommitteeRole.CHAIR if row["role"] == "chair" else CommitteeRole.MEMBER
        committee.append(CommitteeSeat(row["name"], role, row["background"]))
    if len(form.get("story", "")) > MAX_STORY_LENGTH:
        problems["story"] = N_("The story is longer than 20,000 characters")
    draft = ProjectDraft(
        community_slug=community_slug,
        slug=form.get("slug", "").strip(),
        title=form.get("title", ""),
        goal_fen=goal or 0,
        summary=form.get("summary", ""),
        story=form.get("story", ""),
        deadline=deadline,
        cover_image=cover_image,
        budget=budget,
        committee=committee,
        fund_name=form.get("fund_name", "").strip(),
        filing=filing,
    )
    if problems:
        raise ValidationErrors(problems)
    return draft


async def _add_gallery(project_slug: str, gallery: Sequence[StoredPhoto]) -> None:
    """Add photos to the project's gallery (inside the caller's transaction)."""
    if not gallery:
        return
    project = await Project.select(Project.id).where(Project.slug == project_slug).first()
    assert project is not None
    count = await ProjectPhoto.count().where(ProjectPhoto.project == project["id"])
    if count + len(gallery) > MAX_GALLERY_PHOTOS:
        raise ValidationErrors({"gallery": N_("A gallery can have at most 12 photos")})
    await ProjectPhoto.insert(
        *[
            ProjectPhoto(
                project=project["id"],
                url=photo.url,
                sha256=photo.sha256,
                position=count + index,
                added_at=utc_now(),
            )
            for index, photo in enumerate(gallery)
        ]
    )


async def create_draft(
    actor: Actor, draft: ProjectDraft, gallery: Sequence[StoredPhoto] = ()
) -> int:
    async with write_transaction():
        if await slug_taken(draft.slug):
            raise ValidationErrors({"slug": SLUG_TAKEN})
        project_id = await create_project(draft)
        await _add_gallery(draft.slug, gallery)
        await record_audit(actor, "project.create", "project", draft.slug, after=_summary(draft))
    return project_id


async def edit_draft(
    actor: Actor, slug: str, draft: ProjectDraft, gallery: Sequence[StoredPhoto] = ()
) -> None:
    async with write_transaction():
        before = {k: v for k, v in (await draft_values(slug)).items() if k != "_layout"}
        await update_draft(slug, draft)
        await _add_gallery(slug, gallery)
        await record_audit(
            actor, "project.edit", "project", slug, before=before, after=_summary(draft)
        )


async def publish_project(actor: Actor, slug: str) -> None:
    """Publish (draft → fundraising) and log it; PublicationRefused lists every missing piece."""
    async with write_transaction():
        await publish(slug)
        await record_audit(
            actor,
            "project.publish",
            "project",
            slug,
            before={"status": "draft"},
            after={"status": "fundraising"},
        )


def _summary(draft: ProjectDraft) -> dict[str, Any]:
    return {
        "title": draft.title.strip(),
        "goal_fen": draft.goal_fen,
        "deadline": draft.deadline,
        "budget": [[line.title, line.amount_fen] for line in draft.budget],
        "committee": [[s.name, s.role.value, s.background] for s in draft.committee],
        "fund_name": draft.fund_name,
        "filing_number": draft.filing.number,
        "plan_starts_on": draft.filing.starts_on,
        "plan_ends_on": draft.filing.ends_on,
    }


def _iso(day: date | None) -> str:
    return day.isoformat() if day else ""


async def draft_values(slug: str) -> dict[str, Any]:
    """The project as the draft form shows it (and as the audit log's `before`)."""
    project = await Project.select().where(Project.slug == slug).first()
    if project is None:
        return {}
    lines = (
        await BudgetLine.select()
        .where(BudgetLine.project == project["id"])
        .order_by(BudgetLine.position)
    )
    seats = (
        await CommitteeMember.select()
        .where(CommitteeMember.project == project["id"])
        .order_by(CommitteeMember.position)
    )
    values: dict[str, Any] = {
        "slug": project["slug"],
        "title": project["title"],
        "summary": project["summary"],
        "story": project["story"],
        "goal": format_yuan(project["goal_fen"]),
        "deadline": project["deadline"].isoformat() if project["deadline"] else "",
        "cover_image": project["cover_image"],
        "status": project["status"],
        "fund_name": project["fund_name"],
        "filing_number": project["filing_number"],
        "plan_starts_on": _iso(project["plan_starts_on"]),
        "plan_ends_on": _iso(project["plan_ends_on"]),
        "budget_rows": str(max(len(lines), 1)),
        "committee_rows": str(max(len(seats), NEW_DRAFT_ROWS["committee"])),
    }
    for index, line in enumerate(lines):
        values[f"budget-{index}-item"] = line["title"]
        values[f"budget-{index}-amount"] = format_yuan(line["amount_fen"])
    for index, seat in enumerate(seats):
        values[f"committee-{index}-name"] = seat["name"]
        values[f"committee-{index}-role"] = seat["role"]
        values[f"committee-{index}-background"] = seat["background"]
    values["_layout"] = form_layout(values)  # for a page that does not pass `draft_layout`
    return values


async def remove_photo(actor: Actor, slug: str, name: str) -> None:
    """Take one photo off a draft (its cover, or one of its gallery), by the photo's file name;
    the file itself is discarded once the change is written. NotFound for a photo that is not
    this project's; Conflict once the project is published."""
    url = f"/photos/{name}"
    async with write_transaction():
        project = (
            await Project.select(Project.id, Project.status, Project.cover_image)
            .where(Project.slug == slug)
            .first()
        )
        if project is None:
            raise NotFound("No project %(slug)s", slug=slug)
        if project["status"] != ProjectStatus.DRAFT.value:
            raise Conflict(N_("Only a draft can be edited"))
        if project["cover_image"] == url:
            await Project.update({Project.cover_image: ""}).where(Project.id == project["id"])
            what = "cover"
        elif await ProjectPhoto.exists().where(
            (ProjectPhoto.project == project["id"]) & (ProjectPhoto.url == url)
        ):
            await ProjectPhoto.delete().where(
                (ProjectPhoto.project == project["id"]) & (ProjectPhoto.url == url)
            )
            what = "gallery"
        else:
            raise NotFound("No photo %(name)s", name=name)
        await record_audit(
            actor, "project.photo.remove", "project", slug, before={what: url}, after={what: ""}
        )
    await discard_photo(url)


async def draft_photos(slug: str) -> dict[str, Any]:
    """The draft's cover and gallery as its edit page shows them (with each photo's name)."""
    project = (
        await Project.select(Project.id, Project.cover_image).where(Project.slug == slug).first()
    )
    if project is None:
        raise NotFound("No project %(slug)s", slug=slug)
    gallery = (
        await ProjectPhoto.select(ProjectPhoto.url)
        .where(ProjectPhoto.project == project["id"])
        .order_by(ProjectPhoto.position)
    )

    def named(url: str) -> dict[str, str]:
        return {"url": url, "name": url.removeprefix("/photos/")}

    return {
        "cover": named(project["cover_image"]) if project["cover_image"] else None,
        "gallery": [named(row["url"]) for row in gallery],
    }
