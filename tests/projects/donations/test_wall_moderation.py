"""A steward hides a gift's message from the donor wall and can show it again; the wall then
says "留言已隐藏" / "Message hidden"; the ledger is untouched; who and when are recorded
(docs/adr/0028-wall-sharing-time.md). Over HTTP, every form as the page renders it."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest

from linju.platform.accounts.tables import AuditRecord
from linju.projects.core.services.communities import create_community
from linju.projects.demo import demo_online_donation
from linju.projects.donations.tables import Donation
from linju.projects.ledger.tables import LedgerEntry
from tests.accounts_support import in_app, log_in, log_out, make_account
from tests.forms import assert_form_refused, find_form, submit, submit_shown
from tests.projects.spending.spending_support import NAMES, SLUG, funded_project

pytestmark = pytest.mark.http
Client = Any
PAGE = f"/p/{SLUG}"
WORDS = "祝孩子们玩得开心"
FLASH = re.compile(r'<div class="flash" role="status" data-testid="flash">(.*?)</div>', re.S)


def told(html: str) -> str:
    found = FLASH.search(html)
    return unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip() if found else ""


async def _ledger() -> list[tuple[int, str]]:
    rows = await LedgerEntry.select(LedgerEntry.seq, LedgerEntry.hash).order_by(LedgerEntry.seq)
    return [(r["seq"], r["hash"]) for r in rows]


async def wall_with_words(client: Client) -> dict[str, Any]:
    """童趣乐园 still raising money, one online gift with words, its secretary, a committee
    member, a resident's browser (nobody), and the secretary of another community."""

    async def make() -> str:
        await funded_project(balance=10_000, committee_size=3, close=False)
        await create_community("hepingli", "和平里社区", "青山区")
        return await demo_online_donation(SLUG, "王阿姨", 5_000, WORDS)

    await in_app(client, make)

    async def donation() -> str:
        row = await Donation.select(Donation.public_id).where(Donation.message == WORDS).first()
        assert row is not None
        return str(row["public_id"])

    return {
        "donation": await in_app(client, donation),
        "secretary": await make_account(
            "liu@example.cn", "secretary", community="lvjingyuan", client=client
        ),
        "member": await make_account(
            "m0@example.cn", "committee", name=NAMES[0], project=SLUG, client=client
        ),
        "other": await make_account(
            "he@example.cn", "secretary", community="hepingli", client=client
        ),
    }


async def moderation(client: Client, donation: str) -> dict[str, Any]:
    """The donation's hiding as stored: when (`message_hidden_at`) and who (`message_hidden_by`)."""

    async def read() -> dict[str, Any]:
        row = (
            await Donation.select(Donation.message_hidden_at, Donation.message_hidden_by)
            .where(Donation.public_id == donation)
            .first()
        )
        assert row is not None
        return row

    return await in_app(client, read)


async def as_(client: Client, account: int) -> None:
    log_out(client)
    await log_in(client, account)


async def test_a_steward_hides_a_message_and_shows_it_again_without_touching_the_ledger(
    client: Client,
) -> None:
    made = await wall_with_words(client)
    form = f"form-message-{made['donation']}"
    public = (await client.get(PAGE)).text
    assert WORDS in public
    assert f'id="{form}"' not in public  # the public sees no moderation form
    before = await in_app(client, _ledger)

    await as_(client, made["member"])  # a committee member is a steward
    shown = (await client.get(PAGE)).text
    assert "Hide this message" in shown or "隐藏这条留言" in shown
    done = await submit(client, PAGE, form, follow_redirects=True)
    assert done.status_code == 200
    assert told(done.text) == "留言已隐藏"
    assert f"/p/{SLUG}" == done.url.path

    row = await moderation(client, made["donation"])
    assert row["message_hidden_at"] is not None
    assert row["message_hidden_by"]  # who hid it
    audit = await in_app(
        client,
        lambda: AuditRecord.select(AuditRecord.action).where(
            AuditRecord.object_id == made["donation"]
        ),
    )
    assert [a["action"] for a in audit] == ["donation.message.hide"]

    log_out(client)  # anyone: the words are gone, the place says so
    public = (await client.get(PAGE)).text
    assert WORDS not in public
    assert "留言已隐藏" in public
    await client.get("/lang/en")
    assert "Message hidden" in (await client.get(PAGE)).text
    await client.get("/lang/zh_CN")
    assert await in_app(client, _ledger) == before  # the ledger is untouched

    await as_(client, made["secretary"])  # the secretary shows it again
    page = (await client.get(PAGE)).text
    assert WORDS in page  # a steward still reads what was hidden
    again = await submit_shown(client, page, form, page=PAGE, follow_redirects=True)
    assert told(again.text) == "留言已恢复显示"
    log_out(client)
    public = (await client.get(PAGE)).text
    assert WORDS in public
    assert "留言已隐藏" not in public
    assert await in_app(client, _ledger) == before
    audit = await in_app(
        client,
        lambda: (
            AuditRecord.select(AuditRecord.action)
            .where(AuditRecord.object_id == made["donation"])
            .order_by(AuditRecord.id)
        ),
    )
    assert [a["action"] for a in audit] == ["donation.message.hide", "donation.message.show"]


async def test_only_the_projects_stewards_may_hide_a_message(client: Client) -> None:
    made = await wall_with_words(client)
    form = f"form-message-{made['donation']}"
    await as_(client, made["secretary"])
    steward_page = (await client.get(PAGE)).text
    find_form(steward_page, form)

    log_out(client)  # anonymous: the form as a steward saw it, posted without a session
    refused = await submit_shown(client, steward_page, form, page=PAGE)
    assert refused.status_code == 303, refused.status_code  # sent to log in, nothing done
    assert refused.headers["location"].startswith("/login")
    for account in ("other",):  # another community's secretary
        await as_(client, made[account])
        assert f'id="{form}"' not in (await client.get(PAGE)).text
        refused = await submit_shown(client, steward_page, form, page=PAGE)
        assert refused.status_code == 403, refused.status_code
    assert (await moderation(client, made["donation"]))["message_hidden_at"] is None


async def test_a_tampered_choice_is_refused_on_the_page_and_changes_nothing(
    client: Client,
) -> None:
    made = await wall_with_words(client)
    form = f"form-message-{made['donation']}"
    await as_(client, made["member"])
    refused = await submit(client, PAGE, form, {"hide": "maybe"})
    assert_form_refused(refused, "请选择隐藏留言或恢复显示", status=422)
    assert (await moderation(client, made["donation"]))["message_hidden_at"] is None
