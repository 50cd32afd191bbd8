"""The draft form as a secretary fills it in: one set of fields for every test that drafts a
project over HTTP (submitted over the form as rendered) or through `parse_draft_form`.

`draft_form()` is a draft that saves and, once the demo's host has its filing, publishes: a goal
of ¥3,000 in two budget lines, a committee of three with its chair, and the fundraising plan's
filing that the demo's host requires before publishing (ADR 0027). Any field can be changed by
name; `filed=False` leaves the filing out.
"""

from __future__ import annotations

from datetime import timedelta

from linju.platform.kernel.clock import local_today
from linju.projects.core.rules import FILING_DATES_MISSING, FILING_NUMBER_MISSING

SLUG = "reading-corner"
BUDGET = {
    "budget-0-item": "书架",
    "budget-0-amount": "1000",
    "budget-1-item": "图书",
    "budget-1-amount": "2000",
}
COMMITTEE = {
    "committee-0-name": "王阿姨",
    "committee-0-role": "chair",
    "committee-0-background": "退休教师",
    "committee-1-name": "李师傅",
    "committee-1-background": "木工",
    "committee-2-name": "张医生",
    "committee-2-background": "社区医生",
}
# The committee's fields emptied (the chair's role is a choice, not text).
NO_COMMITTEE = {k: "" for k in COMMITTEE if not k.endswith("-role")}


def filing() -> dict[str, str]:
    """The fundraising plan's filing: its number and the plan's dates, from today for 90 days."""
    today = local_today()
    return {
        "filing_number": "51420107MJ4530321U26099",
        "plan_starts_on": today.isoformat(),
        "plan_ends_on": (today + timedelta(days=90)).isoformat(),
    }


def draft_form(*, filed: bool = True, **changes: str) -> dict[str, str]:
    form = {
        "slug": SLUG,
        "title": "楼道读书角",
        "goal": "3000",
        "deadline": (local_today() + timedelta(days=30)).isoformat(),
        **BUDGET,
        **COMMITTEE,
        **(filing() if filed else {}),
    }
    form.update(changes)
    return form


# What a draft saved with its title, goal and deadline only (no budget line, no committee, no
# filing) lacks for publishing once its deadline has passed, the demo's host requiring filing:
# each problem by the draft form's field that fixes it (docs/adr/0038).
BARE_DRAFT_MISSING = {
    "budget_rows": ["The budget needs at least one line"],
    "committee_rows": [
        "The supervision committee needs at least three members",
        "The supervision committee needs exactly one chair",
    ],
    "deadline": ["The deadline is in the past"],
    "filing_number": [FILING_NUMBER_MISSING],
    "plan_starts_on": [FILING_DATES_MISSING],
    "plan_ends_on": [FILING_DATES_MISSING],
}
