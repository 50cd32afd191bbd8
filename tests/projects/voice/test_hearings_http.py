"""Hearings over HTTP, every form as its page renders it: a steward opens a hearing (refused, then
set), a household enters its code from the hearing's page and comes back to vote (refused over the
maximum, then voted and changed), stewards record and confirm paper ballots through the
confirmation page (paper XOR online refused both ways), the secretary cancels a hearing not yet
open, and after the close the page and the API show the counts, the turnout and the split."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from linju.platform.accounts.audit import COMMAND_LINE
from linju.platform.kernel.clock import community_time, utc_now
from linju.projects.core.services.communities import create_community
from linju.projects.voice.services import households
from linju.projects.voice.services.households import HOUSEHOLD_COOKIE
from linju.projects.voice.tables import Ballot, Hearing
from tests.accounts_support import in_app, log_in, log_out, make_account
from tests.forms import assert_form_refused, confirm_shown, submit, submit_shown
from tests.projects.voice.hearing_support import window_passes
from tests.projects.voice.voice_support import steward

Client = Any
C = "yuanzi"


def local(delta: timedelta = timedelta(0)) -> str:
    """A time as a datetime-local field holds it, in the community's time."""
    return community_time(utc_now() + delta).strftime("%Y-%m-%dT%H:%M")


async def _community(client: Client, count: int = 10) -> tuple[int, list[str], int]:
    """The community with `count` households' codes, its secretary, and a household's need."""

    async def make() -> list[str]:
        await create_community(C, "院子", "测试区")
        rows = "\n".join(f"1,1,{101 + i}" for i in range(count))
        await households.import_households(COMMAND_LINE, C, "building,unit,room\n" + rows)
        ids = [int(r["id"]) for r in await households.households_of(C)]
        return [code for _, code in await households.issue_codes(COMMAND_LINE, C, ids)]

    codes = await in_app(client, make)
    secretary = await make_account("sec@example.cn", "secretary", community=C, client=client)
    await _as_household(client, codes[0])
    posted = await submit(
        client, "/household", "/household/needs", {"title": "儿童游乐场", "body": "没有玩的地方"}
    )
    assert posted.status_code == 303
    need_id = int(posted.headers["location"].rsplit("/", 1)[-1])
    return secretary, codes, need_id


async def _as_household(client: Client, code: str) -> None:
    log_out(client)
    client.cookies.delete(HOUSEHOLD_COOKIE)
    entered = await submit(client, f"/c/{C}/household", f"/c/{C}/household", {"code": code})
    assert entered.status_code == 303


async def _as(client: Client, account_id: int) -> None:
    client.cookies.delete(HOUSEHOLD_COOKIE)
    await log_in(client, account_id)


PLAYGROUND = {
    "title": "游乐场听证会",
    "q1-text": "选址",
    "q1-option1": "2号楼架空层",
    "q1-option2": "小区东门空地",
    "q2-text": "设施",
    "q2-kind": "multiple",
    "q2-max": "2",
    "q2-option1": "跷跷板",
    "q2-option2": "转转椅",
    "q2-option3": "秋千",
    "meeting_place": "长廊",
}


async def _open(client: Client, need_id: int, **changes: str) -> int:
    fields = {
        **PLAYGROUND,
        "subject": f"need-{need_id}",
        "opens_at": local(),
        "closes_at": local(timedelta(days=7)),
        "meeting_at": local(timedelta(days=3)),
        **changes,
    }
    opened = await submit(client, f"/steward/c/{C}/hearings", "form-hearing", fields)
    assert opened.status_code == 303, opened.text[:2000]
    return int(opened.headers["location"].rsplit("/", 1)[-1])


def _option(html: str, text: str) -> tuple[str, str]:
    """A ballot field's (name, value) for the option `text` as the page renders it."""
    radio = re.search(rf'name="(question-\d+)" type="radio" value="(\d+)"[^>]*> {text}<', html)
    if radio:
        return radio.group(1), radio.group(2)
    box = re.search(rf'name="(question-\d+-\d+)" type="checkbox" value="1"[^>]*> {text}<', html)
    assert box, text
    return box.group(1), "1"


def _ballot(html: str, *texts: str) -> dict[str, str | bool]:
    return dict(_option(html, text) for text in texts)


async def test_a_hearing_opened_voted_changed_and_closed(client: Client) -> None:
    _, codes, need_id = await _community(client)
    first = await steward(C, "a@example.cn", client)
    await _as(client, int(first.id or 0))
    refused = await submit(
        client,
        f"/steward/c/{C}/hearings",
        "form-hearing",
        {
            "subject": f"need-{need_id}",
            "title": "",
            "opens_at": local(timedelta(days=2)),
            "closes_at": local(timedelta(days=1)),
            "q1-text": "选址",
            "q1-option1": "2号楼架空层",
        },
    )
    assert_form_refused(
        refused,
        "请填写听证会的标题",
        "截止时间须晚于开始时间",
        "每个问题至少要有 2 个选项",
        status=422,
    )
    assert 'id="e-hearing-q1-text"' in refused.text  # beside the question's slot
    assert await in_app(client, Hearing.count) == 0
    hearing_id = await _open(client, need_id)
    page = await client.get(f"/hearings/{hearing_id}")
    assert "投票中" in page.text
    assert "长廊" in page.text
    # the household enters its code from the hearing's page and comes back to it
    log_out(client)
    client.cookies.delete(HOUSEHOLD_COOKIE)
    page = await client.get(f"/hearings/{hearing_id}")
    link = re.search(r'href="([^"]+)" data-testid="enter-code-link"', page.text)
    assert link
    entered = await submit(client, link.group(1), f"/c/{C}/household", {"code": codes[1]})
    assert entered.headers["location"] == f"/hearings/{hearing_id}"
    assert f'data-testid="hearing-{hearing_id}"' in (await client.get("/household")).text
    page = await client.get(f"/hearings/{hearing_id}")
    too_many = await submit_shown(
        client,
        page.text,
        "form-vote",
        _ballot(page.text, "2号楼架空层", "跷跷板", "转转椅", "秋千"),
        page=f"/hearings/{hearing_id}",
    )
    assert_form_refused(too_many, "选得太多：请看本题最多可选几项", status=422)
    assert re.search(r'<p class="field-error" id="e-vote-question-\d+">选得太多', too_many.text)
    none = await submit_shown(client, page.text, "form-vote", page=f"/hearings/{hearing_id}")
    assert_form_refused(none, "请选择答案", status=422)
    voted = await submit_shown(
        client,
        page.text,
        "form-vote",
        _ballot(page.text, "小区东门空地", "秋千"),
        page=f"/hearings/{hearing_id}",
    )
    assert voted.status_code == 303
    page = await client.get(f"/hearings/{hearing_id}")
    assert 'data-testid="voted"' in page.text
    assert "修改我家的投票" in page.text
    changed = await submit_shown(
        client,
        page.text,
        "form-vote",
        _ballot(page.text, "2号楼架空层", "跷跷板", "秋千"),
        page=f"/hearings/{hearing_id}",
    )
    assert changed.status_code == 303
    assert await in_app(client, Ballot.count) == 1
    # nothing counted shows while open, here or in the API
    assert 'data-testid="hearing-results"' not in page.text
    api = (await client.get(f"/api/v1/hearings/{hearing_id}")).json()
    assert api["results"] is None
    assert all("votes" not in o for q in api["questions"] for o in q["options"])
    listed = (await client.get(f"/api/v1/communities/{C}/hearings")).json()
    assert [h["id"] for h in listed] == [hearing_id]
    assert listed[0]["results"] is None
    # the close: the page shows the counts, the turnout and the frozen time
    await window_passes(hearing_id, client)
    page = await client.get(f"/hearings/{hearing_id}")
    assert 'data-testid="hearing-results"' in page.text
    assert 'data-testid="ballots">1<' in page.text
    assert 'data-testid="households">10<' in page.text
    assert 'data-testid="turnout">10%<' in page.text
    assert "form-vote" not in page.text
    api = (await client.get(f"/api/v1/hearings/{hearing_id}")).json()
    assert api["state"] == "closed"
    assert api["results"]["ballots"] == 1
    assert api["results"]["turnout_percent"] == 10
    votes = {o["text"]: o["votes"] for q in api["questions"] for o in q["options"]}
    assert votes == {"2号楼架空层": 1, "小区东门空地": 0, "跷跷板": 1, "转转椅": 0, "秋千": 1}
    assert (await client.get("/api/v1/hearings/999999")).status_code == 404
    # the community and the need's pages list it
    assert f'data-testid="hearing-{hearing_id}"' in (await client.get(f"/c/{C}")).text
    assert f'data-testid="hearing-{hearing_id}"' in (await client.get(f"/needs/{need_id}")).text


async def test_paper_ballots_confirmed_by_a_second_steward_and_never_both(client: Client) -> None:
    _, codes, need_id = await _community(client)
    first = await steward(C, "a@example.cn", client)
    second = await steward(C, "b@example.cn", client)
    await _as(client, int(first.id or 0))
    hearing_id = await _open(client, need_id)
    paper_page = f"/steward/c/{C}/hearings/{hearing_id}"
    assert 'data-testid="steward-hearings"' in (await client.get(f"/steward/c/{C}")).text
    page = await client.get(paper_page)
    nowhere = await submit_shown(
        client,
        page.text,
        "form-paper",
        {"building": "9", "room": "909", **_ballot(page.text, "2号楼架空层", "跷跷板")},
        page=paper_page,
    )
    assert_form_refused(nowhere, "本小区没有这个门牌的住户", status=422)
    recorded = await submit_shown(
        client,
        page.text,
        "form-paper",
        {
            "building": "1",
            "unit": "1",
            "room": "102",
            **_ballot(page.text, "2号楼架空层", "跷跷板"),
        },
        page=paper_page,
    )
    assert recorded.status_code == 303
    page = await client.get(paper_page)
    assert "等待另一位居民代表" in page.text
    assert "confirm-paper-ballot" not in page.text  # the recorder cannot confirm
    # the household on paper cannot vote online
    await _as_household(client, codes[1])
    hearing = await client.get(f"/hearings/{hearing_id}")
    assert "居民代表已为您家登记纸质选票" in hearing.text
    assert "form-vote" not in hearing.text
    # a household that voted online cannot be recorded on paper
    await _as_household(client, codes[2])
    hearing = await client.get(f"/hearings/{hearing_id}")
    online = await submit_shown(
        client,
        hearing.text,
        "form-vote",
        _ballot(hearing.text, "小区东门空地", "秋千"),
        page=f"/hearings/{hearing_id}",
    )
    assert online.status_code == 303
    await _as(client, int(second.id or 0))
    page = await client.get(paper_page)
    refused = await submit_shown(
        client,
        page.text,
        "form-paper",
        {"building": "1", "unit": "1", "room": "103", **_ballot(page.text, "2号楼架空层", "秋千")},
        page=paper_page,
    )
    assert_form_refused(refused, "这户已经在网上投票", status=409)
    # the second steward confirms through the confirmation page
    paper = await in_app(client, lambda: Ballot.select(Ballot.id).where(Ballot.channel == "paper"))
    ballot_id = paper[0]["id"]
    shown = await submit(client, paper_page, f"form-confirm-{ballot_id}")
    assert shown.status_code == 200
    assert "确认 1-1-102 的纸质选票？" in shown.text
    assert "跷跷板" not in shown.text  # what the household chose is not shown
    confirmed = await confirm_shown(client, shown, page=paper_page)
    assert confirmed.status_code == 303
    assert "已确认" in (await client.get(paper_page, follow_redirects=True)).text
    await window_passes(hearing_id, client)
    page = await client.get(f"/hearings/{hearing_id}")
    assert 'data-testid="ballots">2<' in page.text
    assert "网上：1 · 纸质（经两位居民代表确认）：1" in page.text
    # a stranger is not a steward
    log_out(client)
    assert (await client.get(paper_page, follow_redirects=False)).status_code == 303


async def test_the_secretary_cancels_a_hearing_not_yet_open(client: Client) -> None:
    secretary, _, need_id = await _community(client)
    first = await steward(C, "a@example.cn", client)
    await _as(client, int(first.id or 0))
    later = await _open(
        client, need_id, opens_at=local(timedelta(days=1)), closes_at=local(timedelta(days=2))
    )
    page = await client.get(f"/hearings/{later}")
    assert "尚未开始" in page.text
    assert 'data-testid="opens-at-note"' in page.text
    now = await _open(client, need_id)
    await _as(client, secretary)
    workbench = f"/secretary/c/{C}/hearings"
    listed = await client.get(workbench)
    assert f"form-cancel-{later}" in listed.text
    assert f"form-cancel-{now}" not in listed.text
    shown = await submit(client, workbench, f"form-cancel-{later}")
    assert shown.status_code == 200
    assert "取消听证会“游乐场听证会”？" in shown.text
    cancelled = await confirm_shown(client, shown, page=workbench)
    assert cancelled.status_code == 303
    assert [r["id"] for r in await in_app(client, lambda: Hearing.select(Hearing.id))] == [now]
    assert (await client.get(f"/hearings/{later}")).status_code == 404
