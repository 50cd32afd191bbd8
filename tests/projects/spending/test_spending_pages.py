"""The spending pages end to end in process: propose, decide on the committee page, pay,
and the public project page showing it all — with bad input refused in Chinese."""

from __future__ import annotations

from typing import Any

import pytest

from linju.platform.storage import get_storage
from linju.projects.ledger.tables import LedgerEntry
from linju.projects.spending.tables import Attachment, Decision, Expenditure, Motion
from tests.accounts_support import in_app, log_in, log_out, make_account
from tests.forms import assert_form_refused, confirm_shown, submit, submit_shown
from tests.projects.spending.spending_support import PDF_BYTES, SLUG, funded_project, png_bytes

SPENDING = f"/p/{SLUG}/spending"


@pytest.fixture
async def people(client: Any) -> dict[str, int]:
    """The project and its people, made on the app's loop (where its pool lives)."""
    await in_app(client, funded_project)
    return {
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


async def propose(client: Any, invoice: bytes = PDF_BYTES, amount: str = "4800.00") -> Any:
    """The proposal form as the spending page renders it (its first budget line chosen)."""
    return await submit(
        client,
        SPENDING,
        f"{SPENDING}/expenditures",
        {"payee": "青山游乐设备厂", "purpose": "跷跷板两台", "amount": amount, "label": "发票"},
        {
            "invoice": ("发票.pdf", invoice, "application/pdf"),
            "invoice_public": ("发票-公开.png", png_bytes(), "image/png"),
        },
    )


async def pay(client: Any, public_id: str, method: str, detail: str = "") -> Any:
    """The payment form of an approved expenditure, as its confirmation page renders it (the
    spending page links to it: files cannot be carried through a page, ADR 0024)."""
    proof = ("回单.png", png_bytes(), "image/png")
    action = f"{SPENDING}/expenditures/{public_id}/payment"
    assert f'href="{action}"' in (await client.get(SPENDING)).text
    return await submit(
        client,
        action,
        action,
        {"paid_on": "2026-11-20", "method": method, "method_detail": detail},
        {"proof": proof},
    )


async def decide(client: Any, subject_id: str, decision: str, reason: str, shown: str = "") -> Any:
    """The decision form of the committee page (`shown`, a page seen earlier, or now); an
    approval is then confirmed on its confirmation page (ADR 0024)."""
    html = shown or (await client.get("/committee")).text
    form = f"form-decision-{subject_id}"
    answer = await submit_shown(client, html, form, {"reason": reason}, press=decision)
    if decision == "approve" and answer.status_code == 200:
        return await confirm_shown(client, answer, page="/committee")
    return answer


async def test_propose_decide_pay_and_the_public_page(client: Any, people: dict[str, int]) -> None:
    await log_in(client, people["secretary"])
    answer = await propose(client)
    assert answer.status_code == 303, answer.text
    row = await in_app(client, lambda: Expenditure.select(Expenditure.public_id).first().run())
    assert row is not None
    public_id = row["public_id"]

    log_out(client)
    await log_in(client, people["wang"])
    seen_by_wang = (await client.get("/committee")).text  # before the others decide
    log_out(client)
    await log_in(client, people["zhang"])
    page = await client.get("/committee")
    for shown in ("¥4,800.00", "跷跷板两台", "可用", "¥12,000.00", "发票"):
        assert shown in page.text
    assert (await decide(client, public_id, "approve", "价格合理")).status_code == 303
    log_out(client)
    await log_in(client, people["li"])
    assert (await decide(client, public_id, "approve", "有三家报价")).status_code == 303

    log_out(client)
    await log_in(client, people["wang"])
    late = await decide(client, public_id, "reject", "晚了", shown=seen_by_wang)
    assert_form_refused(late, "该申请已有结论", status=409)
    assert await in_app(client, lambda: Decision.count().run()) == 2

    log_out(client)
    await log_in(client, people["secretary"])
    paid = await pay(client, public_id, "transfer")
    assert paid.status_code == 303, paid.text
    assert (
        await in_app(
            client, lambda: LedgerEntry.count().where(LedgerEntry.kind == "expenditure").run()
        )
        == 1
    )

    log_out(client)
    public = await client.get(f"/p/{SLUG}")
    assert public.status_code == 200
    text = public.text
    for shown in ("已付款", "张建国", "价格合理", "李敏", "有三家报价", "¥4,800.00"):
        assert shown in text
    invoice = await in_app(
        client,
        lambda: Attachment.select().where(Attachment.owner_kind == "expenditure").first().run(),
    )
    assert invoice is not None
    assert invoice["sha256"] in text
    shown = await client.get(f"/p/{SLUG}/files/{invoice['public_id']}")
    assert shown.status_code == 200
    assert shown.headers["content-type"].startswith("image/png")
    assert shown.content != PDF_BYTES
    original = await client.get(
        f"/p/{SLUG}/files/{invoice['public_id']}/original", follow_redirects=False
    )
    assert original.status_code in (303, 401)

    # An object lost from the storage is a clear 404, never a 500.
    await in_app(client, lambda: get_storage().delete(invoice["public_path"]))
    gone = await client.get(f"/p/{SLUG}/files/{invoice['public_id']}")
    assert gone.status_code == 404
    assert gone.headers["content-type"].startswith("text/html")


async def test_a_file_that_is_not_what_it_claims_is_refused_in_chinese(
    client: Any, people: dict[str, int]
) -> None:
    await log_in(client, people["secretary"])
    answer = await propose(client, invoice=b"MZ\x90\x00 this is an exe")
    assert_form_refused(answer, "文件不是真正的 PDF、JPEG 或 PNG", status=422)
    assert await in_app(client, lambda: Expenditure.count().run()) == 0


async def test_an_amount_over_what_is_available_is_refused_in_chinese(
    client: Any, people: dict[str, int]
) -> None:
    await log_in(client, people["secretary"])
    answer = await propose(client, amount="12000.01")
    assert_form_refused(answer, "金额超过了基金目前可用的余额", status=422)
    assert 'id="e-propose-amount"' in answer.text  # beside the amount
    assert await in_app(client, lambda: Expenditure.count().run()) == 0


async def test_only_the_projects_people_reach_its_spending_pages(
    client: Any, people: dict[str, int]
) -> None:
    anonymous = await client.get(SPENDING, follow_redirects=False)
    assert anonymous.status_code == 303
    await log_in(client, people["zhang"])
    assert (await client.get(SPENDING)).status_code == 403
    empty = await client.get("/committee")
    assert "没有等待您表决的事项" in empty.text


async def test_completion_report_filed_and_signed_off_through_the_pages(
    client: Any, people: dict[str, int]
) -> None:
    await log_in(client, people["secretary"])
    await propose(client)
    row = await in_app(client, lambda: Expenditure.select(Expenditure.public_id).first().run())
    assert row is not None
    for member in ("zhang", "li"):
        log_out(client)
        await log_in(client, people[member])
        assert (await decide(client, row["public_id"], "approve", "同意")).status_code == 303
    log_out(client)
    await log_in(client, people["secretary"])
    paid = await pay(client, row["public_id"], "transfer")
    assert paid.status_code == 303, paid.text
    page = await client.get(SPENDING)
    assert "提交结项报告" in page.text
    filed = await submit(
        client,
        SPENDING,
        f"{SPENDING}/completion",
        {"summary": "两台跷跷板已安装在2号楼架空层", "leftover": "transfer"},
        {"photos": ("现场.png", png_bytes(), "image/png")},
    )
    assert filed.status_code == 303, filed.text
    motion = await in_app(client, lambda: Motion.select(Motion.id).first().run())
    assert motion is not None
    for member in ("zhang", "li"):
        log_out(client)
        await log_in(client, people[member])
        awaiting = await client.get("/committee")
        assert "两台跷跷板已安装" in awaiting.text
        signed = await decide(client, str(motion["id"]), "approve", "验收合格", awaiting.text)
        assert signed.status_code == 303
    log_out(client)
    public = await client.get(f"/p/{SLUG}")
    assert "结项报告" in public.text
    assert "已签署通过" in public.text
    assert "结余资金转入社区公共基金" in public.text
    transfer = await in_app(
        client, lambda: LedgerEntry.count().where(LedgerEntry.kind == "transfer").run()
    )
    assert transfer == 1
