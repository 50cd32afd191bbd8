"""A community steward holds no role the shell knows (ADR 0033), yet finds the steward's page:
after logging in (its one page, or the account page with several), in the header and on the
account page, through the accounts area's port for roles an area keeps itself (ADR 0034)."""

from __future__ import annotations

from typing import Any

from linju.platform.accounts.passwords import hash_password
from linju.platform.accounts.tables import Account
from linju.projects.core.services.communities import create_community
from tests.accounts_support import PASSWORD, in_app, log_in_with_form, make_account
from tests.projects.voice.voice_support import community_with_households, steward


async def _with_password(client: Any, email: str) -> None:
    async def set_it() -> None:
        hashed = await hash_password(PASSWORD)
        await Account.update({Account.password_hash: hashed}).where(Account.email == email)

    await in_app(client, set_it)


async def test_a_steward_lands_on_the_steward_page_and_finds_it_again(client: Any) -> None:
    await community_with_households(count=2, client=client)
    await steward("yuanzi", "wang@x.cn", client)
    await _with_password(client, "wang@x.cn")
    logged_in = await log_in_with_form(client, "wang@x.cn")
    assert logged_in.status_code == 303
    assert logged_in.headers["location"] == "/steward/c/yuanzi"
    page = await client.get("/steward/c/yuanzi")
    assert page.status_code == 200
    header = page.text.split('data-testid="whoami"', 1)[1].split("</nav>", 1)[0]
    assert 'href="/steward/c/yuanzi">院子 居民代表</a>' in header
    account = await client.get("/account")
    assert 'href="/steward/c/yuanzi" data-testid="role-link">院子 居民代表</a>' in account.text
    client.cookies.set("linju_lang", "en")
    english = await client.get("/account")
    assert "Community steward of 院子" in english.text
    client.cookies.set("linju_lang", "zh_CN")


async def test_several_roles_land_on_the_account_page_with_each_linked(client: Any) -> None:
    await community_with_households(count=2, client=client)
    await in_app(client, lambda: create_community("lvjing", "绿景苑", "测试区"))
    await steward("yuanzi", "wang@x.cn", client)
    await steward("lvjing", "wang@x.cn", client)
    await _with_password(client, "wang@x.cn")
    logged_in = await log_in_with_form(client, "wang@x.cn")
    assert logged_in.headers["location"] == "/account"
    account = (await client.get("/account")).text
    assert account.count('data-testid="role-link"') == 2
    assert 'href="/steward/c/lvjing"' in account
    # a secretary who is also a steward: both, the dashboard and the steward's page
    await make_account("sec@x.cn", "secretary", community="yuanzi", client=client)
    await steward("yuanzi", "sec@x.cn", client)
    client.cookies.clear()
    logged_in = await log_in_with_form(client, "sec@x.cn")
    assert logged_in.headers["location"] == "/secretary"
    account = (await client.get("/account")).text
    assert 'href="/secretary"' in account
    assert 'href="/steward/c/yuanzi" data-testid="role-link"' in account
    # one who stewards nothing sees no such link
    await make_account("li@x.cn", "secretary", community="lvjing", client=client)
    client.cookies.clear()
    await log_in_with_form(client, "li@x.cn")
    assert 'data-testid="role-link"' not in (await client.get("/account")).text
