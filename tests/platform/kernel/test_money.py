from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linju.platform.kernel.money import CurrencyMismatch, Money, format_money, percent_of


@pytest.mark.parametrize("bad", [1.5, 12.0, True, "100", None])
def test_money_refuses_anything_but_an_integer(bad: object) -> None:
    with pytest.raises(TypeError):
        Money(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("code", ["cny", "CN", "YUAN", "C1Y"])
def test_money_refuses_a_malformed_currency(code: str) -> None:
    with pytest.raises(ValueError, match="ISO 4217"):
        Money(100, code)


def test_arithmetic_keeps_the_currency_and_refuses_mixing() -> None:
    assert Money(150) + Money(50) == Money(200)
    assert Money(150) - Money(200) == Money(-50)
    assert -Money(5) == Money(-5)
    with pytest.raises(CurrencyMismatch):
        Money(1, "CNY") + Money(1, "USD")
    with pytest.raises(CurrencyMismatch):
        _ = Money(1, "CNY") < Money(1, "USD")


@pytest.mark.parametrize(
    ("fen", "locale", "shown"),
    [
        (1_200_000, "zh_CN", "¥12,000.00"),
        (1_200_000, "en", "¥12,000.00"),
        (1, "zh_CN", "¥0.01"),
        (0, "en", "¥0.00"),
        (-250, "zh_CN", "-¥2.50"),
        (123_456_789, "zh_CN", "¥1,234,567.89"),
    ],
)
def test_amounts_are_shown_as_people_read_them(fen: int, locale: str, shown: str) -> None:
    assert format_money(Money(fen), locale) == shown


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_display_is_exact_for_any_amount(fen: int) -> None:
    shown = format_money(Money(fen), "en").replace("¥", "").replace(",", "")
    assert int(shown.replace(".", "")) == fen


def test_percent_floors_and_guards_against_no_goal() -> None:
    assert percent_of(0, 1_200_000) == 0
    assert percent_of(1_199_999, 1_200_000) == 99
    assert percent_of(1_200_000, 1_200_000) == 100
    assert percent_of(2_400_000, 1_200_000) == 200
    assert percent_of(5, 0) == 0
