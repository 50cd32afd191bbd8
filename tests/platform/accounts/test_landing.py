"""After logging in each person lands on their own page (docs/adr/0021-finding-your-way.md): an
admin on /admin, a secretary on /secretary, a committee member on /committee, someone with several
roles on /account, which links each; a `next` a guarded page asked for wins when it is a safe
local path. Every page's header names who is logged in, links their roles and logs out (a POST
form with its CSRF token). Forms are submitted as the pages render them."""

from __future__ import annotations

from typing import Any

import pytest

from linju.platform.accounts.audit import COMMAND_LINE
from linju.platform.accounts.services import NewAccount, Role, create_account
from linju.platform.accounts.tables import Account, Session
from tests.accounts_support import PASSWORD, in_app, log_in, make_account
from tests.forms import find_form, submit, submit_shown
from tests.projects.stewardship.stewardship_support import seat_names

Client = Any
pytestmark = pytest.mark.usefixtures("demo")
P = "tongqu-leyuan"


async def log_in_as_shown(client: Client, email: str, page: str = "/login") -> Any:
    return await submit(client, page, "/login", {"email": email, "password": PASSWORD})


async def member(client: Client, email: str = "m1@example.cn") -> int:
    name = (await in_app(client, lambda: seat_names(P)))[0]
    return await make_account(email, "committee", name=name, project=P, client=client)


async def test_each_role_lands_on_its_own_page(client: Client) -> None:
    await make_account("admin@example.cn", "admin", client=client)
    await make_account("sec@example.cn", "secretary", community="lvjingyuan", client=client)
    await member(client)
    for email, home in [
        ("admin@example.cn", "/admin"),
        ("sec@example.cn", "/secretary"),
        ("m1@example.cn", "/committee"),
    ]:
        client.cookies.clear()
        answer = await log_in_as_shown(client, email)
        assert answer.status_code == 303, answer.text[:300]
        assert answer.headers["location"] == home
        assert (await client.get(home)).status_code == 200


async def test_several_roles_land_on_the_account_page_that_links_each(client: Client) -> None:
    await make_account("both@example.cn", "secretary", community="lvjingyuan", client=client)
    name = (await in_app(client, lambda: seat_names(P)))[0]
    await make_account("both@example.cn", "committee", name=name, project=P, client=client)
    answer = await log_in_as_shown(client, "both@example.cn")
    assert answer.headers["location"] == "/account"
    page = (await client.get("/account")).text
    assert 'href="/secretary"' in page
    assert 'href="/committee"' in page
    assert 'href="/admin"' not in page


async def test_no_role_lands_on_the_account_page(client: Client) -> None:
    new = NewAccount(email="nobody@example.cn", display_name="某人", role=Role.ADMIN,
                     password=PASSWORD)  # fmt: skip
    account = await in_app(client, lambda: create_account(COMMAND_LINE, new))
    await in_app(client, lambda: Account.update({Account.is_admin: False}).where(
        Account.id == account).run())  # fmt: skip
    answer = await log_in_as_shown(client, "nobody@example.cn")
    assert answer.headers["location"] == "/account"


async def test_the_page_a_guard_asked_for_wins(client: Client) -> None:
    await make_account("sec@example.cn", "secretary", community="lvjingyuan", client=client)
    sent = await client.get(f"/p/{P}/spending", follow_redirects=False)
    assert sent.status_code == 303
    login_page = sent.headers["location"]
    assert login_page == f"/login?next=%2Fp%2F{P}%2Fspending"
    answer = await log_in_as_shown(client, "sec@example.cn", login_page)
    assert answer.headers["location"] == f"/p/{P}/spending"


@pytest.mark.parametrize(
    "asked", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"]
)
async def test_an_unsafe_next_is_ignored_for_the_home(client: Client, asked: str) -> None:
    await make_account("sec@example.cn", "secretary", community="lvjingyuan", client=client)
    shown = await client.get("/login", params={"next": asked})
    assert find_form(shown.text, "/login").action == "/login"
    answer = await submit_shown(
        client, shown.text, "/login", {"email": "sec@example.cn", "password": PASSWORD},
        page="/login",
    )  # fmt: skip
    assert answer.headers["location"] == "/secretary"
    # Posted by hand, bypassing the page, it is refused the same way.
    client.cookies.clear()
    shown = await client.get("/login")
    forged = await submit_shown(
        client, shown.text, "/login",
        {"email": "sec@example.cn", "password": PASSWORD, "next": asked}, page="/login",
    )  # fmt: skip
    assert forged.headers["location"] == "/secretary"


async def test_a_wrong_password_keeps_the_asked_page(client: Client) -> None:
    await make_account("sec@example.cn", "secretary", community="lvjingyuan", client=client)
    shown = await client.get("/login", params={"next": "/secretary"})
    refused = await submit_shown(
        client, shown.text, "/login", {"email": "sec@example.cn", "password": "wrong one!!"},
        page="/login",
    )  # fmt: skip
    assert refused.status_code == 422
    again = await submit_shown(
        client, refused.text, "/login", {"password": PASSWORD}, page="/login"
    )
    assert again.headers["location"] == "/secretary"


async def test_the_header_names_the_person_their_roles_and_logs_out(client: Client) -> None:
    account = await make_account(
        "sec@example.cn", "secretary", name="李书记", community="lvjingyuan", client=client
    )
    anonymous = (await client.get("/")).text
    assert 'data-testid="whoami"' not in anonymous
    await log_in(client, account)
    for path in ["/", f"/p/{P}", "/secretary", "/account"]:
        page = (await client.get(path)).text
        header = page[page.index("<header") : page.index("</header>")]
        assert "李书记" in header, path
        assert 'href="/secretary"' in header
        assert "书记工作台" in header
        assert 'href="/committee"' not in header
        assert 'href="/admin"' not in header
        assert "退出" in header
        logout = find_form(page, "form-logout")
        assert logout.method == "post"
    out = await submit(client, "/", "form-logout")
    assert out.status_code == 303
    assert out.headers["location"] == "/"
    assert await in_app(client, lambda: Session.count().run()) == 0
    assert 'data-testid="whoami"' not in (await client.get("/")).text
