"""Progress updates on a project's timeline (newest first): news for residents.

They are not the disclosure duty: that is the disclosures' (项目公示, `services/disclosures.py`,
docs/adr/0029-disclosures.md), built from the ledger and published every three months.
"""

from __future__ import annotations

import json
from typing import Any

from linju.platform.accounts.audit import Actor, record_audit
from linju.platform.db import select_rows, write_transaction
from linju.platform.kernel.clock import utc_now
from linju.platform.kernel.errors import N_, NotFound, ValidationErrors
from linju.projects.core.tables import Project
from linju.projects.stewardship.rules import (
    MAX_UPDATE_LENGTH,
    MAX_UPDATE_PHOTOS,
)
from linju.projects.stewardship.tables import ProjectUpdate


async def post_update(actor: Actor, slug: str, body: str, photo_urls: list[str]) -> int:
    problems: dict[str, str] = {}
    if not body.strip():
        problems["body"] = N_("Write what happened")
    elif len(body) > MAX_UPDATE_LENGTH:
        problems["body"] = N_("An update can have at most 5,000 characters")
    if len(photo_urls) > MAX_UPDATE_PHOTOS:
        problems["photos"] = N_("An update can have at most 6 photos")
    if problems:
        raise ValidationErrors(problems)
    async with write_transaction():
        project = await Project.select(Project.id).where(Project.slug == slug).first()
        if project is None:
            raise NotFound("No project %(slug)s", slug=slug)
        rows = await ProjectUpdate.insert(
            ProjectUpdate(
                project=project["id"],
                body=body.strip(),
                photos=json.dumps(photo_urls),
                author_id=actor.id or 0,
                posted_at=utc_now(),
            )
        )
        update_id = int(rows[0]["id"])
        await record_audit(
            actor, "update.post", "project", slug, after={"update": update_id, "photos": photo_urls}
        )
    return update_id


async def project_updates(project_id: int) -> list[dict[str, Any]]:
    rows = await select_rows(
        where=[(ProjectUpdate.project, project_id)], order_by=[(ProjectUpdate.posted_at, False)]
    )
    for row in rows:
        row["photo_urls"] = json.loads(row["photos"] or "[]")
    return rows
