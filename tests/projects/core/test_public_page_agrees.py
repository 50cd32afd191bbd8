"""What the public project page shows agrees with the ledger and with itself (ADR 0023)."""

from __future__ import annotations

import re
from functools import partial
from typing import Any

import pytest

from linju.projects.ledger.read import find_ledger, iter_entries
from tests.accounts_support import in_app, log_in
from tests.forms import submit
from tests.projects.stewardship.stewardship_support import make_people

pytestmark = pytest.mark.usefixtures("demo")
SLUGS = ("tongqu-leyuan", "yuelanshi", "wuding-huayuan")
WALL_GIFT = re.compile(r'data-testid="wall-gift" data-fen="(\d+)"')


async def ledger_entries(slug: str) -> list[dict[str, Any]]:
    ledger = await find_ledger(slug)
    return [entry async for entry in iter_entries(ledger)]


def gifts_in_ledger(entries: list[dict[str, Any]], slug: str) -> list[int]:
    """What each donation entry (online or offline) put into the fund."""
    return [
        sum(p["amount"] for p in entry["postings"] if p["account"] == f"fund:{slug}")
        for entry in entries
        if entry["kind"] in ("donation", "offline_donation")
    ]


async def test_the_donor_wall_and_the_count_agree_with_the_ledger(client: Any) -> None:
    for slug in SLUGS:
        html = (await client.get(f"/p/{slug}")).text
        gifts = gifts_in_ledger(await in_app(client, partial(ledger_entries, slug)), slug)
        wall = [int(fen) for fen in WALL_GIFT.findall(html)]
        assert sorted(wall) == sorted(gifts), slug
        count = re.search(r'data-testid="donations-count">(\d+)<', html)
        assert count, slug
        assert int(count.group(1)) == len(gifts), slug
        assert "还没有人捐款" not in html
        assert "捐款笔数" in html
        assert "捐款人次" not in html


async def test_the_wall_lists_offline_gifts_and_says_anonymous_in_the_visitors_language(
    client: Any,
) -> None:
    html = (await client.get("/p/tongqu-leyuan")).text
    wall = html[html.index('id="donors"') :]
    assert "2号楼居民（现金，居委会代收）" in wall
    assert "线下捐款" in wall
    assert "匿名" in wall
    await client.get("/lang/en?next=/")
    english = (await client.get("/p/tongqu-leyuan")).text
    wall = english[english.index('id="donors"') :]
    assert "Anonymous" in wall
    assert "匿名" not in wall
    assert "Given offline" in wall
    assert ">Gifts<" in english


async def test_days_left_are_counted_only_while_fundraising(client: Any) -> None:
    open_page = (await client.get("/p/tongqu-leyuan")).text
    assert 'data-testid="days-left"' in open_page
    completed = (await client.get("/p/wuding-huayuan")).text
    assert 'data-testid="days-left"' not in completed
    assert "剩余天数" not in completed
    assert "截止日期" not in completed


async def test_a_completed_project_shows_where_its_leftover_went_with_its_entry(
    client: Any,
) -> None:
    html = (await client.get("/p/wuding-huayuan")).text
    entries = await in_app(client, lambda: ledger_entries("wuding-huayuan"))
    transfers = [entry for entry in entries if entry["kind"] == "transfer"]
    assert len(transfers) == 1
    moved = sum(p["amount"] for p in transfers[0]["postings"] if p["amount"] > 0)
    assert moved > 0
    leftover = re.search(r'data-testid="leftover">(.*?)</p>', html, re.S)
    assert leftover, "the leftover is not shown"
    assert "翠微苑社区" in leftover.group(1)
    assert f"¥{moved / 100:,.2f}" in leftover.group(1)
    seq = transfers[0]["seq"]
    assert f'href="/p/wuding-huayuan/ledger#seq-{seq}" data-testid="leftover-entry"' in html
    ledger_page = await client.get("/p/wuding-huayuan/ledger")
    assert f'id="seq-{seq}"' in ledger_page.text
    # A project still raising money has nothing left over to show.
    assert 'data-testid="leftover"' not in (await client.get("/p/tongqu-leyuan")).text


async def test_an_update_renders_markdown_like_the_story_and_escapes_script(client: Any) -> None:
    people = await make_people(client)
    await log_in(client, people.secretary)
    body = "# 进展\n\n本周完成：\n\n- 跷跷板到货\n- 地垫铺好\n\n<script>alert(1)</script>"
    posted = await submit(
        client, "/p/tongqu-leyuan/manage", "/p/tongqu-leyuan/manage/updates", {"body": body}
    )
    assert posted.status_code == 303, posted.text
    html = (await client.get("/p/tongqu-leyuan")).text
    update = re.search(r'data-testid="update">(.*?)</article>', html, re.S)
    assert update
    assert "<li>跷跷板到货</li>" in update.group(1)
    assert "<h3>进展</h3>" in update.group(1)  # below the page's h1 and the section's h2
    assert "<script>" not in update.group(1)
    assert "&lt;script&gt;" in update.group(1)


async def test_story_headings_sit_below_the_pages_own() -> None:
    from linju.platform.kernel.markdown import render_markdown

    html = str(render_markdown("# One\n\n## Two\n\n#### Four\n\n###### Six"))
    assert html.split() == ["<h3>One</h3>", "<h4>Two</h4>", "<h6>Four</h6>", "<h6>Six</h6>"]


async def test_switching_language_after_a_refused_form_returns_to_its_page(client: Any) -> None:
    refused = await submit(
        client,
        "/p/tongqu-leyuan",
        "/p/tongqu-leyuan/donate",
        {"amount_choice": "custom", "custom_amount": "0.5"},
    )
    assert refused.status_code == 422
    switch = re.search(r'href="(/lang/en\?next=[^"]+)"', refused.text)
    assert switch, "the refused page has no language switch"
    link = switch.group(1).replace("&amp;", "&")
    answer = await client.get(link, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/p/tongqu-leyuan"
    page = await client.get(answer.headers["location"])
    assert page.status_code == 200
    assert '<html lang="en">' in page.text


@pytest.mark.parametrize(
    ("asked", "lands"),
    [
        ("/p/tongqu-leyuan", "/p/tongqu-leyuan"),
        ("/c/lvjingyuan?x=1", "/c/lvjingyuan?x=1"),
        ("/p/tongqu-leyuan/manage/updates", "/p/tongqu-leyuan/manage"),
        ("/logout", "/"),
        ("https://evil.example/", "/"),
    ],
)
async def test_the_switch_lands_on_a_page_that_answers_a_get(
    client: Any, asked: str, lands: str
) -> None:
    answer = await client.get("/lang/en", params={"next": asked}, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == lands


async def test_demo_pages_show_their_photos(client: Any) -> None:
    home = (await client.get("/")).text
    assert home.count('class="card-cover" src="/photos/') == 3
    community = (await client.get("/c/cuiweiyuan")).text
    assert 'class="card-cover" src="/photos/' in community
    for slug in SLUGS:
        html = (await client.get(f"/p/{slug}")).text
        cover = re.search(r'class="cover" src="(/photos/[^"]+)"', html)
        assert cover, slug
        assert (await client.get(cover.group(1))).status_code == 200
        assert html.count('class="photo"') >= 3, slug
