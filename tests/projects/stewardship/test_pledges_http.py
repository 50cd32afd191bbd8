"""One person cannot put money on the public ledger (issue 13, item 2): a matching pledge the
secretary records with the sponsor's letter draws nothing until a committee member other than
its recorder confirms it on the committee's page, and its ratio and cap are bounded. Over HTTP,
each form submitted as its page renders it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from linju.platform.accounts.audit import Actor
from linju.platform.accounts.tables import AuditRecord
from linju.platform.kernel.clock import local_today
from linju.projects.ledger.tables import LedgerPosting
from linju.projects.stewardship.rules import OfflineGift
from linju.projects.stewardship.services.offline_donations import (
    confirm_offline_donation,
    record_offline_donation,
)
from linju.projects.stewardship.tables import MatchingPledge
from tests.accounts_support import csrf_token, in_app, log_in, log_out, make_account
from tests.forms import assert_form_refused, parse_page, submit, submit_shown
from tests.projects.stewardship.stewardship_support import (
    People,
    make_people,
    png_bytes,
    seat_names,
)
from tests.storage_support import stored_keys

Client = Any
pytestmark = pytest.mark.usefixtures("demo")
P = "tongqu-leyuan"  # the demo's playground: goal ¥12,000, fundraising
MANAGE = f"/p/{P}/manage"
SPONSOR = "jiedao-shanghui"
LETTER = {"letter": ("letter.png", png_bytes(), "image/png")}


@pytest.fixture
async def people(client: Client) -> People:
    return await make_people(client)


def pledge_fields(**changes: str) -> dict[str, str]:
    fields = {
        "sponsor_name": "街道商会",
        "sponsor_slug": SPONSOR,
        "ratio": "1:1",
        "cap": "2000",
        "starts_on": local_today().isoformat(),
        "ends_on": (local_today() + timedelta(days=30)).isoformat(),
    }
    return {**fields, **changes}


async def record_pledge(client: Client, account: int, **changes: str) -> Any:
    log_out(client)
    await log_in(client, account)
    return await submit(client, MANAGE, f"{MANAGE}/pledges", pledge_fields(**changes), LETTER)


async def our_pledge(client: Client) -> dict[str, Any]:
    row = await in_app(
        client,
        lambda: MatchingPledge.select().where(MatchingPledge.sponsor_slug == SPONSOR).first().run(),
    )
    assert row is not None
    return dict(row)


async def matched(client: Client) -> int:
    """What the sponsor has given on the ledger (fen)."""
    rows = await in_app(
        client,
        lambda: (
            LedgerPosting.select(LedgerPosting.amount)
            .where(LedgerPosting.account == f"sponsor:{SPONSOR}")
            .run()
        ),
    )
    return -sum(int(r["amount"]) for r in rows)


async def cash_gift(client: Client, people: People, amount_fen: int) -> None:
    """¥ in cash recorded by the secretary and confirmed by the second member."""

    async def give() -> None:
        gift = OfflineGift(
            amount_fen, "陈大爷", False, local_today(), "cash", "/photos/x.jpg", "0" * 64
        )
        public_id = await record_offline_donation(Actor(people.secretary, "sec"), P, gift)
        await confirm_offline_donation(Actor(people.second_member, "m2"), P, public_id)

    await in_app(client, give)


def pledge_form_of(html: str) -> str:
    """The action of the one pledge form on the committee's page."""
    (action,) = [f.action for f in parse_page(html).forms if "/committee/pledges/" in f.action]
    return action


async def count(client: Client, table: Any) -> int:
    return int(await in_app(client, lambda: table.count().run()))


async def test_a_pledge_only_the_secretary_recorded_draws_nothing(
    client: Client, people: People
) -> None:
    recorded = await record_pledge(client, people.secretary)
    assert recorded.status_code == 303, recorded.text
    pledge = await our_pledge(client)
    assert pledge["recorded_by"] == people.secretary
    assert pledge["confirmed_at"] is None
    assert pledge["letter_path"].startswith("/photos/")
    assert len(pledge["letter_sha256"]) == 64
    workbench = (await client.get(MANAGE)).text
    assert "等待监督委员会成员确认" in workbench

    await cash_gift(client, people, 50_000)
    assert await matched(client) == 0  # on the ledger: nothing from the sponsor
    assert "街道商会" not in (await client.get(f"/p/{P}")).text

    log_out(client)
    await log_in(client, people.member)
    inbox = await client.get("/committee")
    card = inbox.text[inbox.text.index('data-testid="awaiting-pledge"') :]
    for shown in ("街道商会", "1:1", "¥2,000.00", pledge["letter_path"], pledge["letter_sha256"]):
        assert shown in card, shown


async def test_the_recorder_cannot_confirm_their_own_pledge(client: Client, people: People) -> None:
    # The secretary also holds a seat on the project's committee.
    seat = (await in_app(client, lambda: seat_names(P)))[2]
    await make_account("sec@example.cn", "committee", name=seat, project=P, client=client)
    assert (await record_pledge(client, people.secretary)).status_code == 303
    pledge = await our_pledge(client)
    inbox = await client.get("/committee")  # still logged in as the secretary
    workbench = (await client.get(MANAGE)).text  # a page with a form, for its CSRF token
    assert "这项配捐承诺是您登记的" in inbox.text
    assert "/committee/pledges/" not in inbox.text  # no form to confirm it
    audit = await count(client, AuditRecord)
    sent = await client.post(
        f"/p/{P}/committee/pledges/{pledge['id']}",
        data={"_csrf_token": csrf_token(workbench), "decision": "confirm", "reason": ""},
    )
    assert_form_refused(sent, "必须由登记人以外的监督委员会成员确认", status=422)
    assert (await our_pledge(client))["confirmed_at"] is None
    assert await count(client, AuditRecord) == audit
    await cash_gift(client, people, 10_000)
    assert await matched(client) == 0


async def test_another_committee_member_confirms_and_then_matches_are_drawn(
    client: Client, people: People
) -> None:
    assert (await record_pledge(client, people.secretary)).status_code == 303
    log_out(client)
    await log_in(client, people.member)
    inbox = await client.get("/committee")
    action = pledge_form_of(inbox.text)
    confirmed = await submit_shown(client, inbox.text, action, press="confirm", page="/committee")
    assert confirmed.status_code == 303, confirmed.text
    assert confirmed.headers["location"] == "/committee"
    pledge = await our_pledge(client)
    assert pledge["confirmed_by"] == people.member
    assert pledge["confirmed_at"] is not None
    member_name = (await in_app(client, lambda: seat_names(P)))[0]
    assert pledge["decided_by_name"] == member_name
    assert "/committee/pledges/" not in (await client.get("/committee")).text  # decided

    await cash_gift(client, people, 150_000)
    assert await matched(client) == 150_000
    await cash_gift(client, people, 100_000)
    assert await matched(client) == 200_000  # the cap, ¥2,000
    public = (await client.get(f"/p/{P}")).text
    assert "街道商会" in public
    assert f"监督委员会 {member_name} 于" in public

    again = await submit_shown(client, inbox.text, action, press="confirm", page="/committee")
    assert_form_refused(again, "这项配捐承诺已经处理过了", status=409)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"ratio": "100:1"}, "ratio", "配捐比例须在 1:10 到 3:1 之间"),
        ({"ratio": "4:1"}, "ratio", "配捐比例须在 1:10 到 3:1 之间"),
        ({"ratio": "1:11"}, "ratio", "配捐比例须在 1:10 到 3:1 之间"),
        ({"ratio": "一比一"}, "ratio", "例如 1:1"),
        ({"cap": "9999999999.99"}, "cap", "配捐上限不能高于项目的筹款目标"),
        ({"cap": "12000.01"}, "cap", "配捐上限不能高于项目的筹款目标"),
        ({"cap": "0"}, "cap", "配捐上限必须大于零"),
    ],
)
async def test_a_ratio_or_cap_out_of_bounds_is_refused_beside_the_field_and_nothing_is_written(
    client: Client, people: People, changes: dict[str, str], field: str, message: str
) -> None:
    before = (
        await count(client, MatchingPledge),
        await count(client, AuditRecord),
        await in_app(client, lambda: stored_keys("photos")),
    )
    answer = await record_pledge(client, people.secretary, **changes)
    assert_form_refused(answer, message, status=422)
    beside = answer.text[answer.text.index(f'id="e-pledge-{field}"') :]
    assert message in beside[: beside.index("</p>")]
    assert f'value="{changes[field]}"' in answer.text  # the value as sent
    after = (
        await count(client, MatchingPledge),
        await count(client, AuditRecord),
        await in_app(client, lambda: stored_keys("photos")),
    )
    assert after == before  # no pledge, no audit record, no letter kept


async def test_a_pledge_without_the_sponsors_letter_is_refused(
    client: Client, people: People
) -> None:
    await log_in(client, people.secretary)
    answer = await submit(client, MANAGE, f"{MANAGE}/pledges", pledge_fields())
    assert_form_refused(answer, "请上传配捐方承诺函的照片", status=422)
    assert 'id="e-pledge-letter"' in answer.text
    assert await count(client, MatchingPledge) == 2  # the demo's two


async def test_a_rejection_needs_a_reason_and_the_secretary_reads_it(
    client: Client, people: People
) -> None:
    assert (await record_pledge(client, people.secretary)).status_code == 303
    log_out(client)
    await log_in(client, people.second_member)
    inbox = await client.get("/committee")
    action = pledge_form_of(inbox.text)
    pledge = await our_pledge(client)
    refused = await submit_shown(client, inbox.text, action, press="reject", page="/committee")
    assert_form_refused(refused, "请填写理由", status=422)
    assert f'id="e-pledge-{pledge["id"]}-reason"' in refused.text
    rejected = await submit_shown(
        client, refused.text, action, {"reason": "承诺函没有盖章"}, press="reject",
        page="/committee",
    )  # fmt: skip
    assert rejected.status_code == 303, rejected.text
    row = await our_pledge(client)
    assert row["rejected_at"] is not None
    assert row["confirmed_at"] is None
    await cash_gift(client, people, 10_000)
    assert await matched(client) == 0
    log_out(client)
    await log_in(client, people.secretary)
    workbench = (await client.get(MANAGE)).text
    assert "驳回" in workbench
    assert "承诺函没有盖章" in workbench


async def test_a_member_of_another_committee_cannot_decide(client: Client, people: People) -> None:
    assert (await record_pledge(client, people.secretary)).status_code == 303
    pledge = await our_pledge(client)
    log_out(client)
    await log_in(client, people.other_member)
    page = await client.get("/committee")
    assert "街道商会" not in page.text
    token = csrf_token((await client.get("/account")).text)
    sent = await client.post(
        f"/p/{P}/committee/pledges/{pledge['id']}",
        data={"_csrf_token": token, "decision": "confirm", "reason": ""},
    )
    assert sent.status_code == 403
    assert (await our_pledge(client))["confirmed_at"] is None
