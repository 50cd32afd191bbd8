"""What pages read about donations: the project page's donate form and donor wall."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from linju.platform.kernel.clock import community_date
from linju.platform.kernel.errors import Conflict
from linju.platform.kernel.money import Money
from linju.platform.settings import get_settings
from linju.projects.core.read import ProjectDetail, get_project
from linju.projects.core.rules import NOT_TAKING_DONATIONS, takes_donations
from linju.projects.donations import services as donations
from linju.projects.donations.rules import (
    ANONYMOUS_NAME,
    MAX_DISPLAY_NAME_LENGTH,
    MAX_MESSAGE_LENGTH,
    PRESET_AMOUNTS_FEN,
    DonationInput,
    amount_in_capitals,
    form_fields,
    message_hidden,
    public_name,
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
    donation_id: str = ""  # an online gift's public id (on the ledger too): what a steward hides
    message_hidden: bool = False  # a steward hid the message (docs/adr/0028)


def _day(moment: datetime | date | None) -> date | None:
    """The residents' day of a gift (in the community's time zone, docs/adr/0028)."""
    return None if moment is None else community_date(moment)


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
            donation_id=d.id,
            message_hidden=message_hidden(d.message_hidden_at),
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


# The donation's review step (WCAG 2.2 SC 3.3.4; docs/adr/0027-host-and-fund.md) -----------------
@dataclass(frozen=True, slots=True)
class DonationReview:
    """What the donor checks before paying: nothing is written until they confirm."""

    project: ProjectDetail
    amount: Money
    amount_in_capitals: str  # 人民币贰佰元整
    display_name: str  # "" when the wall will say 匿名 / Anonymous
    message: str
    email: str
    fields: dict[str, str]  # the form as typed, carried hidden to the confirmation


async def donation_review(slug: str, data: DonationInput, fields: dict[str, str]) -> DonationReview:
    """The review of a donation to `slug` (a project taking money; Conflict otherwise)."""
    project = await get_project(slug)
    if not takes_donations(project.summary.status, project.accepts_donations_when_funded):
        raise Conflict(NOT_TAKING_DONATIONS)
    shown = public_name(data.display_name, data.anonymous)
    return DonationReview(
        project=project,
        amount=Money(data.amount_fen, data.currency),
        amount_in_capitals=amount_in_capitals(data.amount_fen),
        display_name="" if shown == ANONYMOUS_NAME else shown,
        message=data.message,
        email=data.email,
        fields=form_fields(fields),
    )
