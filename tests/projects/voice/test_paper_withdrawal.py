"""A steward takes back a paper support: unconfirmed, only the steward who recorded it; once
confirmed, either of the two stewards, through a confirmation page, and only while the need is
open; every withdrawal audited. Through the service and through the steward's page as it renders
its forms."""

from __future__ import annotations

import json
from typing import Any

import pytest

from linju.platform.accounts.audit import COMMAND_LINE
from linju.platform.accounts.tables import AuditRecord
from linju.platform.kernel.errors import NotFound, RuleViolation
from linju.projects.voice.rules import HouseholdAddress, NeedStatus, NeedText
from linju.projects.voice.services import needs
from linju.projects.voice.tables import Need, Support
from tests.accounts_support import in_app, log_in
from tests.forms import assert_form_refused, confirm_shown, find_form, submit, submit_shown
from tests.projects.voice.voice_support import community_with_households, steward

C = "yuanzi"
A101 = HouseholdAddress("1", "1", "101")


async def _heard_need(first: Any, client: Any = None) -> int:
    return await in_app(
        client,
        lambda: needs.post_heard_need(first, C, NeedText("长椅", "老人需要休息的地方", "")),
    )


async def _withdrawals(client: Any = None) -> list[dict[str, Any]]:
    return list(
        await in_app(
            client,
            lambda: AuditRecord.select(AuditRecord.actor_id, AuditRecord.before).where(
                AuditRecord.action == "voice.support.paper_withdraw"
            ),
        )
    )


@pytest.mark.usefixtures("db")
async def test_who_may_withdraw_and_when() -> None:
    await community_with_households(count=100)
    first = await steward(C, "wang@x.cn")
    second = await steward(C, "li@x.cn")
    third = await steward(C, "zhao@x.cn")
    need_id = await _heard_need(first)
    support_id = await needs.record_paper_support(first, need_id, A101)
    with pytest.raises(RuleViolation, match="Only the steward who recorded it"):
        await needs.withdraw_paper_support(second, support_id)
    with pytest.raises(NotFound):
        await needs.withdraw_paper_support(COMMAND_LINE, 99999)
    await needs.withdraw_paper_support(first, support_id)  # a mistake, taken back
    assert await Support.count() == 0
    # recorded again, confirmed: either of the two may take it back, a third steward may not
    support_id = await needs.record_paper_support(first, need_id, A101)
    await needs.confirm_paper_support(second, support_id)
    assert await needs.counted_supports(need_id) == 1
    with pytest.raises(RuleViolation, match="Only the two stewards"):
        await needs.withdraw_paper_support(third, support_id)
    await needs.withdraw_paper_support(second, support_id)
    assert await needs.counted_supports(need_id) == 0
    withdrawals = await _withdrawals()
    assert [w["actor_id"] for w in withdrawals] == [first.id, second.id]
    assert json.loads(withdrawals[1]["before"])["household"] == "1-1-101"
    assert json.loads(withdrawals[1]["before"])["confirmed_by"] == second.id
    # once the need is under review, a confirmed paper support stays
    support_id = await needs.record_paper_support(first, need_id, A101)
    await needs.confirm_paper_support(second, support_id)
    await Need.update({Need.status: NeedStatus.UNDER_REVIEW.value}).where(Need.id == need_id)
    with pytest.raises(RuleViolation, match="only while the need is open"):
        await needs.withdraw_paper_support(first, support_id)
    # an unconfirmed one may still be taken back by its recorder while under review
    other = await needs.record_paper_support(
        first, await _heard_need(first), HouseholdAddress("1", "1", "102")
    )
    await needs.withdraw_paper_support(first, other)
    assert await Support.count() == 1


async def test_withdrawn_on_the_steward_page(client: Any) -> None:
    await community_with_households(count=100, client=client)
    first = await steward(C, "wang@x.cn", client)
    second = await steward(C, "li@x.cn", client)
    need_id = await _heard_need(first, client)
    page = f"/steward/c/{C}"
    await log_in(client, int(first.id or 0))
    recorded = await submit(
        client,
        page,
        "form-paper",
        {"need": str(need_id), "building": "1", "unit": "1", "room": "101"},
    )
    assert recorded.status_code == 303
    [paper] = await in_app(client, lambda: Support.select(Support.id))
    sid = paper["id"]
    # the recorder withdraws an unconfirmed record at once (no confirmation page)
    withdrawn = await submit(client, page, f"form-withdraw-{sid}")
    assert withdrawn.status_code == 303
    assert await in_app(client, Support.count) == 0
    await submit(
        client,
        page,
        "form-paper",
        {"need": str(need_id), "building": "1", "unit": "1", "room": "101"},
    )
    [paper] = await in_app(client, lambda: Support.select(Support.id))
    sid = paper["id"]
    await log_in(client, int(second.id or 0))
    assert f'id="form-withdraw-{sid}"' not in (await client.get(page)).text  # not theirs yet
    assert (await submit(client, page, f"form-confirm-{sid}")).status_code == 303
    # confirmed: the confirming steward withdraws it through the confirmation page
    shown = await submit(client, page, f"form-withdraw-{sid}")
    assert shown.status_code == 200
    assert "撤回 1-1-101 的纸质支持？" in shown.text
    assert "已由两位居民代表确认" in shown.text
    find_form(shown.text, f"/steward/c/{C}/paper/{sid}/withdraw")
    assert await in_app(client, Support.count) == 1  # nothing done before the confirmation
    done = await confirm_shown(client, shown, page=page)
    assert done.status_code == 303
    assert await in_app(client, Support.count) == 0
    assert 'data-testid="supports">0<' in (await client.get(f"/needs/{need_id}")).text
    assert len(await _withdrawals(client)) == 2


async def test_a_confirmed_support_stays_once_the_need_is_under_review(client: Any) -> None:
    await community_with_households(count=100, client=client)
    first = await steward(C, "wang@x.cn", client)
    second = await steward(C, "li@x.cn", client)
    need_id = await _heard_need(first, client)
    sid = await in_app(client, lambda: needs.record_paper_support(first, need_id, A101))
    await in_app(client, lambda: needs.confirm_paper_support(second, sid))
    page = f"/steward/c/{C}"
    await log_in(client, int(first.id or 0))
    form_page = await client.get(page)
    assert f'id="form-withdraw-{sid}"' in form_page.text
    # the need goes to review while the steward looks at the page: the form is refused
    await in_app(
        client,
        lambda: Need.update({Need.status: NeedStatus.UNDER_REVIEW.value}).where(Need.id == need_id),
    )
    refused = await submit_shown(client, form_page.text, f"form-withdraw-{sid}", page=page)
    assert_form_refused(refused, "已确认的纸质支持只能在需求征集支持期间撤回", status=422)
    assert await in_app(client, Support.count) == 1
    assert f'id="form-withdraw-{sid}"' not in (await client.get(page)).text
