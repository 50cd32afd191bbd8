"""A hearing's minutes through their services, on both engines: drafted by a steward once the
hearing closed, decisions prefilled from the frozen tally, editable until the first sign-off;
signed off by two stewards (a need) or the committee's quorum (a draft project); the last
sign-off anchors the log's latest checkpoint and the project's ledger head; then frozen."""

from __future__ import annotations

import pytest

from linju.platform.accounts.audit import COMMAND_LINE
from linju.platform.kernel.errors import Conflict, NotFound, RuleViolation, ValidationErrors
from linju.projects.core.rules import CommitteeRole, CommitteeSeat
from linju.projects.core.services.drafting import create_draft
from linju.projects.core.services.projects import ProjectDraft
from linju.projects.ledger.log.read import checkpoint_text
from linju.projects.ledger.read import find_ledger
from linju.projects.voice import read, rules
from linju.projects.voice.rules import MinutesText, NeedText
from linju.projects.voice.services import minutes, needs
from linju.projects.voice.tables import HearingMinutes, MinutesSignoff
from tests.accounts_support import make_account
from tests.projects.voice.hearing_support import open_playground_hearing
from tests.projects.voice.minutes_support import closed_hearing
from tests.projects.voice.voice_support import community_with_households, household, steward

pytestmark = pytest.mark.usefixtures("db")
C = "yuanzi"
TEXT = MinutesText("居民议事会在2号楼架空层举行。", "王阿姨、李师傅等 12 人", "")


def test_what_the_households_chose() -> None:
    tally = [("2号楼架空层", 3), ("小区东门空地", 1)]
    assert rules.chosen_options("single", 1, tally) == [("2号楼架空层", 3)]
    assert rules.chosen_options("single", 1, [("a", 2), ("b", 2)]) == [("a", 2), ("b", 2)]
    equipment = [("跷跷板", 3), ("转转椅", 3), ("秋千", 1)]
    assert rules.chosen_options("multiple", 2, equipment) == [("跷跷板", 3), ("转转椅", 3)]
    assert rules.chosen_options("multiple", 2, [("a", 0), ("b", 0)]) == []
    assert rules.signers_needed(False, 0) == 2
    assert rules.signers_needed(True, 3) == 2
    assert rules.signers_needed(True, 5) == 3
    assert rules.minutes_problems(MinutesText("", "", "")) == {
        "summary": "Summarise the meeting",
        "decisions": "Write down the decisions",
    }


async def test_a_need_hearing_minutes_drafted_signed_by_two_stewards_anchored_and_frozen() -> None:
    ids = await community_with_households(count=10)
    first = await steward(C, "a@example.cn")
    second = await steward(C, "b@example.cn")
    need_id = await needs.post_need(await household(C, ids[9]), NeedText("游乐场", "孩子", ""))
    # not before the close
    open_one = await open_playground_hearing(first, C, need_id)
    with pytest.raises(RuleViolation, match="once the hearing has closed"):
        await minutes.draft_minutes(first, open_one, MinutesText("s", "", "d"))
    hearing_id = await closed_hearing(first, C, ids, need_id=need_id)
    prefilled = await minutes.prefilled_decisions(hearing_id)
    assert prefilled == "选址：2号楼架空层（3 户）\n设施：跷跷板（3 户）、转转椅（3 户）"
    with pytest.raises(ValidationErrors):
        await minutes.draft_minutes(first, hearing_id, TEXT)  # no decisions
    with pytest.raises(minutes.NotSigner):
        await minutes.draft_minutes(COMMAND_LINE, hearing_id, MinutesText("s", "", "d"))
    text = MinutesText(TEXT.summary, TEXT.attendees, prefilled)
    await minutes.draft_minutes(first, hearing_id, text)
    await minutes.draft_minutes(second, hearing_id, MinutesText("改过的纪要", "", prefilled))
    assert await HearingMinutes.count() == 1
    assert await read.minutes(hearing_id) is None  # not public before the sign-off
    # the drafter may be one of the two signers
    assert await minutes.sign_minutes(first, hearing_id) is False
    with pytest.raises(Conflict, match="signed these minutes already"):
        await minutes.sign_minutes(first, hearing_id)
    with pytest.raises(Conflict, match="can no longer be changed"):
        await minutes.draft_minutes(second, hearing_id, text)
    with pytest.raises(minutes.NotSigner):
        await minutes.sign_minutes(COMMAND_LINE, hearing_id)
    assert await minutes.sign_minutes(second, hearing_id) is True
    view = await read.minutes(hearing_id)
    assert view is not None
    assert view.summary == "改过的纪要"
    assert [name for name, _ in view.signers] == ["a", "b"]
    # the log's latest checkpoint, signed: its origin line, then the tree size it anchors
    anchored = view.log_checkpoint.split("\n")
    assert anchored[0] == (await checkpoint_text()).split("\n", 1)[0]
    assert anchored[1] == str(view.log_size)
    assert "— " in view.log_checkpoint  # the log's signature line
    assert view.project_head == ""
    # frozen: no edit, no further sign-off
    third = await steward(C, "c@example.cn")
    with pytest.raises(Conflict):
        await minutes.sign_minutes(third, hearing_id)
    with pytest.raises(Conflict):
        await minutes.draft_minutes(third, hearing_id, text)
    assert await MinutesSignoff.count() == 2
    with pytest.raises(NotFound):
        await minutes.sign_minutes(first, 99_999)


async def test_a_project_hearing_is_signed_by_the_committee_quorum_and_anchors_its_head() -> None:
    ids = await community_with_households(count=10)
    first = await steward(C, "a@example.cn")
    seats = [
        CommitteeSeat(name, CommitteeRole.CHAIR if name == "张" else CommitteeRole.MEMBER, "居民")
        for name in ("张", "王", "李", "赵", "钱")
    ]
    await create_draft(
        COMMAND_LINE,
        ProjectDraft(
            community_slug=C,
            slug="tongqu",
            title="童趣乐园",
            goal_fen=100,
            summary="s",
            story="s",
            committee=seats,
        ),
    )
    members = [
        await make_account(f"{i}@example.cn", "committee", name=name, project="tongqu")
        for i, name in enumerate(("张", "王", "李"))
    ]
    hearing_id = await closed_hearing(first, C, ids, project_slug="tongqu")
    await minutes.draft_minutes(
        first, hearing_id, MinutesText("纪要", "", await minutes.prefilled_decisions(hearing_id))
    )
    with pytest.raises(minutes.NotSigner, match="committee"):
        await minutes.sign_minutes(first, hearing_id)  # a steward, not a member
    from linju.platform.accounts.audit import Actor

    zhang, wang, li = (Actor(id=m, label=str(m)) for m in members)
    waiting = await minutes.awaiting_signer(members[0])
    assert [(w["hearing"], w["signed"], w["needed"]) for w in waiting] == [(hearing_id, 0, 3)]
    assert await minutes.sign_minutes(zhang, hearing_id) is False
    assert await minutes.awaiting_signer(members[0]) == []
    assert await minutes.sign_minutes(wang, hearing_id) is False  # 3 of 5 needed
    assert await minutes.sign_minutes(li, hearing_id) is True
    view = await read.minutes(hearing_id)
    assert view is not None
    assert view.project_head == (await find_ledger("tongqu", include_drafts=True)).head_hash
    assert len(view.project_head) == 64
    assert await minutes.awaiting_signer(members[1]) == []
