"""Fundraising ends when the goal is reached (or when the secretary closes it).

`close_when_goal_reached` is safe to call after any confirmed donation, and from any page: it
moves a fundraising project whose raised amount reached its goal to `funded`, once, under the
same project lock as every spending decision. The spending pages call it before they show or
accept anything, so a project that reached its goal is always funded when money starts to go out.
"""

from __future__ import annotations

from linju.platform.db import write_transaction
from linju.projects.core.rules import ProjectStatus, goal_reached
from linju.projects.core.services.projects import change_status
from linju.projects.ledger.lock import locked_project
from linju.projects.ledger.tables import LedgerHead


async def close_when_goal_reached(slug: str) -> bool:
    """Returns whether the project moved to `funded` now."""
    async with write_transaction():
        project = await locked_project(slug)
        figures = (
            await LedgerHead.select(
                LedgerHead.raised_fen, LedgerHead.project.goal_fen.as_alias("goal")
            )
            .where(LedgerHead.project == project.id)
            .first()
        )
        if figures is None or not goal_reached(
            project.status, int(figures["raised_fen"]), int(figures["goal"])
        ):
            return False
        await change_status(slug, ProjectStatus.FUNDED)
    return True
