"""Who may take money, and fundraising ends when the goal is reached (or when the secretary
closes it).

`project_taking_donations` is how every path that brings money in (an online donation, an
offline gift, a matching pledge) finds its project and asks `rules.takes_donations`.

`close_when_goal_reached` is safe to call after any confirmed donation, and from any page: it
moves a fundraising project whose raised amount reached its goal to `funded`, once, under the
same project lock as every spending decision. The spending pages call it before they show or
accept anything, so a project that reached its goal is always funded when money starts to go out.
"""

from __future__ import annotations

from dataclasses import dataclass

from linju.platform.db import write_transaction
from linju.platform.kernel.errors import N_, Conflict, NotFound
from linju.projects.core.rules import (
    NOT_TAKING_DONATIONS,
    ProjectStatus,
    goal_reached,
    takes_donations,
)
from linju.projects.core.services.projects import change_status
from linju.projects.core.tables import Project
from linju.projects.ledger.lock import locked_project
from linju.projects.ledger.tables import LedgerHead


@dataclass(frozen=True, slots=True)
class Recipient:
    """A project that takes money now: what a gift or a pledge is recorded against."""

    id: int
    currency: str


async def project_taking_donations(slug: str) -> Recipient:
    """The project, if it takes money now (`takes_donations`); Conflict if it does not, NotFound
    if there is none or it is a draft (nobody learns of a draft by giving to it)."""
    project = (
        await Project.select(
            Project.id, Project.status, Project.currency, Project.accepts_donations_when_funded
        )
        .where(Project.slug == slug)
        .first()
    )
    if project is None or project["status"] == ProjectStatus.DRAFT.value:
        raise NotFound(N_("No project %(slug)s"), slug=slug)
    if not takes_donations(
        ProjectStatus(project["status"]), bool(project["accepts_donations_when_funded"])
    ):
        raise Conflict(NOT_TAKING_DONATIONS)
    return Recipient(int(project["id"]), project["currency"])


async def takes_money_now(slug: str) -> bool:
    """Whether the project takes money at this moment (`takes_donations`), for a payment that
    arrives anyway (a checkout started before the project closed). Call it holding the project
    lock (the ledger head), so the status read is the one every later change waits for."""
    project = (
        await Project.select(Project.status, Project.accepts_donations_when_funded)
        .where(Project.slug == slug)
        .first()
    )
    if project is None:
        raise NotFound(N_("No project %(slug)s"), slug=slug)
    return takes_donations(
        ProjectStatus(project["status"]), bool(project["accepts_donations_when_funded"])
    )


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
