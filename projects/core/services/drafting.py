"""The secretary's draft form: from what was typed to a `ProjectDraft`, then create, edit, publish.

The form is plain HTML that works without JavaScript, so lists are text areas with one item per
line: budget lines as `title | amount in yuan`, committee members as `name | background`, and the
chair named in a field of its own. Every problem is collected at once (parsing here, rules in
`projects.rules` through `projects.services.projects`), so the secretary fixes everything in one
go. Each use case and its audit record share one write transaction.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import Any

from linju.platform.accounts.audit import Actor, record_audit
from linju.platform.db import write_transaction
from linju.platform.kernel.clock import utc_now
from linju.platform.kernel.errors import N_, ValidationErrors
from linju.platform.kernel.inputs import DAY_RANGE, InputRefused, calendar_day
from linju.platform.kernel.money import format_yuan, yuan_or_none
from linju.projects.core.rules import BudgetLinePlan, CommitteeRole, CommitteeSeat
from linju.projects.core.services.photos import StoredPhoto
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


def _lines(text: str) -> list[list[str]]:
    rows = [line for line in text.replace("\r\n", "\n").split("\n") if line.strip()]
    return [[part.strip() for part in re.split(r"[|｜]", row)] for row in rows]


def parse_draft_form(
    form: dict[str, str], community_slug: str, cover_image: str = ""
) -> ProjectDraft:
    """Read the form; raises ValidationErrors naming every field that cannot be read."""
    problems: dict[str, str] = {}
    goal = yuan_or_none(form.get("goal", ""))
    if goal is None:
        problems["goal"] = N_("Enter the goal in yuan, e.g. 12000 or 12000.50")
    deadline: date | None = None
    if form.get("deadline", "").strip():
        try:
            deadline = calendar_day(form["deadline"])
        except InputRefused as exc:
            out_of_range = exc.message == DAY_RANGE
            problems["deadline"] = DAY_RANGE if out_of_range else N_("Enter the deadline as a date")
    budget: list[BudgetLinePlan] = []
    budget_rows = _lines(form.get("budget", ""))
    for parts in budget_rows[:MAX_LINES]:
        amount = yuan_or_none(parts[-1]) if len(parts) >= 2 else None
        if amount is None or len(parts) != 2 or len(parts[0]) > 200:
            problems["budget"] = N_("Write each budget line as: item | amount in yuan")
            break
        budget.append(BudgetLinePlan(parts[0], amount))
    if len(budget_rows) > MAX_LINES:
        problems["budget"] = N_("A budget can have at most 50 lines")
    committee: list[CommitteeSeat] = []
    chair = form.get("chair", "").strip()
    for parts in _lines(form.get("committee", ""))[:MAX_LINES]:
        if len(parts) != 2 or len(parts[0]) > 100 or len(parts[1]) > 200:
            problems["committee"] = N_("Write each committee member as: name | background")
            break
        role = CommitteeRole.CHAIR if parts[0] == chair else CommitteeRole.MEMBER
        committee.append(CommitteeSeat(parts[0], role, parts[1]))
    if committee and chair and not any(s.role is CommitteeRole.CHAIR for s in committee):
        problems["chair"] = N_("The chair must be one of the committee members")
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
        project_id = await create_project(draft)
        await _add_gallery(draft.slug, gallery)
        await record_audit(actor, "project.create", "project", draft.slug, after=_summary(draft))
    return project_id


async def edit_draft(
    actor: Actor, slug: str, draft: ProjectDraft, gallery: Sequence[StoredPhoto] = ()
) -> None:
    async with write_transaction():
        before = await draft_values(slug)
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
    }


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
    chair = next((s["name"] for s in seats if s["role"] == CommitteeRole.CHAIR.value), "")
    return {
        "slug": project["slug"],
        "title": project["title"],
        "summary": project["summary"],
        "story": project["story"],
        "goal": format_yuan(project["goal_fen"]),
        "deadline": project["deadline"].isoformat() if project["deadline"] else "",
        "budget": "\n".join(
            f"{line['title']} | {format_yuan(line['amount_fen'])}" for line in lines
        ),
        "committee": "\n".join(f"{s['name']} | {s['background']}" for s in seats),
        "chair": chair,
        "cover_image": project["cover_image"],
        "status": project["status"],
    }
