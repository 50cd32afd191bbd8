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


def community_time(moment: datetime) -> datetime:
    """`moment` where the communities are (a naive time is UTC, as the databases store it)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(COMMUNITY_TIMEZONE)


def community_date(moment: datetime | date) -> date:
    """The civil date of `moment` where the communities are; a date is already one."""
    return community_time(moment).date() if isinstance(moment, datetime) else moment
