"""Every staff action says what it did on the page it lands on, and every irreversible one is
confirmed first on a page that says what will happen, with the amounts, and who will see it
(docs/adr/0024-feedback-and-confirmation.md). Over HTTP, every form as its page renders it:
the original forms carry no `confirmed`, so posting them IS posting without confirmation."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

import pytest

from linju.platform.accounts.audit import Actor
from linju.platform.kernel.clock import local_today
from linju.projects.core.files import AttachmentUpload
from linju.projects.core.rules import ProjectStatus
from linju.projects.core.services.drafting import create_draft, parse_draft_form
from linju.projects.core.services.projects import change_status
from linju.projects.core.tables import BudgetLine, CommitteeMember, Project
from linju.projects.ledger.tables import LedgerEntry
from linju.projects.spending.rules import LeftoverChoice, Person
from linju.projects.spending.services import completion, expenditures
from linju.projects.spending.services.expenditures import Payment, Proposal
from linju.projects.spending.tables import Decision, Expenditure, Motion
from linju.projects.stewardship.rules import OfflineGift, PledgePlan
from linju.projects.stewardship.services.matching import create_pledge
from linju.projects.stewardship.services.offline_donations import record_offline_donation
from linju.projects.stewardship.tables import MatchingPledge, OfflineDonation
from tests.accounts_support import PASSWORD, in_app, log_in, log_out, make_account
from tests.drafts import draft_form
from tests.forms import (
    assert_form_refused,
    confirm_shown,
    find_form,
    parse_page,
    submit,
    submit_shown,
)
from tests.projects.spending.spending_support import (
    NAMES,
    PDF_BYTES,
    SECRETARY,
    SLUG,
    donate,
    funded_project,
    invoice,
    png_bytes,
)

Client = Any
SPENDING = f"/p/{SLUG}/spending"
FLASH = re.compile(r'<div class="flash" role="status" data-testid="flash">(.*?)</div>', re.S)


def told(html: str) -> str:
    """The feedback of the page, as text ("" when there is none)."""
    found = FLASH.search(html)
    return unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip() if found else ""


def part(html: str, testid: str) -> str:
    """The text of the element `data-testid=testid` (the first), tags removed."""
    start = html.index(f'data-testid="{testid}"')
    start = html.index(">", start) + 1
    return unescape(re.sub(r"<[^>]+>", "", html[start : html.index("</", start)])).strip()


def section(html: str, testid: str) -> str:
    """The text of a confirmation page's part: what will happen (`confirm-what`) or who will
    see it (`confirm-who`)."""
    start = html.index(f'data-testid="{testid}"')
    end = html.index('id="confirm-who"' if testid == "confirm-what" else "</section>", start)
    return unescape(re.sub(r"<[^>]+>", " ", html[html.index(">", start) + 1 : end]))


async def people(
    client: Client, *, size: int = 3, close: bool = True, balance: int = 1_200_000
) -> dict[str, int]:
    """童趣乐园 with `size` seats (张建国 first), each a member's account, and its secretary."""
    await in_app(client, lambda: funded_project(balance, committee_size=size, close=close))
    made = {
        "secretary": await make_account(
            "liu@example.cn", "secretary", name="刘书记", community="lvjingyuan", client=client
        )
    }
    for i, name in enumerate(NAMES[:size]):
        made[name] = await make_account(
            f"m{i}@example.cn", "committee", name=name, project=SLUG, client=client
        )
    return made


async def as_(client: Client, account: int) -> None:
    log_out(client)
    await log_in(client, account)


async def status_of(public_id: str) -> str:
    row = (
        await Expenditure.select(Expenditure.status)
        .where(Expenditure.public_id == public_id)
        .first()
    )
    assert row is not None
    return str(row["status"])


async def proposed(client: Client, amount: int = 480_000) -> str:
    """An expenditure proposed (through the service) on the first budget line, 跷跷板."""

    async def make() -> str:
        first = await BudgetLine.select(BudgetLine.id).order_by(BudgetLine.position).first()
        assert first is not None
        proposal = Proposal(
            first["id"], "青山游乐设备厂", "跷跷板两台", amount, attachments=(invoice(),)
        )
        return await expenditures.propose(SLUG, proposal, SECRETARY)

    return await in_app(client, make)


async def approve(public_id: str) -> None:
    """Approved (through the service) by the seats after the first, 李敏 and 王师傅."""
    seats = await CommitteeMember.select(CommitteeMember.id).order_by(CommitteeMember.id)
    for seat in seats[1:3]:
        await expenditures.decide(SLUG, public_id, seat["id"], True, "同意")


async def test_an_approval_is_confirmed_on_its_page_and_told_how_many_votes_remain(
    client: Client,
) -> None:
    made = await people(client, size=5)  # a quorum of 3
    public_id = await proposed(client)
    await as_(client, made["张建国"])
    inbox = (await client.get("/committee")).text
    form = f"form-decision-{public_id}"
    assert 'name="confirmed"' not in inbox

    # Without a reason: back on the inbox, the message beside the reason; nothing asked.
    empty = await submit_shown(client, inbox, form, {"reason": " "}, press="approve")
    assert_form_refused(empty, "请填写理由", status=422)
    assert f'id="e-decision-{public_id}-reason"' in empty.text
    assert 'data-testid="confirm-what"' not in empty.text

    reason = '价格合理，有三家报价 <对比> & "比价单"'
    asked = await submit_shown(client, inbox, form, {"reason": reason}, press="approve")
    assert asked.status_code == 200
    assert await in_app(client, lambda: Decision.count().run()) == 0  # nothing decided yet
    html = asked.text
    assert part(html, "confirm-amount") == "¥4,800.00"
    assert part(html, "confirm-line") == "跷跷板"
    assert part(html, "confirm-balance") == "¥12,000.00"
    assert part(html, "confirm-balance-after") == "¥7,200.00"
    assert part(html, "confirm-available-after") == "¥7,200.00"
    assert "青山游乐设备厂" in html
    assert "加上您这一票：已有 1 票，共需 3 票。" in part(html, "confirm-votes")
    assert "所有人" in section(html, "confirm-who")
    assert "捐款人" in section(html, "confirm-who")
    assert "此操作无法撤销" in html
    confirm = next(f for f in parse_page(html).forms if "confirmed" in f.names())
    carried = {c.name: c.value for c in confirm.controls if c.type == "hidden"}
    assert carried["reason"] == reason  # the reason as typed, unchanged
    assert carried["decision"] == "approve"
    assert carried["subject_id"] == public_id
    assert 'href="/committee#' in html  # the way back

    landed = await confirm_shown(client, asked, page="/committee")
    assert landed.status_code == 303
    assert landed.headers["location"] == "/committee"
    inbox_now = await client.get("/committee")
    assert told(inbox_now.text) == "已批准，还差 2 票"
    assert told((await client.get("/committee")).text) == ""  # said once
    stored = await in_app(client, lambda: Decision.select(Decision.reason).first().run())
    assert stored is not None
    assert stored["reason"] == reason

    await as_(client, made["李敏"])
    await client.get("/lang/en")
    inbox = (await client.get("/committee")).text
    asked = await submit_shown(client, inbox, form, {"reason": "Fair price"}, press="approve")
    assert "With your approval: 2 of the 3 approvals needed." in asked.text
    assert "Everyone" in section(asked.text, "confirm-who")
    await confirm_shown(client, asked, page="/committee")
    assert told((await client.get("/committee")).text) == "Approved: 1 more vote needed"

    await as_(client, made["王师傅"])
    await client.get("/lang/zh_CN")
    inbox = (await client.get("/committee")).text
    asked = await submit_shown(client, inbox, form, {"reason": "同意"}, press="approve")
    assert "您这一票将决定结果：所需 3 票中的第 3 票。" in asked.text
    await confirm_shown(client, asked, page="/committee")
    assert told((await client.get("/committee")).text) == "已批准，支出已通过，书记现在可以付款"
    status = await in_app(client, lambda: Expenditure.select(Expenditure.status).first().run())
    assert status is not None
    assert status["status"] == "approved"


async def test_a_rejection_needs_no_confirmation_and_is_told_what_remains(client: Client) -> None:
    made = await people(client, size=5)
    public_id = await proposed(client)
    await as_(client, made["张建国"])
    answer = await submit(
        client, "/committee", f"form-decision-{public_id}", {"reason": "太贵"}, press="reject"
    )
    assert answer.status_code == 303
    assert told((await client.get("/committee")).text) == "已否决，再有 2 票否决即不通过"


async def test_paying_is_confirmed_on_the_page_that_holds_its_form(client: Client) -> None:
    made = await people(client)
    public_id = await proposed(client)

    await in_app(client, lambda: approve(public_id))
    await as_(client, made["secretary"])
    spending = (await client.get(SPENDING)).text
    action = f"{SPENDING}/expenditures/{public_id}/payment"
    assert f'href="{action}"' in spending  # a link to the page, no payment form here
    page = await client.get(action)
    html = page.text
    assert part(html, "confirm-amount") == "¥4,800.00"
    assert part(html, "confirm-line") == "跷跷板"
    assert part(html, "confirm-payee") == "青山游乐设备厂"
    assert part(html, "confirm-balance") == "¥12,000.00"
    assert part(html, "confirm-balance-after") == "¥7,200.00"
    assert "公开账本" in section(html, "confirm-who")
    assert find_form(html, action).multipart

    proof = {"proof": ("回单.png", png_bytes(), "image/png")}
    late = (local_today() + timedelta(days=3)).isoformat()
    refused = await submit_shown(
        client, html, action, {"paid_on": late, "method": "transfer"}, proof, page=action
    )
    assert_form_refused(refused, "支付日期不能晚于今天", status=422)
    assert f'id="e-pay-{public_id}-paid_on"' in refused.text  # beside the date, on this page
    assert 'data-testid="confirm-what"' in refused.text
    assert await in_app(client, lambda: LedgerEntry.count().where(
        LedgerEntry.kind == "expenditure").run()) == 0  # fmt: skip

    paid = await submit_shown(
        client, html, action, {"method": "transfer"}, proof, page=action, follow_redirects=True
    )
    entry = await in_app(
        client,
        lambda: LedgerEntry.select(LedgerEntry.seq).where(LedgerEntry.kind == "expenditure")
        .first().run(),
    )  # fmt: skip
    assert entry is not None
    assert told(paid.text) == f"付款已记录，已记入公开账本第 {entry['seq']} 笔"
    assert paid.url.path == f"/p/{SLUG}"  # the public page, where the payment now shows


async def test_closing_fundraising_shows_the_goal_and_what_was_raised_first(
    client: Client,
) -> None:
    made = await people(client, close=False, balance=500_000)
    await as_(client, made["secretary"])
    asked = await submit(client, SPENDING, f"{SPENDING}/fundraising-closed")
    html = asked.text
    assert part(html, "confirm-goal") == "¥12,000.00"
    assert part(html, "confirm-raised") == "¥5,000.00"
    assert "距目标还差 ¥7,000.00" in part(html, "confirm-short")
    assert "捐款人" in section(html, "confirm-who")

    async def status() -> str:
        row = await Project.select(Project.status).where(Project.slug == SLUG).first()
        assert row is not None
        return str(row["status"])

    assert await in_app(client, status) == "fundraising"  # shown, not done
    again = await client.get(f"{SPENDING}/fundraising-closed")  # the same page at its address
    assert part(again.text, "confirm-raised") == "¥5,000.00"
    assert 'class="button danger"' in again.text
    closed = await confirm_shown(client, asked, page=SPENDING)
    assert closed.status_code == 303
    assert await in_app(client, status) == "funded"
    landed = await client.get(closed.headers["location"])
    assert told(landed.text) == "筹款已结束，项目不再接受捐款"
    gone = await client.get(f"{SPENDING}/fundraising-closed")
    assert gone.status_code == 409


async def test_asking_to_cancel_carries_the_reason_through_its_confirmation(
    client: Client,
) -> None:
    made = await people(client, close=False, balance=300_000)
    await as_(client, made["secretary"])
    empty = await submit(client, SPENDING, f"{SPENDING}/cancellation", {"reason": " "})
    assert_form_refused(empty, "请填写理由", status=422)
    assert 'id="e-cancel-reason"' in empty.text  # beside the field, on the spending page
    asked = await submit(client, SPENDING, f"{SPENDING}/cancellation", {"reason": "场地无法落实"})
    assert part(asked.text, "confirm-raised") == "¥3,000.00"
    assert "场地无法落实" in section(asked.text, "confirm-what")
    assert await in_app(client, lambda: Motion.count().run()) == 0
    sent = await confirm_shown(client, asked, page=SPENDING)
    assert sent.status_code == 303
    motion = await in_app(client, lambda: Motion.select(Motion.summary).first().run())
    assert motion is not None
    assert motion["summary"] == "场地无法落实"
    landed = await client.get(sent.headers["location"])
    assert told(landed.text) == "已提交监督委员会，经其批准才会取消项目"


async def test_signing_off_completion_shows_the_leftover_and_where_it_goes(
    client: Client,
) -> None:
    made = await people(client)
    public_id = await proposed(client)

    async def pay_and_report() -> int:
        await approve(public_id)
        proof = AttachmentUpload(original=invoice().original, publish_original=True)
        await expenditures.record_payment(SLUG, public_id, Payment(local_today(), "转账", proof))
        return await completion.file_report(
            SLUG, "跷跷板已安装", Person("刘书记"), LeftoverChoice.TRANSFER
        )

    motion = await in_app(client, pay_and_report)
    await as_(client, made["张建国"])
    asked = await submit(
        client, "/committee", f"form-decision-{motion}", {"reason": "验收合格"}, press="approve"
    )
    html = asked.text
    assert part(html, "confirm-raised") == "¥12,000.00"
    assert part(html, "confirm-spent") == "¥4,800.00"
    assert part(html, "confirm-balance") == "¥7,200.00"
    assert "结余的 ¥7,200.00 将转入社区公共基金" in html
    await confirm_shown(client, asked, page="/committee")
    assert told((await client.get("/committee")).text) == "已批准，还差 1 票"
    await as_(client, made["李敏"])
    asked = await submit(
        client, "/committee", f"form-decision-{motion}", {"reason": "同意"}, press="approve"
    )
    await confirm_shown(client, asked, page="/committee")
    assert told((await client.get("/committee")).text) == "已签署，项目已结项"


def a_draft() -> dict[str, str]:
    return draft_form(filed=False)


async def test_publishing_is_confirmed_and_every_secretary_action_is_told(client: Client) -> None:
    made = await people(client, close=False)
    await in_app(
        client,
        lambda: create_draft(
            Actor(made["secretary"], "s"), parse_draft_form(a_draft(), "lvjingyuan")
        ),
    )
    await as_(client, made["secretary"])
    manage = "/p/reading-corner/manage"
    saved = await submit(client, manage, f"{manage}/draft", {"summary": "给孩子们一个读书的地方"})
    assert saved.status_code == 303
    assert told((await client.get(saved.headers["location"])).text) == "草稿已保存"

    asked = await submit(client, manage, f"{manage}/publish")
    html = asked.text
    assert part(html, "confirm-goal") == "¥3,000.00"
    assert "绿景苑社区" in section(html, "confirm-who")
    assert part(html, "confirm-heading") == "发布“楼道读书角”？"
    assert (await client.get(f"{manage}/publish")).status_code == 200  # the page at its address
    published = await confirm_shown(client, asked, page=manage)
    landed = await client.get(published.headers["location"])
    assert told(landed.text) == "已发布，居民现在可以看到项目并捐款"

    today = local_today().isoformat()
    project = f"/p/{SLUG}/manage"
    cash = await submit(
        client, project, f"{project}/offline",
        {"amount": "200", "donor_name": "陈大爷", "received_on": today},
        {"evidence": ("收据.png", png_bytes(), "image/png")},
        follow_redirects=True,
    )  # fmt: skip
    assert told(cash.text) == "已记录，等待另一位监督委员确认"
    pledge = await submit(
        client, project, f"{project}/pledges",
        {"sponsor_name": "区妇联", "sponsor_slug": "fulian", "ratio": "1:1", "cap": "5000",
         "starts_on": today, "ends_on": (local_today() + timedelta(days=9)).isoformat()},
        {"letter": ("承诺函.png", png_bytes(), "image/png")},
        follow_redirects=True,
    )  # fmt: skip
    assert told(pledge.text) == "已记录，等待另一位监督委员确认"
    update = await submit(
        client, project, f"{project}/updates", {"body": "场地已清理"}, follow_redirects=True
    )
    assert told(update.text) == "进展已发布到项目页面"
    help_given = await submit(
        client, project, f"{project}/in-kind",
        {"kind": "labour", "contributor": "3号楼居民", "description": "平整场地",
         "labour_hours": "16"},
        follow_redirects=True,
    )  # fmt: skip
    assert told(help_given.text) == "已记入实物与劳务登记"


async def test_a_gift_is_confirmed_by_one_route_that_returns_to_the_page_it_came_from(
    client: Client,
) -> None:
    made = await people(client, close=False, balance=0)  # far from the goal: still raising

    async def record(donor: str) -> str:
        gift = OfflineGift(20_000, donor, False, local_today(), "cash", "/photos/x.jpg", "0" * 64)
        return await record_offline_donation(Actor(made["secretary"], "s"), SLUG, gift)

    first = await in_app(client, lambda: record("陈大爷"))
    second = await in_app(client, lambda: record("王奶奶"))
    await as_(client, made["李敏"])
    route = f"/p/{SLUG}/committee/gifts/{{gift}}"

    listing = f"/p/{SLUG}/offline"
    form = find_form((await client.get(listing)).text, route.format(gift=first))
    assert {c.value for c in form.controls if c.name == "back"} == {"offline"}
    answer = await submit(client, listing, route.format(gift=first))
    assert answer.headers["location"] == f"{listing}#o-{first}"
    landed = await client.get(answer.headers["location"])
    seq = await in_app(client, lambda: LedgerEntry.select(LedgerEntry.seq).where(
        LedgerEntry.public_ref == first).first().run())  # fmt: skip
    assert seq is not None
    assert told(landed.text) == f"已确认，已记入公开账本第 {seq['seq']} 笔"

    form = find_form((await client.get("/committee")).text, route.format(gift=second))
    assert {c.value for c in form.controls if c.name == "back"} == {"inbox"}
    answer = await submit(client, "/committee", route.format(gift=second))
    assert answer.headers["location"] == "/committee"
    assert told((await client.get("/committee")).text).startswith("已确认，已记入公开账本第")
    confirmed = await in_app(
        client,
        lambda: OfflineDonation.count().where(OfflineDonation.confirmed_at.is_not_null()).run(),
    )
    assert confirmed == 2


@pytest.mark.parametrize("language", ["zh_CN", "en"])
async def test_a_proposal_is_told_how_many_approvals_decide_it(
    client: Client, language: str
) -> None:
    made = await people(client, size=4)  # a quorum of 3
    await as_(client, made["secretary"])
    if language == "en":
        await client.get("/lang/en")
    answer = await submit(
        client, SPENDING, f"{SPENDING}/expenditures",
        {"payee": "青山游乐设备厂", "purpose": "跷跷板两台", "amount": "4800", "label": "发票"},
        {"invoice": ("发票.pdf", PDF_BYTES, "application/pdf")},
        follow_redirects=True,
    )  # fmt: skip
    expected = {
        "zh_CN": "已提交监督委员会，需 3 票批准",
        "en": "Sent to the committee: 3 approvals decide it",
    }
    assert told(answer.text) == expected[language]
    assert await in_app(client, lambda: Expenditure.count().run()) == 1


async def test_the_other_actions_say_what_they_did_too(client: Client) -> None:
    """A withdrawal, a pledge confirmed, a completion report filed, a password changed and a
    community created: the page each lands on says so, once."""
    made = await people(client, close=False, balance=0)
    now = datetime.now(UTC)
    plan = PledgePlan(
        "fulian", "区妇联", 1, 1, 100_000, now, now + timedelta(days=9), "/photos/l.jpg", "0" * 64
    )
    await in_app(client, lambda: create_pledge(Actor(made["secretary"], "s"), SLUG, plan))
    await as_(client, made["李敏"])
    pledge = await in_app(client, lambda: MatchingPledge.select(MatchingPledge.id).first().run())
    assert pledge is not None
    answer = await submit(
        client, "/committee", f"/p/{SLUG}/committee/pledges/{pledge['id']}", press="confirm",
        follow_redirects=True,
    )  # fmt: skip
    assert told(answer.text) == "已确认，配捐从现在起生效"

    await as_(client, made["secretary"])
    await in_app(client, lambda: change_status(SLUG, ProjectStatus.FUNDED))
    await in_app(client, lambda: donate(1_200_000, "seed"))
    public_id = await proposed(client)
    asked = await submit(
        client, SPENDING, f"{SPENDING}/expenditures/{public_id}/withdrawal", {"reason": "报价有误"}
    )  # fmt: skip
    assert "撤回向" in asked.text  # its confirmation page, with the reason carried
    assert "报价有误" in asked.text
    assert await in_app(client, lambda: status_of(public_id)) == "proposed"  # nothing yet
    withdrawn = await confirm_shown(client, asked, page=SPENDING)
    assert withdrawn.status_code == 303
    withdrawn = await client.get(withdrawn.headers["location"])
    assert told(withdrawn.text) == "已撤回，监督委员会不再表决"
    assert await in_app(client, lambda: status_of(public_id)) == "withdrawn"
    assert told((await client.get(SPENDING)).text) == ""  # once

    password = await submit(
        client, "/account", "/account/password",
        {"current": PASSWORD, "new": "a brand new secret"}, follow_redirects=True,
    )  # fmt: skip
    assert told(password.text) == "密码已修改。"

    admin = await make_account("admin@example.cn", "admin", client=client)
    await as_(client, admin)
    await client.get("/lang/en")
    created = await submit(
        client, "/admin", "/admin/communities",
        {"slug": "heping", "name": "和平里社区", "district": "东城区"}, follow_redirects=True,
    )  # fmt: skip
    assert told(created.text) == "The community was created."


async def test_an_approval_asked_from_a_stale_page_is_refused_before_any_confirmation(
    client: Client,
) -> None:
    made = await people(client)
    public_id = await proposed(client)
    await as_(client, made["张建国"])
    seen = (await client.get("/committee")).text  # before the others decide
    await in_app(client, lambda: approve(public_id))  # 李敏 and 王师傅 approve: decided
    late = await submit_shown(
        client, seen, f"form-decision-{public_id}", {"reason": "同意"}, press="approve",
        page="/committee",
    )  # fmt: skip
    assert_form_refused(late, "该申请已有结论", status=409)
    assert 'data-testid="confirm-what"' not in late.text
    assert await in_app(client, lambda: Decision.count().run()) == 2
