"""The in-kind register: labour, goods and space given to a project (not money on the ledger).

Labour is kept in hours and shown in days of eight hours ("居民投工投劳 10 天"); goods carry an
estimated value that is never added to the money raised.
"""

from __future__ import annotations

from typing import Any

from linju.platform.accounts.audit import Actor, record_audit
from linju.platform.db import select_rows, write_transaction
from linju.platform.kernel.clock import utc_now
from linju.platform.kernel.errors import NotFound, ValidationErrors
from linju.platform.kernel.money import Money
from linju.projects.core.tables import Project
from linju.projects.stewardship.rules import HOURS_PER_DAY, InKindGift, in_kind_problems
from linju.projects.stewardship.tables import InKindContribution


async def record_in_kind(actor: Actor, slug: str, gift: InKindGift) -> int:
    problems = in_kind_problems(gift)
    if problems:
        raise ValidationErrors(problems)
    async with write_transaction():
        project = await Project.select(Project.id).where(Project.slug == slug).first()
        if project is None:
            raise NotFound("No project %(slug)s", slug=slug)
        rows = await InKindContribution.insert(
            InKindContribution(
                project=project["id"],
                kind=gift.kind,
                contributor=gift.contributor.strip(),
                description=gift.description.strip(),
                labour_hours=gift.labour_hours if gift.kind == "labour" else 0,
                estimated_value_fen=gift.estimated_value_fen if gift.kind == "goods" else 0,
                location=gift.location.strip() if gift.kind == "space" else "",
                recorded_by=actor.id or 0,
                recorded_at=utc_now(),
            )
        )
        record_id = int(rows[0]["id"])
        await record_audit(
            actor,
            "in_kind.record",
            "project",
            slug,
            after={"id": record_id, "kind": gift.kind, "contributor": gift.contributor.strip()},
        )
    return record_id


async def in_kind_register(project_id: int) -> dict[str, Any]:
    rows = await select_rows(
        where=[(InKindContribution.project, project_id)],
        order_by=[(InKindContribution.id, True)],
    )
    hours = sum(r["labour_hours"] for r in rows)
    for row in rows:
        row["estimated_value"] = Money(row["estimated_value_fen"], "CNY")
    return {
        "rows": rows,
        "labour_days": (hours + HOURS_PER_DAY - 1) // HOURS_PER_DAY,
        "labour_hours": hours,
        "goods_value_fen": sum(r["estimated_value_fen"] for r in rows),
    }
