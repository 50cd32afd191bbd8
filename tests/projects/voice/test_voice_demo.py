"""The demo's residents' voice: 绿景苑's households, the playground need its households supported
(accepted: the project 童趣乐园 names it) and an open need, on the pages and in the API."""

from __future__ import annotations

from typing import Any

import pytest

from linju.projects.voice.tables import Household, Need

pytestmark = pytest.mark.usefixtures("demo")


async def test_the_playground_began_as_a_need(client: Any) -> None:
    assert await Household.count() == 120
    needs = await Need.select(Need.id, Need.status, Need.title).order_by(Need.id)
    assert [(n["id"], n["status"]) for n in needs] == [(1, "accepted"), (2, "open")]
    project = await client.get("/p/tongqu-leyuan")
    assert "源自居民需求 #1（6 户支持）" in project.text
    assert 'href="/needs/1"' in project.text
    community = await client.get("/c/lvjingyuan")
    assert 'data-testid="need-1"' in community.text
    assert 'data-testid="need-2"' in community.text
    assert "东门加装休息长椅" in community.text
    need = (await client.get("/api/v1/needs/1")).json()
    assert (need["status"], need["supports"], need["project"]) == ("accepted", 6, "tongqu-leyuan")
    listed = (await client.get("/api/v1/communities/lvjingyuan/needs")).json()
    assert [(n["id"], n["status"], n["supports"], n["threshold"]) for n in listed] == [
        (2, "open", 3, 6),
        (1, "accepted", 6, 6),
    ]
    await client.get("/lang/en?next=/")
    english = await client.get("/p/tongqu-leyuan")
    assert "need #1 (6 households support it)" in english.text  # From residents' need …


async def test_the_hearing_chose_the_stilt_floor_and_its_minutes_are_signed(client: Any) -> None:
    [hearing] = (await client.get("/api/v1/communities/lvjingyuan/hearings")).json()
    assert hearing["state"] == "closed"
    assert hearing["need"] == 1
    results = hearing["results"]
    assert (results["ballots"], results["households"], results["online"], results["paper"]) == (
        80,
        120,
        70,
        10,
    )
    votes = {o["text"]: o["votes"] for q in hearing["questions"] for o in q["options"]}
    assert votes == {"2号楼架空层": 54, "小区东门空地": 26, "跷跷板": 61, "转转椅": 56, "秋千": 34}
    minutes = hearing["minutes"]
    assert [s["name"] for s in minutes["signed_by"]] == ["王阿姨", "李师傅"]
    assert (
        minutes["decisions"] == "选址：2号楼架空层（54 户）\n设施：跷跷板（61 户）、转转椅（56 户）"
    )
    assert minutes["log_size"] > 0  # the donations before it, integrated into the log
    assert minutes["log_checkpoint"].split("\n")[1] == str(minutes["log_size"])
    page = (await client.get(f"/hearings/{hearing['id']}")).text
    assert 'data-testid="minutes-anchor"' in page
    assert "长廊议事会在2号楼架空层召开" in page
    project = (await client.get("/p/tongqu-leyuan")).text
    assert f'href="/hearings/{hearing["id"]}" data-testid="origin-hearing"' in project
