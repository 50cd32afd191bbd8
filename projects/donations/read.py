"""What pages read about donations: the project page's donate form and donor wall."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from linju.platform.kernel.money import Money
from linju.platform.settings import get_settings
from linju.projects.core.read import ProjectDetail
from linju.projects.donations import services as donations
from linju.projects.donations.rules import (
    ANONYMOUS_NAME,
    MAX_DISPLAY_NAME_LENGTH,
    MAX_MESSAGE_LENGTH,
    PRESET_AMOUNTS_FEN,
)
from linju.projects.stewardship.services.offline_donations import offline_donations_of

WALL_LIMIT = 100  # the newest gifts shown; the page says when there are more


@dataclass(frozen=True, slots=True)
class WallGift:
    """One confirmed gift on the donor wall, online or offline (ADR 0023).

    `name` is empty for an anonymous gift: the page says "anonymous" in the visitor's language
    rather than showing a stored word."""

    name: str
    amount: Money
    on: date | None
    message: str
    offline: bool


def _day(moment: datetime | date | None) -> date | None:
    return moment.date() if isinstance(moment, datetime) else moment


async def donor_wall(project: ProjectDetail) -> list[WallGift]:
    """Every confirmed gift to the project, newest first: the residents' online donations and
    the offline gifts a committee member confirmed, so the wall counts what the ledger counts
    (the newest WALL_LIMIT of them)."""
    online = [
        WallGift(
            name="" if d.public_name == ANONYMOUS_NAME else d.public_name,
            amount=d.amount,
            on=_day(d.confirmed_at),
            message=d.message,
            offline=False,
        )
        for d in await donations.recent_donations(project, limit=WALL_LIMIT)
    ]
    offline = [
        WallGift(
            name="" if row["anonymous"] else row["donor_name"].strip(),
            amount=row["amount"],
            on=_day(row["confirmed_at"]),
            message="",
            offline=True,
        )
        for row in await offline_donations_of(project.id)
        if row["confirmed_at"] is not None
    ]
    gifts = online + offline
    gifts.sort(key=lambda g: g.on or date.min, reverse=True)
    return gifts[:WALL_LIMIT]


async def donation_sections(project: ProjectDetail) -> dict[str, Any]:
    """The project page's donate form (empty) and donor wall (a project page section)."""
    return {
        "donate_initial": {"amount_choice": str(PRESET_AMOUNTS_FEN[1])},
        "donate_presets": [Money(fen) for fen in PRESET_AMOUNTS_FEN],
        "donate_limits": {
            "max": Money(get_settings().max_donation_fen),
            "name": MAX_DISPLAY_NAME_LENGTH,
            "message": MAX_MESSAGE_LENGTH,
        },
        "donor_wall": await donor_wall(project),
        "anonymous_name": ANONYMOUS_NAME,
    }
