"""The hearing's result carried into the draft (ADR 0034): the secretary accepts a need whose
hearing closed, and the draft's story starts from what the households chose (site, equipment),
linking to the hearing; the draft's line "源自居民需求 #N" links the hearing too."""

from __future__ import annotations

from typing import Any

from linju.projects.core.tables import Project
from linju.projects.voice.rules import NeedText
from linju.projects.voice.services import needs
from tests.accounts_support import in_app, log_in, make_account
from tests.forms import confirm_shown, submit
from tests.projects.voice.minutes_support import closed_hearing
from tests.projects.voice.voice_support import community_with_households, household, steward

C = "yuanzi"


async def test_the_draft_carries_the_hearing_result(client: Any) -> None:
    ids = await community_with_households(count=10, client=client)
    secretary = await make_account("sec@x.cn", "secretary", community=C, client=client)
    first = await steward(C, "a@example.cn", client)
    phone = await household(C, ids[9], client)
    need_id = await in_app(
        client, lambda: needs.post_need(phone, NeedText("儿童游乐场", "孩子们没有玩的地方", "小区"))
    )
    assert await in_app(client, lambda: needs.support(phone, need_id))  # under review
    hearing_id = await closed_hearing(first, C, ids, need_id=need_id, client=client)
    await log_in(client, secretary)
    workbench = f"/secretary/c/{C}/needs"
    shown = await submit(client, workbench, f"form-accept-{need_id}", {"goal": "12000"})
    accepted = await confirm_shown(client, shown, page=workbench)
    assert accepted.status_code == 303
    slug = accepted.headers["location"].split("/")[2]
    [project] = await in_app(
        client, lambda: Project.select(Project.story).where(Project.slug == slug)
    )
    assert project["story"] == (
        "孩子们没有玩的地方\n\n小区\n\n"
        f"听证会 [游乐场听证会](/hearings/{hearing_id}) 的结果：\n\n"
        "- 选址：2号楼架空层（3 户）\n- 设施：跷跷板（3 户）、转转椅（3 户）"
    )
    preview = (await client.get(f"/p/{slug}/preview")).text
    assert f'<a href="/hearings/{hearing_id}" rel="nofollow noopener">游乐场听证会</a>' in preview
    assert "选址：2号楼架空层（3 户）" in preview
    assert f'href="/hearings/{hearing_id}" data-testid="origin-hearing"' in preview


async def test_without_a_closed_hearing_the_story_is_the_need(client: Any) -> None:
    ids = await community_with_households(count=10, client=client)
    secretary = await make_account("sec@x.cn", "secretary", community=C, client=client)
    phone = await household(C, ids[9], client)
    need_id = await in_app(client, lambda: needs.post_need(phone, NeedText("长椅", "休息", "")))
    await in_app(client, lambda: needs.support(phone, need_id))
    await log_in(client, secretary)
    workbench = f"/secretary/c/{C}/needs"
    shown = await submit(client, workbench, f"form-accept-{need_id}", {"goal": "100"})
    slug = (await confirm_shown(client, shown, page=workbench)).headers["location"].split("/")[2]
    [project] = await in_app(
        client, lambda: Project.select(Project.story).where(Project.slug == slug)
    )
    assert project["story"] == "休息"
    assert 'data-testid="origin-hearing"' not in (await client.get(f"/p/{slug}/preview")).text
