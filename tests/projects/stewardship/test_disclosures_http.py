"""Disclosures (项目公示) over HTTP, forms as the pages render them (docs/adr/0029): the overdue
flag, the secretary's page, publishing through its confirmation page, the refusal beside the
field, the printable public page, and who may do what."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from linju.platform.accounts.audit import COMMAND_LINE
from linju.platform.assets import static_url
from linju.platform.kernel.clock import local_today
from linju.projects.core.tables import Project
from linju.projects.ledger.tables import LedgerHead
from linju.projects.stewardship.rules import DisclosurePlan, add_months
from linju.projects.stewardship.services.disclosures import publish_disclosure
from linju.projects.stewardship.tables import Disclosure
from tests.accounts_support import in_app, log_in, log_out
from tests.forms import assert_form_refused, confirm_shown, find_form, submit, submit_shown
from tests.projects.stewardship.stewardship_support import People, make_people

Client = Any
pytestmark = pytest.mark.usefixtures("demo")

SLUG = "tongqu-leyuan"
MANAGE = f"/p/{SLUG}/manage/disclosures"
TODAY = local_today()
PLAN_START = TODAY - timedelta(days=100)
DONE = "## 选址\n\n居民议事会通过，乐园建在**2号楼架空层**。"


@pytest.fixture
async def people(client: Client) -> People:
    people = await make_people(client)
    # The playground's plan, filed 100 days ago for a year: its first disclosure is late.
    await in_app(
        client,
        lambda: Project.update(
            {
                Project.plan_starts_on: PLAN_START,
                Project.plan_ends_on: PLAN_START + timedelta(days=365),
            }
        ).where(Project.slug == SLUG),
    )
    return people


async def count(client: Client) -> int:
    return int(
        await in_app(client, lambda: Disclosure.count().where(Disclosure.project.slug == SLUG))
    )


async def test_a_secretary_publishes_the_quarterly_disclosure_through_its_confirmation(
    client: Client, people: People
) -> None:
    due = add_months(PLAN_START, 3)
    public = await client.get(f"/p/{SLUG}")
    assert 'data-testid="disclosure-overdue"' in public.text
    assert "公示逾期" in public.text
    assert f"{due.year}年{due.month}月{due.day}日" in public.text

    await log_in(client, people.secretary)
    workbench = await client.get(f"/p/{SLUG}/manage")
    assert f'href="{MANAGE}"' in workbench.text
    assert 'data-testid="disclosure-overdue"' in workbench.text
    dashboard = await client.get("/secretary")
    assert "公示逾期" in dashboard.text

    page = await client.get(MANAGE)
    assert page.status_code == 200
    values = dict(find_form(page.text, MANAGE).submission()[0])
    assert values["starts_on"] == PLAN_START.isoformat()
    assert values["ends_on"] == TODAY.isoformat()
    assert 'data-testid="disclosure-figures"' in page.text  # the preview of the figures

    asked = await submit(client, MANAGE, MANAGE, {"what_was_done": DONE})
    assert asked.status_code == 200, asked.text[:500]
    assert 'data-testid="confirm-what"' in asked.text
    assert "发布第 1 期公示？" in asked.text
    head = await in_app(
        client, lambda: LedgerHead.select().where(LedgerHead.project.slug == SLUG).first().run()
    )
    assert head is not None
    closing = f'data-testid="fig-closing">¥{head["balance_fen"] / 100:,.2f}<'
    assert closing in asked.text  # everything so far: the balance at the end is the fund's
    assert await count(client) == 0  # nothing written before the confirmation

    published = await confirm_shown(client, asked, page=MANAGE)
    assert published.status_code == 303, published.text[:500]
    assert published.headers["location"] == f"/p/{SLUG}/disclosures/1"
    assert await count(client) == 1

    log_out(client)
    printable = await client.get(f"/p/{SLUG}/disclosures/1")
    assert printable.status_code == 200
    text = printable.text
    assert head["hash"] in text
    assert closing in text
    assert f'href="{static_url("disclosure.css")}"' in text
    for shown in (
        "项目公示",
        "青山区慈善会",
        "童趣乐园项目基金",
        "51420107MJ4530321U",
        "<strong>2号楼架空层</strong>",
    ):
        assert shown in text, shown
    assert 'data-testid="disclosure-filing"' in text

    api = (await client.get(f"/api/v1/projects/{SLUG}/disclosures")).json()
    assert [(d["seq"], d["kind"], d["url"]) for d in api] == [
        (1, "periodic", f"/p/{SLUG}/disclosures/1")
    ]
    assert api[0]["ledger"]["head_hash"] == head["hash"]
    assert api[0]["closing_balance"] == {"amount": head["balance_fen"], "currency": "CNY"}
    assert api[0]["period_starts_on"] == PLAN_START.isoformat()

    after = await client.get(f"/p/{SLUG}")
    assert 'data-testid="disclosure-overdue"' not in after.text
    assert f'href="/p/{SLUG}/disclosures/1"' in after.text


async def test_a_refused_period_comes_back_beside_its_field_and_writes_nothing(
    client: Client, people: People
) -> None:
    await log_in(client, people.secretary)
    overlap = await submit(
        client, MANAGE, MANAGE,
        {"starts_on": (PLAN_START - timedelta(days=1)).isoformat(), "what_was_done": DONE},
    )  # fmt: skip
    assert_form_refused(overlap, "不得间断，也不得重叠", status=422)
    assert 'id="e-disclosure-starts_on"' in overlap.text
    silent = await submit_shown(client, overlap.text, MANAGE, {
        "starts_on": PLAN_START.isoformat(), "what_was_done": "",
    }, page=MANAGE)  # fmt: skip
    assert_form_refused(silent, "请填写本期完成的工作", status=422)
    unreadable = await submit(client, MANAGE, MANAGE, {"ends_on": "明天", "what_was_done": DONE})
    assert_form_refused(unreadable, status=422)
    assert 'id="e-disclosure-ends_on"' in unreadable.text
    assert await count(client) == 0


async def test_the_confirmation_is_checked_again_when_confirmed(
    client: Client, people: People
) -> None:
    await log_in(client, people.secretary)
    asked = await submit(client, MANAGE, MANAGE, {"what_was_done": DONE})
    assert asked.status_code == 200
    # Meanwhile the same period is published from elsewhere (the command line, say).
    plan = DisclosurePlan(PLAN_START, TODAY, "另一处发布")
    community = await in_app(
        client, lambda: Project.select(Project.community).where(Project.slug == SLUG).first().run()
    )
    assert community is not None
    await in_app(
        client,
        lambda: publish_disclosure(
            COMMAND_LINE, frozenset({community["community"]}), "书记员", SLUG, plan
        ),
    )
    late = await confirm_shown(client, asked, page=MANAGE)
    assert_form_refused(late, "不得间断，也不得重叠", status=422)
    assert await count(client) == 1


async def test_only_the_communitys_secretary_sees_and_publishes(
    client: Client, people: People
) -> None:
    for who in (people.other_secretary, people.member):
        await log_in(client, who)
        assert (await client.get(MANAGE)).status_code == 403
        log_out(client)
    anonymous = await client.get(MANAGE, follow_redirects=False)
    assert anonymous.status_code in (302, 303, 401, 403)
    assert await count(client) == 0
    assert (await client.get(f"/p/{SLUG}/disclosures/1")).status_code == 404
    assert (await client.get("/p/no-such-project/disclosures/1")).status_code == 404
    # The demo's reading room has one published disclosure, anyone may read.
    room = await client.get("/p/yuelanshi/disclosures/1")
    assert room.status_code == 200
    assert "读书会捐出第一批图书" in room.text
