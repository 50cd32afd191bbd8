"""A hearing's minutes over HTTP, every form as its page renders it: a steward drafts them
(decisions prefilled from the tally), refused fields shown beside them; two stewards sign a
need's minutes through confirmation pages; the public page shows them only once signed off;
a project's committee finds the minutes to sign in its inbox (/committee)."""

from __future__ import annotations

from typing import Any

from linju.platform.accounts.audit import COMMAND_LINE
from linju.projects.core.rules import CommitteeRole, CommitteeSeat
from linju.projects.core.services.drafting import create_draft
from linju.projects.core.services.projects import ProjectDraft
from linju.projects.voice.rules import MinutesText, NeedText
from linju.projects.voice.services import minutes, needs
from tests.accounts_support import in_app, log_in, log_out, make_account
from tests.forms import assert_form_refused, confirm_shown, submit
from tests.projects.voice.minutes_support import closed_hearing
from tests.projects.voice.voice_support import community_with_households, household, steward

C = "yuanzi"


async def test_a_need_hearing_minutes_drafted_and_signed_by_two_stewards(client: Any) -> None:
    ids = await community_with_households(count=10, client=client)
    first = await steward(C, "a@example.cn", client)
    second = await steward(C, "b@example.cn", client)
    phone = await household(C, ids[9], client)
    need_id = await in_app(
        client, lambda: needs.post_need(phone, NeedText("儿童游乐场", "孩子们没有玩的地方", ""))
    )
    hearing_id = await closed_hearing(first, C, ids, need_id=need_id, client=client)
    page = f"/hearings/{hearing_id}/minutes/sign"
    public = f"/hearings/{hearing_id}/minutes"
    assert (await client.get(page, follow_redirects=False)).status_code in (302, 303)
    await log_in(client, int(first.id or 0))
    shown = await client.get(page)
    assert "选址：2号楼架空层（3 户）" in shown.text  # prefilled
    refused = await submit(client, page, "form-minutes", {"summary": " ", "decisions": ""})
    assert_form_refused(refused, "请概述会议情况", "请写下会议决定", status=422)
    saved = await submit(
        client, page, "form-minutes", {"summary": "在2号楼架空层开会", "attendees": "12 户"}
    )
    assert saved.status_code == 303
    assert 'data-testid="no-minutes"' in (await client.get(public)).text
    assert (await client.get(f"/api/v1/hearings/{hearing_id}")).json()["minutes"] is None
    asked = await submit(client, page, "form-signoff")
    assert "签署「游乐场听证会」的会议纪要？" in asked.text
    signed = await confirm_shown(client, asked, page=page)
    assert signed.status_code == 303
    after = (await client.get(page)).text
    assert 'data-testid="signed-by-me"' in after
    assert 'id="form-minutes"' not in after  # no longer editable
    await log_in(client, int(second.id or 0))
    asked = await submit(client, page, "form-signoff")
    assert 'data-testid="confirm-last"' in asked.text
    done = await confirm_shown(client, asked, page=page)
    assert done.headers["location"] == public
    log_out(client)
    shown = (await client.get(public)).text
    assert "在2号楼架空层开会" in shown
    assert 'data-testid="minutes-anchor"' in shown
    assert "设施：跷跷板（3 户）、转转椅（3 户）" in shown
    api = (await client.get(f"/api/v1/hearings/{hearing_id}")).json()["minutes"]
    assert api["summary"] == "在2号楼架空层开会"
    assert api["decisions"].startswith("选址：2号楼架空层（3 户）")
    assert [s["name"] for s in api["signed_by"]] == ["a", "b"]
    assert api["log_checkpoint"].split("\n")[1] == str(api["log_size"])
    assert api["project_head"] is None
    on_hearing = (await client.get(f"/hearings/{hearing_id}")).text
    assert 'data-testid="minutes-summary"><p>在2号楼架空层开会</p>' in on_hearing
    client.cookies.set("linju_lang", "en")
    assert "Signed off by" in (await client.get(public)).text
    # a resident who is no steward is refused the staff page
    other = await make_account("x@example.cn", "secretary", community=C, client=client)
    await log_in(client, other)
    assert (await client.get(page)).status_code == 403


async def test_a_committee_member_signs_from_the_inbox(client: Any) -> None:
    ids = await community_with_households(count=10, client=client)
    first = await steward(C, "a@example.cn", client)
    seats = [
        CommitteeSeat(n, CommitteeRole.CHAIR if n == "张" else CommitteeRole.MEMBER, "居民")
        for n in ("张", "王", "李")
    ]
    draft = ProjectDraft(
        community_slug=C,
        slug="tongqu",
        title="童趣乐园",
        goal_fen=100,
        summary="s",
        story="s",
        committee=seats,
    )
    await in_app(client, lambda: create_draft(COMMAND_LINE, draft))
    zhang = await make_account(
        "z@example.cn", "committee", name="张", project="tongqu", client=client
    )
    hearing_id = await closed_hearing(first, C, ids, project_slug="tongqu", client=client)
    await in_app(
        client,
        lambda: minutes.draft_minutes(
            first, hearing_id, MinutesText("纪要", "", "选址：2号楼架空层")
        ),
    )
    await log_in(client, zhang)
    inbox = (await client.get("/committee")).text
    assert f'href="/hearings/{hearing_id}/minutes/sign"' in inbox
    assert "签署听证会「游乐场听证会」的会议纪要（已签 0 / 需 2）" in inbox
    page = f"/hearings/{hearing_id}/minutes/sign"
    assert 'id="form-minutes"' not in (await client.get(page)).text  # members sign, not draft
    asked = await submit(client, page, "form-signoff")
    assert (await confirm_shown(client, asked, page=page)).status_code == 303
    assert f"/hearings/{hearing_id}/minutes/sign" not in (await client.get("/committee")).text
