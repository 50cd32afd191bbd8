"""An anonymous offline gift (issue 14): recorded by the secretary with "anonymous" ticked,
confirmed by a committee member, it is on the donor wall as 匿名 / Anonymous with its offline
badge, and counted in the page's figures (gifts, raised) like the ledger counts it. Forms are
posted as the pages render them."""

from __future__ import annotations

import re
from typing import Any

import pytest

from linju.projects.stewardship.tables import OfflineDonation
from tests.accounts_support import in_app, log_in, log_out
from tests.forms import submit_shown
from tests.projects.stewardship.stewardship_support import (
    People,
    make_people,
    record_offline_gift,
)

Client = Any
pytestmark = pytest.mark.usefixtures("demo")
P = "tongqu-leyuan"
GIFT = re.compile(r'<li class="card" data-testid="wall-gift" data-fen="12345">(.*?)</li>', re.S)


def inbox_donor(html: str, gift: str) -> str:
    card = re.search(rf'id="gift-{gift}".*?data-testid="gift-donor">([^<]*)<', html, re.S)
    assert card, f"gift {gift} is not in the inbox"
    return card.group(1)


def figures(html: str) -> tuple[int, str]:
    count = re.search(r'data-testid="donations-count">(\d+)<', html)
    balance = re.search(r'data-testid="balance">([^<]+)<', html)
    assert count
    assert balance
    return int(count.group(1)), balance.group(1)


async def test_an_anonymous_offline_gift_is_on_the_wall_and_in_the_figures(client: Client) -> None:
    people: People = await make_people(client)
    count_before, balance_before = figures((await client.get(f"/p/{P}")).text)
    await log_in(client, people.secretary)
    recorded = await record_offline_gift(client, amount="123.45", donor_name="", anonymous=True)
    assert recorded.status_code == 303, recorded.text[:500]
    row = await in_app(
        client,
        lambda: OfflineDonation.select().where(OfflineDonation.amount_fen == 12_345).first().run(),
    )
    assert row is not None
    assert row["anonymous"]
    assert row["donor_name"] == ""
    unconfirmed = (await client.get(f"/p/{P}")).text
    assert GIFT.search(unconfirmed) is None  # nothing shown before a second person confirms
    log_out(client)

    await log_in(client, people.member)
    # The member's inbox names the donor in the member's language: 匿名, or Anonymous.
    inbox = (await client.get("/committee")).text
    await client.get("/lang/en")
    inbox_en = (await client.get("/committee")).text
    await client.get("/lang/zh_CN")
    assert inbox_donor(inbox, row["public_id"]) == "匿名"
    assert inbox_donor(inbox_en, row["public_id"]) == "Anonymous"
    listing = await client.get(f"/p/{P}/offline")
    confirmed = await submit_shown(
        client, listing.text, f"/p/{P}/committee/gifts/{row['public_id']}"
    )
    assert confirmed.status_code == 303, confirmed.text[:500]
    log_out(client)

    html = (await client.get(f"/p/{P}")).text
    gift = GIFT.search(html)
    assert gift is not None
    assert "<strong>匿名</strong>" in gift.group(1)
    assert "¥123.45" in gift.group(1)
    assert "线下" in gift.group(1)
    count, balance = figures(html)
    assert count == count_before + 1
    before_fen = int(re.sub(r"[^\d]", "", balance_before))
    assert int(re.sub(r"[^\d]", "", balance)) == before_fen + 12_345

    await client.get("/lang/en")
    english = GIFT.search((await client.get(f"/p/{P}")).text)
    assert english is not None
    assert "<strong>Anonymous</strong>" in english.group(1)
    assert "Given offline" in english.group(1)
    assert "匿名" not in english.group(1)


async def test_an_offline_gift_by_alipay_is_named_in_each_language_in_the_inbox(
    client: Client,
) -> None:
    """The offline gift's "how" is one of the payment methods' codes (ADR 0025)."""
    people: People = await make_people(client)
    await log_in(client, people.secretary)
    recorded = await record_offline_gift(client, amount="66", donor_name="赵阿姨", method="alipay")
    assert recorded.status_code == 303, recorded.text[:500]
    row = await in_app(
        client,
        lambda: OfflineDonation.select().where(OfflineDonation.amount_fen == 6_600).first().run(),
    )
    assert row is not None
    assert row["method"] == "alipay"
    log_out(client)
    await log_in(client, people.member)
    inbox = (await client.get("/committee")).text
    card = inbox[inbox.index("赵阿姨") :]
    assert "<dd>支付宝</dd>" in card
    await client.get("/lang/en")
    english = (await client.get("/committee")).text
    assert "<dd>Alipay</dd>" in english[english.index("赵阿姨") :]
