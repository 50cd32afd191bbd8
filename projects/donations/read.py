"""What pages read about donations: the project page's donate form and donor wall."""

from __future__ import annotations

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
        "donor_wall": await donations.recent_donations(project),
        "anonymous_name": ANONYMOUS_NAME,
    }
