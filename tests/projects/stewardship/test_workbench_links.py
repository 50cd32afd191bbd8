"""The secretary's workbench links to everything about its project (docs/adr/0021-finding-your-
way.md): the public page, spending, offline gifts, pledges, updates, in-kind help, the poster,
the donations, the ledger, and the completion report or the cancellation when the project's
status allows it. Every link answers the secretary, and every anchor is on the page."""

from __future__ import annotations

import re
from typing import Any

import pytest

from linju.projects.core.rules import BudgetLinePlan
from linju.projects.core.services.projects import ProjectDraft, create_project
from tests.accounts_support import in_app, log_in, make_account
from tests.forms import parse_page

Client = Any
pytestmark = pytest.mark.usefixtures("demo")
LINKS = re.compile(r'<ul class="workbench-links"[^>]*>(.*?)</ul>', re.S)
HREF = re.compile(r'href="([^"]+)"')


async def links_of(client: Client, slug: str) -> tuple[str, list[str]]:
    page = await client.get(f"/p/{slug}/manage")
    assert page.status_code == 200
    block = LINKS.search(page.text)
    assert block, "no links on the workbench"
    return page.text, HREF.findall(block.group(1))


async def test_a_raising_projects_workbench_links_to_everything(client: Client) -> None:
    account = await make_account(
        "sec@example.cn", "secretary", community="lvjingyuan", client=client
    )
    await log_in(client, account)
    html, links = await links_of(client, "tongqu-leyuan")
    p = "/p/tongqu-leyuan"
    for expected in (
        p, f"{p}/spending", f"{p}/offline", "#pledges", "#updates-form", "#in-kind-form",
        f"{p}/poster", f"{p}/donations", f"{p}/ledger", f"{p}/spending#cancel",
    ):  # fmt: skip
        assert expected in links, expected
    assert f"{p}/spending#completion" not in links  # not in progress: nothing to report yet
    ids = parse_page(html).ids
    for link in links:
        path, _, anchor = link.partition("#")
        if path:
            answer = await client.get(path)
            assert answer.status_code == 200, link
            target_ids = parse_page(answer.text).ids
        else:
            target_ids = ids
        if anchor:
            assert anchor in target_ids, link
    # The spending page leads back to the workbench.
    assert 'href="/p/tongqu-leyuan/manage"' in (await client.get(f"{p}/spending")).text


async def test_a_completed_projects_workbench_offers_no_completion_or_cancellation(
    client: Client,
) -> None:
    account = await make_account(
        "sec@example.cn", "secretary", community="cuiweiyuan", client=client
    )
    await log_in(client, account)
    _html, links = await links_of(client, "wuding-huayuan")
    assert "/p/wuding-huayuan/spending" in links
    assert not [link for link in links if link.endswith(("#completion", "#cancel"))]


async def test_a_drafts_workbench_links_to_its_preview_and_its_edit_page(client: Client) -> None:
    account = await make_account(
        "sec@example.cn", "secretary", community="lvjingyuan", client=client
    )
    await log_in(client, account)
    draft = await in_app(client, _a_draft)
    html, links = await links_of(client, draft)
    assert f"/p/{draft}/preview" in links
    assert f"/p/{draft}/manage/draft" in links
    assert f"/p/{draft}/spending" not in links
    ids = parse_page(html).ids
    for link in links:
        path, _, anchor = link.partition("#")
        if path:
            assert (await client.get(path)).status_code == 200, link
        elif anchor:
            assert anchor in ids, link


async def _a_draft() -> str:
    await create_project(
        ProjectDraft(
            community_slug="lvjingyuan",
            slug="xin-caogao",
            title="新草稿",
            goal_fen=100_000,
            budget=[BudgetLinePlan("材料", 100_000)],
            committee=[],
        )
    )
    return "xin-caogao"
