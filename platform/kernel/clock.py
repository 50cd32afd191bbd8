"""The domain's one source of time, so tests and the ledger agree on what "now" is."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

# Deadlines and "days left" are civil dates where the communities are.
COMMUNITY_TIMEZONE = ZoneInfo("Asia/Shanghai")


def utc_now() -> datetime:
    return datetime.now(UTC)


def local_today() -> date:
    return utc_now().astimezone(COMMUNITY_TIMEZONE).date()
