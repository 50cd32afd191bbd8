"""Residents' voice over HTTP, every form posted as its page renders it: the secretary's
households (CSV import refused line by line, then accepted; cards with codes), a phone entering
its household's code (refused, throttled, accepted), posting and supporting a need, the
secretary's answers through their confirmation pages, the stewards' paper supports, the
community and project pages' sections, and the JSON API (counts only)."""

from __future__ import annotations

import re
from typing import Any

from linju.platform.accounts.audit import COMMAND_LINE
from linju.projects.core.services.communities import create_community
from linju.projects.voice import rules
from linju.projects.voice.services import households as household_service
from linju.projects.voice.services.households import HOUSEHOLD_COOKIE
from linju.projects.voice.tables import Household, HouseholdSession
from tests.accounts_support import in_app, log_in, log_out, make_account
from tests.forms import assert_form_refused, confirm_shown, submit

Client = Any
C = "yuanzi"
CODE = re.compile(r'data-testid="code">([A-Z0-9-]+)<')


async def _setup(client: Client) -> int:
    await in_app(client, lambda: create_community(C, "院子", "测试区"))
    return await make_account("sec@example.cn", "secretary", community=C, client=client)


async def _cards(client: Client) -> list[str]:
    shown = await submit(client, f"/secretary/c/{C}/households", "form-cards-new")
    assert shown.status_code == 200
    assert "确认：生成户码并打印" in shown.text
    printed = await confirm_shown(client, shown, page=f"/secretary/c/{C}/households")
    assert printed.status_code == 200
    return CODE.findall(printed.text)


async def _enter(client: Client, code: str) -> Any:
    return await submit(client, f"/c/{C}/household", f"/c/{C}/household", {"code": code})


async def test_households_from_a_csv_then_cards_and_codes(client: Client) -> None:
    secretary = await _setup(client)
    await log_in(client, secretary)
    bad = "building,unit,room\n1,1,101\n1,,\n1,1,101\n"
    refused = await submit(
        client,
        f"/secretary/c/{C}/households",
        f"/secretary/c/{C}/households/import",
        files={"file": ("h.csv", bad.encode(), "text/csv")},
    )
    assert_form_refused(
        refused, "没有添加任何住户", "第 3 行：请填写房号", "第 4 行：这一户重复列出了", status=422
    )
    assert await in_app(client, Household.count) == 0
    good = "building,unit,room\n" + "\n".join(f"1,1,{100 + i}" for i in range(1, 20))
    added = await submit(
        client,
        f"/secretary/c/{C}/households",
        f"/secretary/c/{C}/households/import",
        files={"file": ("h.csv", good.encode(), "text/csv")},
    )
    assert added.status_code == 303
    one = await submit(
        client,
        f"/secretary/c/{C}/households",
        f"/secretary/c/{C}/households",
        {"building": "2", "unit": "", "room": "201"},
    )
    assert one.status_code == 303
    again = await submit(
        client,
        f"/secretary/c/{C}/households",
        f"/secretary/c/{C}/households",
        {"building": "2", "unit": "", "room": "201"},
    )
    assert_form_refused(again, "这一户已经登记过了", status=422)
    codes = await _cards(client)
    assert len(codes) == 20
    assert len(set(codes)) == 20
    hashes = {r["code_hash"] for r in await in_app(client, Household.select)}
    assert hashes == {rules.code_digest(c) for c in codes}
    # every household has a code now: nothing more to print
    nothing = await submit(client, f"/secretary/c/{C}/households", "form-cards-new")
    assert_form_refused(nothing, "每户都已有户码", status=422)
    # another community's secretary cannot see the page
    await in_app(client, lambda: create_community("qita", "其他", "测试区"))
    other = await make_account("sec2@example.cn", "secretary", community="qita", client=client)
    await log_in(client, other)
    assert (await client.get(f"/secretary/c/{C}/households")).status_code == 403
    log_out(client)
    page = await client.get(f"/secretary/c/{C}/households", follow_redirects=False)
    assert page.status_code == 303


async def test_a_phone_enters_the_code_and_a_new_card_ends_its_session(client: Client) -> None:
    secretary = await _setup(client)
    await in_app(
        client,
        lambda: household_service.import_households(
            COMMAND_LINE, C, "building,unit,room\n1,1,101\n1,1,102\n"
        ),
    )
    await log_in(client, secretary)
    codes = await _cards(client)
    log_out(client)
    wrong = await _enter(client, "AAAA-BBBB-CCCC")
    assert_form_refused(wrong, "户码不对，请核对户卡后再试", status=422)
    entered = await _enter(client, codes[0].lower())
    assert entered.status_code == 303
    assert entered.headers["location"] == "/household"
    [cookie] = [c for c in entered.headers.get_list("set-cookie") if c.startswith(HOUSEHOLD_COOKIE)]
    assert "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()
    assert "Max-Age=31536000" in cookie
    home = await client.get("/household")
    assert "住户 1-1-101" in home.text
    token = client.cookies.get(HOUSEHOLD_COOKIE)
    stored = await in_app(client, lambda: HouseholdSession.select(HouseholdSession.token_hash))
    assert [s["token_hash"] for s in stored] == [household_service.token_digest(token)]
    # the secretary prints a new card for 1-1-101: this phone no longer speaks for it
    await log_in(client, secretary)
    first = await in_app(
        client, lambda: Household.select(Household.id).where(Household.room == "101").first()
    )
    assert first is not None
    shown = await submit(client, f"/secretary/c/{C}/households", f"form-card-{first['id']}")
    assert 'data-testid="reissued"' in shown.text
    printed = await confirm_shown(client, shown, page=f"/secretary/c/{C}/households")
    [new_code] = CODE.findall(printed.text)
    assert new_code != codes[0]
    log_out(client)
    client.cookies.set(HOUSEHOLD_COOKIE, token)
    assert 'data-testid="no-household"' in (await client.get("/household")).text
    assert_form_refused(await _enter(client, codes[0]), status=422)
    assert (await _enter(client, new_code)).status_code == 303
    log_out(client)


async def test_guessing_codes_is_throttled_with_a_clear_message(client: Client) -> None:
    await _setup(client)
    for _ in range(rules.MAX_CODE_FAILURES_PER_ADDRESS):
        assert_form_refused(await _enter(client, "WRONG-WRONG-22"), status=422)
    throttled = await _enter(client, "WRONG-WRONG-22")
    assert_form_refused(throttled, "错误的户码太多，请 15 分钟后再试", status=429)
