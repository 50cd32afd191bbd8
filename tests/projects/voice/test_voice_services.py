"""Residents' voice through its services, on both engines: households and codes, throttling,
sessions, needs and every state they move through or refuse, supports online and on paper."""

from __future__ import annotations

import pytest

from linju.platform.accounts.audit import COMMAND_LINE, Actor
from linju.platform.accounts.tables import SentMail
from linju.platform.jobs.worker import drain_jobs
from linju.platform.kernel.errors import Conflict, NotFound, RuleViolation, ValidationErrors
from linju.projects.core.tables import Project
from linju.projects.voice import rules
from linju.projects.voice.rules import HouseholdAddress, NeedStatus, NeedText
from linju.projects.voice.services import households, needs
from linju.projects.voice.services.households import CodeThrottled, CsvRefused
from linju.projects.voice.tables import (
    CodeAttempt,
    Household,
    HouseholdSession,
    Need,
    Support,
)
from tests.accounts_support import make_account
from tests.projects.voice.voice_support import community_with_households, household, steward

pytestmark = pytest.mark.usefixtures("db")
C = "yuanzi"
NEED = NeedText("儿童游乐场", "孩子们没有玩的地方", "2号楼架空层")


async def status(need_id: int) -> str:
    row = await Need.select(Need.status).where(Need.id == need_id).first()
    assert row is not None
    return str(row["status"])


# Households and codes -----------------------------------------------------------------------


async def test_a_csv_with_one_bad_line_writes_nothing_and_names_every_line() -> None:
    await community_with_households(count=2)
    text = "building,unit,room\n2,1,301\n2,,\n1,1,101\n2,1,301\n"
    with pytest.raises(CsvRefused) as refused:
        await households.import_households(COMMAND_LINE, C, text)
    assert [(p.line, p.message) for p in refused.value.lines] == [
        (3, "Enter the room: up to 16 letters or digits"),
        (5, "This household is listed twice"),
    ]
    with pytest.raises(CsvRefused) as taken:
        await households.import_households(COMMAND_LINE, C, "building,unit,room\n9,1,1\n1,1,101\n")
    assert [(p.line, p.message) for p in taken.value.lines] == [
        (3, "This household is registered already")
    ]
    assert await Household.count() == 2


async def test_one_by_one_and_the_address_is_unique() -> None:
    await community_with_households(count=1)
    new = await households.register_household(COMMAND_LINE, C, HouseholdAddress("3", "", "201"))
    assert new > 0
    with pytest.raises(ValidationErrors) as again:
        await households.register_household(COMMAND_LINE, C, HouseholdAddress("3", "", "201"))
    assert again.value.problems == {"room": "This household is registered already"}
    with pytest.raises(ValidationErrors):
        await households.register_household(COMMAND_LINE, C, HouseholdAddress("", "", "1"))


async def test_only_the_codes_hash_is_stored_and_it_opens_sessions() -> None:
    [first, *_] = await community_with_households(count=3)
    [(row, code)] = await households.issue_codes(COMMAND_LINE, C, [first])
    assert row["label"] == "1-1-101"
    stored = await Household.select(Household.code_hash).where(Household.id == first).first()
    assert stored is not None
    assert stored["code_hash"] == rules.code_digest(code)
    assert code not in str(await Household.select())
    phone_a = await households.enter_code(C, rules.grouped_code(code).lower(), "10.0.0.1")
    phone_b = await households.enter_code(C, code, "10.0.0.2")
    for token in (phone_a, phone_b):
        view = await households.household_for_token(token)
        assert view is not None
        assert view.id == first
        assert view.label == "1-1-101"
    sessions = await HouseholdSession.select(HouseholdSession.token_hash)
    assert {s["token_hash"] for s in sessions} == {
        households.token_digest(phone_a),
        households.token_digest(phone_b),
    }


async def test_reissuing_ends_every_session_and_the_old_code() -> None:
    [first, second, *_] = await community_with_households(count=3)
    [(_, old)] = await households.issue_codes(COMMAND_LINE, C, [first])
    [(_, other)] = await households.issue_codes(COMMAND_LINE, C, [second])
    token = await households.enter_code(C, old, "10.0.0.1")
    kept = await households.enter_code(C, other, "10.0.0.1")
    [(_, new)] = await households.issue_codes(COMMAND_LINE, C, [first])
    assert await households.household_for_token(token) is None
    assert await households.household_for_token(kept) is not None
    with pytest.raises(ValidationErrors):
        await households.enter_code(C, old, "10.0.0.1")
    assert await households.household_for_token(await households.enter_code(C, new, "10.0.0.1"))


async def test_codes_of_another_community_are_refused() -> None:
    [first] = await community_with_households(count=1)
    await community_with_households("qita", count=1)
    [(_, code)] = await households.issue_codes(COMMAND_LINE, C, [first])
    with pytest.raises(ValidationErrors):
        await households.enter_code("qita", code, "10.0.0.1")
    with pytest.raises(NotFound):
        await households.issue_codes(COMMAND_LINE, "qita", [first])


async def test_guessing_is_throttled_per_address_then_per_community() -> None:
    [first] = await community_with_households(count=1)
    [(_, code)] = await households.issue_codes(COMMAND_LINE, C, [first])
    for _ in range(rules.MAX_CODE_FAILURES_PER_ADDRESS):
        with pytest.raises(ValidationErrors):
            await households.enter_code(C, "WRONGWRONG22", "10.0.0.9")
    with pytest.raises(CodeThrottled) as throttled:
        await households.enter_code(C, code, "10.0.0.9")  # even the right code: not checked
    assert throttled.value.status == 429
    assert throttled.value.message == "Too many wrong codes; try again in 15 minutes"
    assert await households.enter_code(C, code, "10.0.0.10")  # another address still may
    for i in range(rules.MAX_CODE_FAILURES_PER_COMMUNITY - rules.MAX_CODE_FAILURES_PER_ADDRESS):
        with pytest.raises(ValidationErrors):
            await households.enter_code(C, "WRONGWRONG22", f"10.1.{i // 5}.{i}")
    with pytest.raises(CodeThrottled):
        await households.enter_code(C, code, "10.2.0.1")
    assert await CodeAttempt.count() == rules.MAX_CODE_FAILURES_PER_COMMUNITY + 1


# Needs and supports -------------------------------------------------------------------------


async def test_supports_reach_the_threshold_and_the_secretary_is_told() -> None:
    ids = await community_with_households(count=40)  # 5% of 40: 2 supports
    await make_account("sec@example.cn", "secretary", community=C)
    author = await household(C, ids[0])
    need_id = await needs.post_need(author, NEED)
    assert await status(need_id) == "open"
    assert not await needs.support(author, need_id)
    with pytest.raises(Conflict) as twice:
        await needs.support(author, need_id)
    assert twice.value.message == "Your household supports this need already"
    await needs.withdraw_support(author, need_id)
    assert not await needs.support(author, need_id)
    assert await needs.support(await household(C, ids[1]), need_id)
    assert await status(need_id) == "under_review"
    await drain_jobs()
    sent = await SentMail.select(SentMail.recipient, SentMail.subject)
    subject = f"居民需求 #{need_id} 等待您的答复 / Residents' need #{need_id} awaits your answer"
    assert sent == [{"recipient": "sec@example.cn", "subject": subject}]  # Chinese, then English
    with pytest.raises(RuleViolation) as late:
        await needs.support(await household(C, ids[2]), need_id)
    assert late.value.message == "This need no longer takes supports"
    with pytest.raises(RuleViolation) as kept:
        await needs.withdraw_support(author, need_id)
    assert kept.value.message == "A support can be withdrawn only while the need is open"


async def test_accepting_drafts_a_linked_project_and_declining_needs_a_reason() -> None:
    ids = await community_with_households(count=10)
    first = await household(C, ids[0])
    accepted = await needs.post_need(first, NEED)
    declined = await needs.post_need(first, NeedText("停车位", "车太多", ""))
    secretary = Actor(id=None, label="cli")
    with pytest.raises(RuleViolation) as early:
        await needs.accept_need(secretary, C, accepted, 100_000)
    assert early.value.message == "Only a need under review can be answered"
    await needs.support(first, accepted)
    await needs.support(first, declined)
    slug = await needs.accept_need(secretary, C, accepted, 100_000)
    project = await Project.select().where(Project.slug == slug).first()
    assert project is not None
    assert project["status"] == "draft"
    assert project["title"] == "儿童游乐场"
    assert "2号楼架空层" in project["story"]
    assert await needs.project_slug_of(accepted) == slug
    assert await status(accepted) == "accepted"
    with pytest.raises(RuleViolation):
        await needs.decline_need(secretary, C, accepted, "不行")
    with pytest.raises(ValidationErrors):
        await needs.decline_need(secretary, C, declined, "  ")
    with pytest.raises(NotFound):
        await needs.decline_need(secretary, "qita", declined, "不在这个小区")
    with pytest.raises(ValidationErrors):
        await needs.accept_need(secretary, C, declined, 0)
    await needs.decline_need(secretary, C, declined, "小区没有空地")
    row = await Need.select(Need.status, Need.decline_reason).where(Need.id == declined).first()
    assert row == {"status": "declined", "decline_reason": "小区没有空地"}
    with pytest.raises(RuleViolation):
        await needs.withdraw_need(first, declined)


async def test_only_the_author_withdraws_a_need() -> None:
    ids = await community_with_households(count=100)
    author = await household(C, ids[0])
    other = await household(C, ids[1])
    need_id = await needs.post_need(author, NEED)
    with pytest.raises(RuleViolation):
        await needs.withdraw_need(other, need_id)
    await needs.withdraw_need(author, need_id)
    assert await status(need_id) == "withdrawn"
    with pytest.raises(RuleViolation):
        await needs.support(other, need_id)


async def test_a_bad_need_is_refused_beside_its_fields() -> None:
    ids = await community_with_households(count=3)
    with pytest.raises(ValidationErrors) as refused:
        await needs.post_need(await household(C, ids[0]), NeedText("", "", ""))
    assert set(refused.value.problems) == {"title", "body"}
    assert await Need.count() == 0


async def test_paper_supports_count_once_a_second_steward_confirms() -> None:
    ids = await community_with_households(count=100)
    first, second = await steward(C, "s1@example.cn"), await steward(C, "s2@example.cn")
    online = await household(C, ids[0])
    heard = await needs.post_heard_need(first, C, NEED)
    row = await Need.select(Need.heard_by, Need.author_household).where(Need.id == heard).first()
    assert row == {"heard_by": first.id, "author_household": None}
    with pytest.raises(needs.NotSteward):
        await needs.post_heard_need(Actor(id=None, label="cli"), C, NEED)
    paper = await needs.record_paper_support(first, heard, HouseholdAddress("1", "1", "102"))
    assert await needs.counted_supports(heard) == 0
    with pytest.raises(RuleViolation) as self_confirmed:
        await needs.confirm_paper_support(first, paper)
    assert self_confirmed.value.message == "Someone other than the recorder must confirm it"
    assert not await needs.confirm_paper_support(second, paper)
    assert await needs.counted_supports(heard) == 1
    with pytest.raises(Conflict):
        await needs.confirm_paper_support(second, paper)
    # paper and online never both, either way round
    paper_household = await household(C, ids[1])
    with pytest.raises(Conflict) as on_paper:
        await needs.support(paper_household, heard)
    assert on_paper.value.message == "Your household's support was recorded on paper already"
    await needs.support(online, heard)
    with pytest.raises(Conflict) as already_online:
        await needs.record_paper_support(second, heard, HouseholdAddress("1", "1", "101"))
    assert already_online.value.message == "This household supports the need online already"
    assert await status(heard) == "open"  # 2 of 100 households: under the threshold
    with pytest.raises(ValidationErrors):
        await needs.record_paper_support(first, heard, HouseholdAddress("9", "9", "9"))
    assert await Support.count() == 2


async def test_settings_set_the_threshold() -> None:
    ids = await community_with_households(count=10)
    with pytest.raises(ValidationErrors):
        await needs.save_settings(COMMAND_LINE, C, 0, 14)
    await needs.save_settings(COMMAND_LINE, C, 30, 7)
    need_id = await needs.post_need(await household(C, ids[0]), NEED)
    for i in range(2):
        assert not await needs.support(await household(C, ids[i]), need_id)
    assert await needs.support(await household(C, ids[2]), need_id)
    row = await Need.select(Need.status).where(Need.id == need_id).first()
    assert row == {"status": NeedStatus.UNDER_REVIEW.value}
