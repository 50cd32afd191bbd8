"""Communities, projects and committee seats as the accounts shell needs them
(`linju.platform.accounts.places.Places`, registered by the composition root)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from linju.platform.accounts.audit import Actor
from linju.platform.accounts.tables import Account
from linju.platform.kernel.errors import N_, NotFound
from linju.projects.core.read import CommunityView, list_communities
from linju.projects.core.services.communities import create_community_audited
from linju.projects.core.tables import CommitteeMember, Community, Project


class CorePlaces:
    async def community_id(self, slug: str) -> int:
        row = await Community.select(Community.id).where(Community.slug == slug).first()
        if row is None:
            raise NotFound(N_("No community %(slug)s"), slug=slug)
        return int(row["id"])

    async def project_ids(self, slug: str) -> tuple[int, int]:
        row = (
            await Project.select(Project.id, Project.community).where(Project.slug == slug).first()
        )
        if row is None:
            raise NotFound(N_("No project %(slug)s"), slug=slug)
        return int(row["id"]), int(row["community"])

    async def seats_of(self, account_id: int) -> frozenset[int]:
        seats = await CommitteeMember.select(CommitteeMember.project).where(
            CommitteeMember.account_id == account_id
        )
        return frozenset(int(r["project"]) for r in seats)

    async def take_seat(self, account_id: int, name: str, project_id: int) -> int | None:
        if await CommitteeMember.exists().where(
            (CommitteeMember.project == project_id) & (CommitteeMember.account_id == account_id)
        ):
            return None
        seat = (
            await CommitteeMember.select(CommitteeMember.id)
            .where(
                (CommitteeMember.project == project_id)
                & (CommitteeMember.name == name.strip())
                & CommitteeMember.account_id.is_null()
            )
            .first()
        )
        if seat is not None:
            await CommitteeMember.update({CommitteeMember.account_id: account_id}).where(
                CommitteeMember.id == seat["id"]
            )
            return int(seat["id"])
        count = await CommitteeMember.count().where(CommitteeMember.project == project_id)
        rows = await CommitteeMember.insert(
            CommitteeMember(
                project=project_id,
                name=name.strip(),
                role="member",
                background="",
                account_id=account_id,
                position=count,
            )
        )
        return int(rows[0]["id"])

    async def committee_seats(
        self, project_slug: str
    ) -> tuple[str, Sequence[tuple[str, int | None]]]:
        row = (
            await Project.select(Project.id, Project.status)
            .where(Project.slug == project_slug)
            .first()
        )
        if row is None:
            raise NotFound(N_("No project %(slug)s"), slug=project_slug)
        seats = (
            await CommitteeMember.select(CommitteeMember.name, CommitteeMember.account_id)
            .where(CommitteeMember.project == row["id"])
            .order_by(CommitteeMember.position)
        )
        return str(row["status"]), [(s["name"], s["account_id"]) for s in seats]

    async def seat_titles(self) -> Sequence[tuple[int, str]]:
        seats = await CommitteeMember.select(
            CommitteeMember.account_id, CommitteeMember.project.title
        ).where(CommitteeMember.account_id.is_not_null())
        return [(int(s["account_id"]), s["project.title"]) for s in seats]

    async def create_community(
        self, actor: Actor, slug: str, name: str, district: str, description: str
    ) -> int:
        return await create_community_audited(actor, slug, name, district, description)

    async def communities(self) -> Sequence[CommunityView]:
        return await list_communities()


async def committee_addresses(
    project_id: int, *, except_names: Iterable[str] = (), except_account: int | None = None
) -> list[str]:
    """The e-mail of each active account holding a seat on the project's committee, less the
    seats named in `except_names` and the account `except_account` (who proposed or recorded
    what the mail tells of): the one lookup behind every committee notice, of spending and of
    stewardship alike (docs/adr/0021-finding-your-way.md)."""
    excluded = set(except_names)
    seats = await CommitteeMember.select(CommitteeMember.name, CommitteeMember.account_id).where(
        (CommitteeMember.project == project_id) & CommitteeMember.account_id.is_not_null()
    )
    ids = [
        s["account_id"]
        for s in seats
        if s["name"] not in excluded and s["account_id"] != except_account
    ]
    if not ids:
        return []
    rows = await Account.select(Account.email).where(
        Account.id.is_in(ids) & (Account.is_active == True)  # noqa: E712 - Piccolo's operator
    )
    return [r["email"] for r in rows]
