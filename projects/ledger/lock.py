"""The project lock: its ledger head row, held until the caller's transaction ends.

Every use case that decides something about a project's money starts with `locked_project`:
inside the caller's write transaction it locks the project's ledger head row (`SELECT … FOR
UPDATE` on PostgreSQL; SQLite's `BEGIN IMMEDIATE` already serialises writers). That is the row
`services.append` locks too, so a decision, a payment and any ledger entry of one project happen
one after another: the head a decision records is the real head, and "available" cannot change
between check and write.
"""

from __future__ import annotations

from dataclasses import dataclass

from linju.platform.db import is_postgres
from linju.platform.kernel.errors import N_, NotFound
from linju.projects.core.rules import ProjectStatus
from linju.projects.core.tables import Project
from linju.projects.ledger.tables import LedgerHead


@dataclass(frozen=True, slots=True)
class LockedProject:
    id: int
    slug: str
    status: ProjectStatus
    currency: str
    community_slug: str
    head_seq: int
    head_hash: str
    balance: int


async def locked_project(slug: str) -> LockedProject:
    """The project and its ledger head, the head locked until the transaction ends."""
    project = (
        await Project.select(
            Project.id,
            Project.slug,
            Project.status,
            Project.currency,
            Project.community.slug.as_alias("community_slug"),
        )
        .where(Project.slug == slug)
        .first()
    )
    if project is None:
        raise NotFound(N_("No project %(slug)s"), slug=slug)
    query = LedgerHead.select(LedgerHead.seq, LedgerHead.hash, LedgerHead.balance_fen).where(
        LedgerHead.project == project["id"]
    )
    if is_postgres():
        query = query.lock_rows("UPDATE")
    head = await query.first()
    if head is None:
        raise NotFound(N_("No project %(slug)s"), slug=slug)
    if is_postgres():  # the status may have changed while we waited for the lock
        refreshed = await Project.select(Project.status).where(Project.id == project["id"]).first()
        assert refreshed is not None
        project["status"] = refreshed["status"]
    return LockedProject(
        id=int(project["id"]),
        slug=project["slug"],
        status=ProjectStatus(project["status"]),
        currency=project["currency"],
        community_slug=project["community_slug"],
        head_seq=int(head["seq"]),
        head_hash=head["hash"],
        balance=int(head["balance_fen"]),
    )
