"""The port through which accounts reach the places a role is held in.

A secretary's role names a community and a committee member's role is their seat on a project's
committee: both live in an area (`projects.core`), which the shell must not import
(docs/adr/0011-house-plan.md). The area implements this protocol and the composition root
registers it (`linju.platform.app.wire`); accounts, guards and the admin page ask through it.
The secretary role's foreign key to `community` is a lazy table reference for the same reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any, Protocol

from linju.platform.accounts.audit import Actor


class Places(Protocol):
    async def community_id(self, slug: str) -> int:
        """The community's id, or NotFound."""
        ...

    async def project_ids(self, slug: str) -> tuple[int, int]:
        """(project id, community id) of a project, or NotFound."""
        ...

    async def seats_of(self, account_id: int) -> frozenset[int]:
        """The ids of the projects on whose committee the account holds a seat."""
        ...

    async def take_seat(self, account_id: int, name: str, project_id: int) -> int | None:
        """Link the account to its seat (the unheld seat with its name, or a new member's seat)
        on the project's committee, in the caller's transaction; the seat's id, or None when the
        account holds a seat there already."""
        ...

    async def committee_seats(
        self, project_slug: str
    ) -> tuple[str, Sequence[tuple[str, int | None]]]:
        """(the project's status, (seat name, account id or None) of each seat in order), or
        NotFound: what `linju users create` checks before it links a seat (ADR 0022)."""
        ...

    async def seat_titles(self) -> Sequence[tuple[int, str]]:
        """(account id, project title) of every seat held by an account, for the admin page."""
        ...

    async def create_community(
        self, actor: Actor, slug: str, name: str, district: str, description: str
    ) -> int:
        """Create a community (audited, one transaction); its id, or a DomainError."""
        ...

    async def communities(self) -> Sequence[Any]:
        """Every community (with `slug` and `name`), for the admin page's forms."""
        ...


class SeatRefusal(StrEnum):
    """Why a committee member cannot be linked to a seat as asked (docs/adr/0022, 0025)."""

    NO_SEAT = "no_seat"  # no seat with that name (a typo?), and no seat is to be added
    HELD = "held"  # the seat with that name is another account's
    PUBLISHED = "published"  # a seat may be added to a draft only


def seat_refusal(
    name: str,
    status: str,
    seats: Sequence[tuple[str, int | None]],
    account_id: int | None,
    add_seat: bool,
) -> SeatRefusal | None:
    """The one rule of `linju users create` and the admin's invitation (pure): a committee
    member is linked to the unheld seat with their name; a new seat is added only when asked,
    and only to a draft, since a published project's seats change by a committee decision. None
    when the account may take its seat (or holds one on this committee already)."""
    if account_id is not None and any(held == account_id for _, held in seats):
        return None
    holders = [held for seat, held in seats if seat == name.strip()]
    if any(held is None for held in holders):
        return None
    if holders:
        return SeatRefusal.HELD
    if not add_seat:
        return SeatRefusal.NO_SEAT
    if status != "draft":
        return SeatRefusal.PUBLISHED
    return None


_places: Places | None = None


def register(places: Places) -> None:
    global _places
    _places = places


def places() -> Places:
    if _places is None:
        raise RuntimeError("no Places registered: call linju.platform.app.wire() first")
    return _places
