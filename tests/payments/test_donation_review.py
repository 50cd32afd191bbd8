"""The donation's review step over HTTP, with the forms as rendered (WCAG 2.2 SC 3.3.4, issue 15,
docs/adr/0027-host-and-fund.md): the amount in figures and capital numerals, the name on the
wall, the message, the recipient fund and the gateway; nothing written until the donor
confirms; "返回修改" brings the form back filled in; values changed on the way are checked
again and refused, nothing written."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from linju.projects.core.tables import Project
from linju.projects.donations.rules import amount_in_capitals
from linju.projects.donations.tables import Donation
from tests.forms import assert_form_refused, find_form, submit, submit_shown

from .helpers import donation_count

pytestmark = pytest.mark.usefixtures("demo")
SLUG = "tongqu-leyuan"
Client = httpx.AsyncClient
FUND = "青山区慈善会·绿景苑社区童趣乐园项目基金"


async def _review(client: Client, fields: dict[str, str | bool]) -> Any:
    return await submit(client, f"/p/{SLUG}", f"/p/{SLUG}/donate", fields)


def test_capital_numerals_are_written_by_cn2an() -> None:
    assert amount_in_capitals(20_000) == "人民币贰佰元整"
    assert amount_in_capitals(8_850) == "人民币捌拾捌元伍角"
    assert amount_in_capitals(100_005) == "人民币壹仟元零伍分"
    assert amount_in_capitals(5_000_000) == "人民币伍万元整"


async def test_the_review_shows_everything_and_writes_nothing(client: Client) -> None:
    review = await _review(
        client,
        {
            "amount_choice": "custom",
            "custom_amount": "200",
            "display_name": "小李",
            "message": "加油！",
            "email": "li@example.cn",
        },
    )
    assert review.status_code == 200, review.text[:500]
    for text in (
        "核对捐款信息",
        "童趣乐园",
        "¥200.00",
        "人民币贰佰元整",
        "小李",
        "加油！",
        "li@example.cn",
        FUND,
        "测试收银台：本站的模拟支付，不收真钱",
        "确认并支付",
        "返回修改",
    ):
        assert text in review.text, text
    assert '<meta name="robots" content="noindex">' in review.text
    assert await donation_count() == 0

    paid = await submit_shown(client, review.text, "form-review", page="/", press="pay")
    assert paid.status_code == 303
    assert "/sandbox/checkout/sbx_" in paid.headers["location"]
    rows = await Donation.select(
        Donation.amount_fen, Donation.display_name, Donation.message, Donation.email
    ).where(Donation.status == "pending")
    expected = {"amount_fen": 20_000, "display_name": "小李", "message": "加油！"}
    assert rows == [{**expected, "email": "li@example.cn"}]


async def test_an_anonymous_gift_is_reviewed_as_anonymous_in_english_without_capitals(
    client: Client,
) -> None:
    await client.get("/lang/en")
    review = await _review(client, {"amount_choice": "5000", "anonymous": "on"})
    assert review.status_code == 200, review.text[:500]
    assert "Check your donation" in review.text
    assert "¥50.00" in review.text
    assert "人民币" not in review.text  # capitals are Chinese; English shows the figures
    assert 'data-testid="review-name">Anonymous<' in review.text
    assert "No message" in review.text
    assert f"{FUND} · a charity fund of 青山区慈善会" in review.text
    assert "Confirm and pay" in review.text


async def test_going_back_keeps_every_value_and_writes_nothing(client: Client) -> None:
    typed: dict[str, str | bool] = {
        "amount_choice": "custom",
        "custom_amount": "88.5",
        "display_name": "王阿姨",
        "anonymous": "on",
        "message": "给孩子们",
        "email": "wang@example.cn",
    }
    review = await _review(client, typed)
    back = await submit_shown(client, review.text, "form-review", page="/", press="edit")
    assert back.status_code == 200
    assert 'data-testid="error-summary"' not in back.text
    form = find_form(back.text, f"/p/{SLUG}/donate")
    sent = dict(form.submission()[0])
    for name, value in typed.items():
        assert sent[name] == value, name
    assert await donation_count() == 0
    # and the form, sent again as it came back, reviews the same gift
    again = await submit_shown(client, back.text, f"/p/{SLUG}/donate", page=f"/p/{SLUG}")
    assert "人民币捌拾捌元伍角" in again.text
    assert await donation_count() == 0


@pytest.mark.parametrize(
    ("tampered", "message"),
    [
        ({"custom_amount": "0.5"}, "最少捐 ¥1.00"),
        ({"custom_amount": "99999999"}, "超过了平台单笔捐款的上限"),
        ({"custom_amount": "", "amount_choice": "777"}, "请选择或输入金额"),
        ({"display_name": "名" * 41}, "署名最多 40 个字"),
        ({"email": "not-an-email"}, "电子邮箱地址格式不对"),
    ],
)
async def test_values_changed_after_the_review_are_refused_and_nothing_is_written(
    client: Client, tampered: dict[str, str], message: str
) -> None:
    review = await _review(client, {"amount_choice": "custom", "custom_amount": "20"})
    form = find_form(review.text, "form-review")
    data = dict(form.submission(press="pay")[0])
    data.update(tampered)  # what a hand-edited page would send back
    answer = await client.post(f"/p/{SLUG}/donate/confirmation", data=data, follow_redirects=False)
    assert_form_refused(answer, message, status=422)
    assert 'data-testid="donate-form"' in answer.text
    assert await donation_count() == 0


async def test_a_project_that_stopped_taking_money_after_the_review_is_refused(
    client: Client,
) -> None:
    review = await _review(client, {"amount_choice": "1000"})
    assert review.status_code == 200
    await Project.update({Project.status: "funded"}).where(Project.slug == SLUG)
    answer = await submit_shown(client, review.text, "form-review", page="/", press="pay")
    assert answer.status_code == 409
    assert "本项目目前不接受捐款" in answer.text
    assert await donation_count() == 0
