"""The payment method is a choice on the secretary's forms (issue 14, ADR 0025): 现金, 银行转账,
微信, 支付宝, or 其他 with the words typed beside it. A choice is stored as its code and named in
each visitor's language; "other" stores what was typed and shows it as typed; "other" with nothing
typed is refused beside the field, nothing written. Values stored as free text before still read
(the usual words still named in each language). Forms are posted as the pages render them."""

from __future__ import annotations

from typing import Any

import pytest

from linju.projects.core.rules import payment_method_from_choice
from linju.projects.ledger.tables import LedgerEntry
from linju.projects.spending.read import payment_method_code
from linju.projects.spending.tables import Expenditure
from tests.accounts_support import in_app, log_in, log_out
from tests.forms import assert_form_refused
from tests.projects.spending.spending_support import SLUG
from tests.projects.spending.test_spending_pages import SPENDING, decide, pay, people, propose

__all__ = ["people"]  # the fixture, shared with the spending pages' tests


async def _approved(client: Any, people: dict[str, int]) -> str:
    await log_in(client, people["secretary"])
    assert (await propose(client)).status_code == 303
    row = await in_app(client, lambda: Expenditure.select(Expenditure.public_id).first().run())
    assert row is not None
    for member in ("zhang", "li"):
        log_out(client)
        await log_in(client, people[member])
        assert (await decide(client, row["public_id"], "approve", "同意")).status_code == 303
    log_out(client)
    await log_in(client, people["secretary"])
    return str(row["public_id"])


async def _stored(client: Any, public_id: str) -> str:
    row = await in_app(
        client,
        lambda: (
            Expenditure.select(Expenditure.payment_method)
            .where(Expenditure.public_id == public_id)
            .first()
            .run()
        ),
    )
    assert row is not None
    return str(row["payment_method"])


async def _expenditures(client: Any) -> int:
    return await in_app(
        client, lambda: LedgerEntry.count().where(LedgerEntry.kind == "expenditure").run()
    )


async def test_a_chosen_method_is_stored_as_its_code_and_named_in_each_language(
    client: Any, people: dict[str, int]
) -> None:
    public_id = await _approved(client, people)
    paid = await pay(client, public_id, "wechat")
    assert paid.status_code == 303, paid.text[:500]
    assert await _stored(client, public_id) == "wechat"
    log_out(client)
    assert "微信支付" in (await client.get(f"/p/{SLUG}")).text
    await client.get("/lang/en")
    english = (await client.get(f"/p/{SLUG}")).text
    assert "by WeChat Pay" in english
    assert "微信" not in english


async def test_other_stores_the_words_typed_and_shows_them(
    client: Any, people: dict[str, int]
) -> None:
    public_id = await _approved(client, people)
    refused = await pay(client, public_id, "other")
    assert_form_refused(refused, "请写明支付方式", status=422)
    assert 'id="e-pay-' + public_id + '-method_detail"' in refused.text  # beside the field
    assert await _expenditures(client) == 0
    paid = await pay(client, public_id, "other", "  支票  ")
    assert paid.status_code == 303, paid.text[:500]
    assert await _stored(client, public_id) == "支票"
    assert "支票" in (await client.get(f"/p/{SLUG}")).text


async def test_the_form_offers_the_known_methods_only(client: Any, people: dict[str, int]) -> None:
    public_id = await _approved(client, people)
    page = (await client.get(f"{SPENDING}/expenditures/{public_id}/payment")).text
    for code, words in (
        ("transfer", "银行转账"),
        ("cash", "现金"),
        ("wechat", "微信支付"),
        ("alipay", "支付宝"),
        ("other", "其他"),
    ):
        assert f'<option value="{code}"' in page
        assert f">{words}</option>" in page
    with pytest.raises(AssertionError, match="has no option"):
        await pay(client, public_id, "银行转账")  # free text is no longer what the page sends


def test_choices_become_codes_and_old_free_text_still_reads() -> None:
    assert payment_method_from_choice("alipay", "ignored") == "alipay"
    assert payment_method_from_choice("other", " 支票  号 ") == "支票 号"
    assert payment_method_from_choice("other", "   ") is None
    assert payment_method_from_choice("", "") is None
    assert payment_method_from_choice("bitcoin", "") is None
    for code in ("transfer", "cash", "wechat", "alipay"):
        assert payment_method_code(code) == code  # a stored code is named in each language
    assert payment_method_code("银行转账") == "transfer"  # a value typed before this choice
    assert payment_method_code("支票") == ""  # other words: shown as typed
