"""The committee member's inbox, /committee (docs/adr/0021-finding-your-way.md): everything that
awaits THEM, each with its figures on one screen, and, in place of buttons that would fail, why
they may not act: the payee and the proposer of an expenditure do not vote, the recorder of an
offline gift or a pledge does not confirm it. An offline gift or a pledge recorded is mailed to
the project's committee members other than the recorder, queued with the record. Over HTTP,
every form submitted as its page renders it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from linju.platform.accounts.tables import SentMail
from linju.platform.jobs import queue
from linju.platform.jobs.worker import drain_jobs
from linju.platform.kernel.clock import local_today
from linju.projects.spending.tables import Decision, Expenditure
from linju.projects.stewardship.tables import OfflineDonation
from tests.accounts_support import csrf_token, in_app, log_in, log_out, make_account
from tests.forms import assert_form_refused, confirm_shown, find_form, submit, submit_shown
from tests.projects.spending.spending_support import PDF_BYTES, SLUG, funded_project, png_bytes

Client = Any
SPENDING = f"/p/{SLUG}/spending"
MANAGE = f"/p/{SLUG}/manage"


async def people(client: Client, close: bool) -> dict[str, int]:
    await in_app(client, lambda: funded_project(close=close))
    made = {
        "secretary": await make_account(
            "liu@example.cn", "secretary", name="刘书记", community="lvjingyuan", client=client
        ),
        "zhang": await make_account(
            "zhang@example.cn", "committee", name="张建国", project=SLUG, client=client
        ),
        "li": await make_account(
            "li@example.cn", "committee", name="李敏", project=SLUG, client=client
        ),
        "wang": await make_account(
            "wang@example.cn", "committee", name="王师傅", project=SLUG, client=client
        ),
    }
    # 张建国 is also the community's secretary: he can propose, and record gifts.
    await make_account("zhang@example.cn", "secretary", community="lvjingyuan", client=client)
    return made


async def as_(client: Client, account: int) -> None:
    log_out(client)
    await log_in(client, account)


async def propose(client: Client, payee: str) -> str:
    answer = await submit(
        client,
        SPENDING,
        f"{SPENDING}/expenditures",
        {"payee": payee, "purpose": "跷跷板两台", "amount": "4800.00", "label": "发票"},
        {"invoice": ("发票.pdf", PDF_BYTES, "application/pdf")},
    )
    assert answer.status_code == 303, answer.text[:500]
    row = await in_app(
        client,
        lambda: Expenditure.select(Expenditure.public_id).where(Expenditure.payee == payee)
        .first().run(),
    )  # fmt: skip
    assert row is not None
    return str(row["public_id"])


def card(html: str, anchor: str) -> str:
    """The inbox's card whose id is `anchor`, as text."""
    start = html.index(f'id="{anchor}"')
    return html[start : html.index("</article>", start)]


async def test_the_payee_and_the_proposer_are_told_why_they_do_not_vote(client: Client) -> None:
    p = await people(client, close=True)
    await as_(client, p["zhang"])
    to_li = await propose(client, "李敏")  # 张建国 proposes; 李敏 is paid

    inbox = (await client.get("/committee")).text
    mine = card(inbox, to_li)
    assert "您是提议人，不参与表决" in mine
    assert "form-decision" not in mine
    for figure in ("¥4,800.00", "跷跷板", "¥12,000.00", "发票"):
        assert figure in mine

    await as_(client, p["li"])
    inbox = (await client.get("/committee")).text
    theirs = card(inbox, to_li)
    assert "您是收款人，不参与表决" in theirs
    assert "form-decision" not in theirs

    await as_(client, p["wang"])
    inbox = (await client.get("/committee")).text
    assert "不参与表决" not in card(inbox, to_li)
    form = find_form(inbox, f"form-decision-{to_li}")
    assert form.action == f"/p/{SLUG}/committee/decisions"
    asked = await submit_shown(
        client, inbox, f"form-decision-{to_li}", {"reason": "价格合理"}, press="approve",
        page="/committee",
    )  # fmt: skip
    assert await in_app(client, lambda: Decision.count().run()) == 0  # asked, not yet decided
    decided = await confirm_shown(client, asked, page="/committee")
    assert decided.status_code == 303
    assert await in_app(client, lambda: Decision.count().run()) == 1
    # Decided: it leaves his inbox.
    assert to_li not in (await client.get("/committee")).text


async def test_an_offline_gift_awaits_the_other_members_and_is_mailed_to_them(
    client: Client,
) -> None:
    p = await people(client, close=False)  # still raising money
    await as_(client, p["zhang"])  # a member who is also the secretary records it
    recorded = await submit(
        client, MANAGE, f"{MANAGE}/offline",
        {"amount": "300", "donor_name": "王奶奶", "received_on": local_today().isoformat(),
         "method": "cash"},
        {"evidence": ("收据.png", png_bytes(), "image/png")},
    )  # fmt: skip
    assert recorded.status_code == 303, recorded.text[:500]
    gift = await in_app(client, lambda: OfflineDonation.select().first().run())
    assert gift is not None
    anchor = f"gift-{gift['public_id']}"

    # The notice is queued with the record, to every member but the recorder.
    [job] = await in_app(client, queue.list_jobs)
    assert job.name == "accounts.mail"
    await in_app(client, drain_jobs)
    sent = await in_app(
        client,
        lambda: SentMail.select(SentMail.recipient, SentMail.subject)
        .order_by(SentMail.recipient).run(),
    )  # fmt: skip
    assert [r["recipient"] for r in sent] == ["li@example.cn", "wang@example.cn"]
    assert all("童趣乐园" in r["subject"] and "线下捐款" in r["subject"] for r in sent)

    inbox = (await client.get("/committee")).text
    own = card(inbox, anchor)
    assert "这笔捐款是您登记的，须由其他监督委员会成员确认。" in own
    assert "<form" not in own

    await as_(client, p["wang"])
    seen_by_wang = (await client.get("/committee")).text  # before 李敏 confirms

    await as_(client, p["li"])
    inbox = (await client.get("/committee")).text
    theirs = card(inbox, anchor)
    for shown in ("¥300.00", "王奶奶", "现金", "凭证照片", gift["evidence_sha256"], "张建国"):
        assert shown in theirs
    confirmed = await submit_shown(
        client, inbox, f"form-confirm-{gift['public_id']}", page="/committee"
    )
    assert confirmed.status_code == 303
    assert confirmed.headers["location"] == "/committee"
    row = await in_app(client, lambda: OfflineDonation.select().first().run())
    assert row is not None
    assert row["confirmed_by"] == p["li"]
    assert anchor not in (await client.get("/committee")).text

    # Confirmed already (the page he saw before): the inbox again with the reason, nothing more.
    await as_(client, p["wang"])
    late = await submit_shown(
        client, seen_by_wang, f"form-confirm-{gift['public_id']}", page="/committee"
    )
    assert_form_refused(late, "这笔捐款已经确认过了", status=409)
    assert await in_app(client, lambda: OfflineDonation.count().where(
        OfflineDonation.confirmed_by == p["wang"]).run()) == 0  # fmt: skip


async def test_a_pledge_recorded_is_mailed_to_the_members_other_than_the_recorder(
    client: Client,
) -> None:
    p = await people(client, close=False)
    await as_(client, p["zhang"])
    recorded = await submit(
        client, MANAGE, f"{MANAGE}/pledges",
        {"sponsor_name": "街道商会", "sponsor_slug": "jiedao-shanghui", "ratio": "1:1",
         "cap": "2000", "starts_on": local_today().isoformat(),
         "ends_on": (local_today() + timedelta(days=30)).isoformat()},
        {"letter": ("letter.png", png_bytes(), "image/png")},
    )  # fmt: skip
    assert recorded.status_code == 303, recorded.text[:500]
    await in_app(client, drain_jobs)
    sent = await in_app(
        client,
        lambda: SentMail.select(SentMail.recipient, SentMail.subject)
        .order_by(SentMail.recipient).run(),
    )  # fmt: skip
    assert [r["recipient"] for r in sent] == ["li@example.cn", "wang@example.cn"]
    assert all("配捐" in r["subject"] for r in sent)
    inbox = (await client.get("/committee")).text
    assert "这项配捐承诺是您登记的" in inbox
    await as_(client, p["li"])
    assert 'data-testid="pledge-own"' not in (await client.get("/committee")).text


@pytest.mark.parametrize("gift", ["nope", "x" * 65])
async def test_an_unknown_gift_is_a_page_not_a_crash(client: Client, gift: str) -> None:
    p = await people(client, close=False)
    await as_(client, p["li"])
    inbox = (await client.get("/committee")).text
    token = csrf_token(inbox)
    answer = await client.post(f"/p/{SLUG}/committee/gifts/{gift}", data={"_csrf_token": token})
    assert 400 <= answer.status_code < 500
    assert answer.headers["content-type"].startswith("text/html")


async def test_an_over_the_plan_justification_reads_in_the_members_language(
    client: Client,
) -> None:
    """The reason a proposal goes over its budget line is shown with the label's punctuation
    of the member's language (Chinese "：", English ": "), as on the public page."""
    p = await people(client, close=True)
    await as_(client, p["zhang"])
    over = await submit(
        client,
        SPENDING,
        f"{SPENDING}/expenditures",
        {
            "payee": "青山游乐设备厂",
            "purpose": "跷跷板两台加安装",
            "amount": "6000.00",
            "justification": "两台加安装",
            "label": "发票",
        },
        {"invoice": ("发票.pdf", PDF_BYTES, "application/pdf")},
    )
    assert over.status_code == 303, over.text[:500]
    await as_(client, p["wang"])
    assert "两台加安装" in (await client.get("/committee")).text
    await client.get("/lang/en")
    english = (await client.get("/committee")).text
    assert "Over the line's plan because: 两台加安装" in english
    assert "：两台加安装" not in english
