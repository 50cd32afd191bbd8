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
