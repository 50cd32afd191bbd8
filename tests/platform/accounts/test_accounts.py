"""Logging in and out, sessions, throttling, password change and reset, admin pages."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from linju.platform.accounts.login import MAX_FAILURES_PER_ACCOUNT
from linju.platform.accounts.sessions import SESSION_COOKIE, token_digest
from linju.platform.accounts.tables import Account, AuditRecord, PasswordToken, Session
from linju.platform.jobs import queue
from linju.platform.jobs.worker import drain_jobs
from linju.platform.settings import get_settings
from linju.projects.core.tables import Community
from tests.accounts_support import (
    PASSWORD,
    csrf_token,
    in_app,
    log_in,
    log_in_with_form,
    make_account,
    post_form,
)

Client = Any


async def test_login_sets_a_new_server_side_session_with_safe_cookie_flags(client: Client) -> None:
    await make_account("Admin@Example.cn", client=client)
    before = await log_in_with_form(client, "admin@example.cn")
    assert before.status_code == 303
    cookie = before.headers["set-cookie"]
    assert f"{SESSION_COOKIE}=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "samesite=lax" in cookie.lower()
    first = client.cookies.get(SESSION_COOKIE)
    assert await in_app(
        client, lambda: Session.exists().where(Session.token_hash == token_digest(first)).run()
    )
    # Logging in again, with the old session cookie present, gives a new id and drops the old.
    again = await log_in_with_form(client, "ADMIN@example.cn")
    assert again.status_code == 303
    second = client.cookies.get(SESSION_COOKIE)
    assert second != first
    assert not await in_app(
        client, lambda: Session.exists().where(Session.token_hash == token_digest(first)).run()
    )
    assert await in_app(client, lambda: Session.count().run()) == 1


async def test_wrong_password_shows_the_form_again_in_chinese(client: Client) -> None:
    await make_account("a@example.cn", client=client)
    answer = await log_in_with_form(client, "a@example.cn", "wrong password")
    assert answer.status_code == 422
    assert "邮箱或密码不正确" in answer.text
    assert client.cookies.get(SESSION_COOKIE) is None


async def test_logins_are_throttled_per_account(client: Client) -> None:
    await make_account("a@example.cn", client=client)
    for _ in range(MAX_FAILURES_PER_ACCOUNT):
        answer = await log_in_with_form(client, "a@example.cn", "wrong password")
        assert answer.status_code == 422
    refused = await log_in_with_form(client, "a@example.cn")  # even the right password
    assert refused.status_code == 429
    assert "15 分钟" in refused.text
    assert await in_app(client, lambda: Session.count().run()) == 0


async def test_logout_deletes_the_session(client: Client) -> None:
    account = await make_account("a@example.cn", client=client)
    await log_in(client, account)
    page = await client.get("/account")
    assert page.status_code == 200
    answer = await client.post(
        "/logout", data={"_csrf_token": csrf_token(page.text)}, follow_redirects=False
    )
    assert answer.status_code == 303
    assert await in_app(client, lambda: Session.count().run()) == 0
    assert (await client.get("/account", follow_redirects=False)).status_code == 303


async def test_a_guarded_page_redirects_to_login_and_the_api_would_say_401(client: Client) -> None:
    answer = await client.get("/admin", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2Fadmin"


async def test_password_change_needs_the_current_password(client: Client) -> None:
    account = await make_account("a@example.cn", client=client)
    await log_in(client, account)
    wrong = await post_form(
        client, "/account", "/account/password", {"current": "nope", "new": "a new password!"}
    )
    assert wrong.status_code == 422
    assert "当前密码不正确" in wrong.text
    right = await post_form(
        client, "/account", "/account/password", {"current": PASSWORD, "new": "a new password!"}
    )
    assert right.status_code == 303
    client.cookies.clear()
    assert (await log_in_with_form(client, "a@example.cn", "a new password!")).status_code == 303


def _mailed_link(folder: Path) -> str:
    mails = sorted(folder.glob("*.eml"))
    assert mails, "no mail was sent"
    text = mails[-1].read_bytes().decode("utf-8", errors="replace")
    import email

    message = email.message_from_string(text)
    body = message.get_payload(decode=True)
    assert isinstance(body, bytes)
    match = re.search(r"/password/reset/([A-Za-z0-9_-]+)", body.decode("utf-8"))
    assert match
    return match.group(1)


async def test_password_reset_link_works_once(client: Client) -> None:
    await make_account("a@example.cn", client=client)
    mail_dir = get_settings().var_dir / "mail"
    for old in mail_dir.glob("*.eml"):
        old.unlink()
    answer = await post_form(
        client, "/password/forgot", "/password/forgot", {"email": "A@example.cn"}
    )
    assert answer.status_code == 200
    assert not list(mail_dir.glob("*.eml"))  # the request only queued it
    await in_app(client, drain_jobs)
    token = _mailed_link(mail_dir)
    stored = await in_app(
        client, lambda: PasswordToken.select(PasswordToken.token_hash).first().run()
    )
    assert stored is not None
    assert stored["token_hash"] == token_digest(token)
    path = f"/password/reset/{token}"
    done = await post_form(
        client, path, path, {"new": "brand new secret", "confirm": "brand new secret"}
    )
    assert done.status_code == 303
    again = await client.get(path)
    assert again.status_code == 410
    assert (await log_in_with_form(client, "a@example.cn", "brand new secret")).status_code == 303


async def test_unknown_email_reset_sends_nothing_and_says_the_same(client: Client) -> None:
    mail_dir = get_settings().var_dir / "mail"
    for old in mail_dir.glob("*.eml"):
        old.unlink()
    answer = await post_form(client, "/password/forgot", "/password/forgot", {"email": "x@y.cn"})
    assert answer.status_code == 200
    # The request queues the job as for a known e-mail; the job finds no account and mails none.
    assert [job.name for job in await in_app(client, queue.list_jobs)] == ["accounts.password_mail"]
    await in_app(client, drain_jobs)
    assert await in_app(client, queue.list_jobs) == []
    assert await in_app(client, lambda: PasswordToken.count().run()) == 0
    assert not list(mail_dir.glob("*.eml"))


async def test_admin_creates_a_community_and_invites_a_secretary(client: Client) -> None:
    admin = await make_account("admin@example.cn", client=client)
    await log_in(client, admin)
    created = await post_form(
        client,
        "/admin",
        "/admin/communities",
        {"slug": "lvjingyuan", "name": "绿景苑", "district": "南山区"},
    )
    assert created.status_code == 303
    assert await in_app(
        client, lambda: Community.exists().where(Community.slug == "lvjingyuan").run()
    )
    invited = await post_form(
        client,
        "/admin",
        "/admin/invitations",
        {
            "email": "sec@example.cn",
            "name": "李书记",
            "role": "secretary",
            "community": "lvjingyuan",
        },
    )
    assert invited.status_code == 303
    account = await in_app(
        client, lambda: Account.select().where(Account.email == "sec@example.cn").first().run()
    )
    assert account is not None
    assert account["password_hash"] == ""
    actions = [
        r["action"]
        for r in await in_app(client, lambda: AuditRecord.select(AuditRecord.action).run())
    ]
    assert {"community.create", "account.create", "role.secretary.grant", "account.invite"} <= set(
        actions
    )
    audit_page = await client.get("/admin/audit")
    assert "community.create" in audit_page.text


async def test_bad_invitation_comes_back_escaped_and_writes_nothing(client: Client) -> None:
    admin = await make_account("admin@example.cn", client=client)
    await log_in(client, admin)
    before = await in_app(client, lambda: Account.count().run())
    answer = await post_form(
        client,
        "/admin",
        "/admin/invitations",
        {"email": "not-an-email", "name": "<script>alert(1)</script>", "role": "secretary"},
    )
    assert answer.status_code == 422
    assert "<script>alert(1)</script>" not in answer.text
    assert "&lt;script&gt;" in answer.text
    assert "请输入有效的邮箱地址" in answer.text
    assert await in_app(client, lambda: Account.count().run()) == before


@pytest.mark.parametrize("path", ["/login", "/logout", "/password/forgot", "/admin/communities"])
async def test_posts_without_a_csrf_token_are_refused(client: Client, path: str) -> None:
    admin = await make_account("admin@example.cn", client=client)
    await log_in(client, admin)
    answer = await client.post(path, data={"email": "admin@example.cn", "password": PASSWORD})
    assert answer.status_code == 403


async def test_logins_are_throttled_per_address_whatever_the_email(client: Client) -> None:
    from linju.platform.accounts.login import MAX_FAILURES_PER_ADDRESS

    await make_account("a@example.cn", client=client)
    for index in range(MAX_FAILURES_PER_ADDRESS):
        answer = await log_in_with_form(client, f"nobody{index}@example.cn", "wrong password")
        assert answer.status_code == 422
    refused = await log_in_with_form(client, "a@example.cn")
    assert refused.status_code == 429


async def test_an_expired_session_is_not_a_login(client: Client) -> None:
    from datetime import timedelta

    from linju.platform.kernel.clock import utc_now

    account = await make_account("a@example.cn", client=client)
    await log_in(client, account)
    assert (await client.get("/account", follow_redirects=False)).status_code == 200
    await in_app(
        client,
        lambda: Session.update(
            {Session.expires_at: utc_now() - timedelta(seconds=1)}, force=True
        ).run(),
    )
    assert (await client.get("/account", follow_redirects=False)).status_code == 303


async def test_an_invited_secretary_sets_a_password_with_the_mailed_link(client: Client) -> None:
    admin = await make_account("admin@example.cn", client=client)
    await log_in(client, admin)
    await post_form(
        client,
        "/admin",
        "/admin/communities",
        {"slug": "lvjingyuan", "name": "绿景苑", "district": "南山区"},
    )
    mail_dir = get_settings().var_dir / "mail"
    for old in mail_dir.glob("*.eml"):
        old.unlink()
    invited = await post_form(
        client,
        "/admin",
        "/admin/invitations",
        {
            "email": "sec@example.cn",
            "name": "李书记",
            "role": "secretary",
            "community": "lvjingyuan",
        },
    )
    assert invited.status_code == 303
    await in_app(client, drain_jobs)
    token = _mailed_link(mail_dir)
    client.cookies.clear()
    path = f"/password/reset/{token}"
    done = await post_form(client, path, path, {"new": "my own secret", "confirm": "my own secret"})
    assert done.status_code == 303
    assert (await log_in_with_form(client, "sec@example.cn", "my own secret")).status_code == 303
    assert (await client.get("/secretary")).status_code == 200


async def test_every_page_links_to_the_login_or_the_account(client: Client) -> None:
    assert 'href="/login"' in (await client.get("/")).text
    account = await make_account("a@example.cn", client=client)
    await log_in(client, account)
    assert 'href="/account"' in (await client.get("/")).text


async def test_the_session_cookie_is_secure_behind_https(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    await make_account("a@example.cn", client=client)
    monkeypatch.setenv("LINJU_SECURE_COOKIES", "true")
    get_settings.cache_clear()
    try:
        answer = await log_in_with_form(client, "a@example.cn")
    finally:
        monkeypatch.delenv("LINJU_SECURE_COOKIES")
        get_settings.cache_clear()
    session_cookie = next(
        value for key, value in answer.headers.multi_items()
        if key == "set-cookie" and value.startswith(f"{SESSION_COOKIE}=")
    )  # fmt: skip
    assert "Secure" in session_cookie
