"""Yuan as people type them: one rule (`platform.kernel.money.parse_yuan`) for every amount.

The rule: surrounding white space is ignored; an optional ¥ or ￥, then optional spaces; ASCII
digits without a leading zero, either ungrouped or with a comma before every group of three; at
most two decimals; no sign, no exponent, nothing else; at most MAX_FEN. The answer is whole fen.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from linju.platform.kernel.money import (
    MAX_FEN,
    InvalidYuan,
    Money,
    format_money,
    format_yuan,
    parse_yuan,
    yuan_or_none,
)

FEN = st.integers(min_value=0, max_value=MAX_FEN)


def test_the_three_amounts_that_once_read_differently_read_one_way() -> None:
    assert parse_yuan("1234567890") == 123_456_789_000  # ¥1,234,567,890: within the bound
    assert parse_yuan("¥ 88") == 8_800  # spaces may follow the symbol
    with pytest.raises(InvalidYuan):
        parse_yuan("1¥2")  # the symbol only in front: never guessed to be 12


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("88", 8_800),
        ("88.5", 8_850),
        ("88.50", 8_850),
        ("0.1", 10),
        ("0.01", 1),
        ("0", 0),
        ("¥1", 100),
        ("￥1,000.01", 100_001),
        (" 10 ", 1_000),
        ("\t3000.00\n", 300_000),
        ("12,000.5", 1_200_050),
        ("1,234,567.89", 123_456_789),
        ("¥   1,000", 100_000),
        ("　¥5　", 500),  # full-width spaces around, as a Chinese keyboard types them
        ("10000000000", MAX_FEN),
    ],
)
def test_yuan_text_becomes_exact_fen(text: str, fen: int) -> None:
    assert parse_yuan(text) == fen
    assert yuan_or_none(text) == fen


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "nothing was given"),
        ("   ", "nothing was given"),
        ("-5", "no sign"),
        ("+5", "no sign"),
        ("¥-5", "no sign"),
        ("1.005", "two decimals"),
        ("1.234", "two decimals"),
        ("1,00", "groups of three"),
        ("1000,000", "groups of three"),
        (",100", "groups of three"),
        ("1,000,00.5", "groups of three"),
        ("088", "leading zeros"),
        ("00.5", "leading zeros"),
        ("10000000000.01", "more than ¥10,000,000,000"),
        ("99999999999999999999999", "more than ¥10,000,000,000"),
        ("1" * 5000, "more than ¥10,000,000,000"),
        ("1e3", "only digits"),
        ("0x10", "only digits"),
        ("NaN", "only digits"),
        ("abc", "only digits"),
        ("十元", "only digits"),
        ("１２", "only digits"),  # full-width digits
        ("٣", "only digits"),  # other scripts' digits, which int() would read
        ("1_000", "only digits"),  # which int() would read too
        ("1 000", "only digits"),
        ("1，000", "only digits"),  # a full-width comma
        ("1..2", "only digits"),
        (".5", "only digits"),
        ("5.", "only digits"),
        ("1¥2", "only digits"),
        ("5¥", "only digits"),
        ("¥", "only digits"),
        ("¥¥5", "only digits"),
        ("88元", "only digits"),
    ],
)
def test_what_is_not_an_amount_of_yuan_is_refused_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(InvalidYuan, match="not an amount in yuan") as refused:
        parse_yuan(text)
    assert reason in refused.value.reason
    assert yuan_or_none(text) is None


def test_a_long_text_is_shortened_in_the_message() -> None:
    with pytest.raises(InvalidYuan) as refused:
        parse_yuan("x" * 1000)
    assert len(str(refused.value)) < 200


@given(FEN)
@example(0)
@example(1)
@example(MAX_FEN)
def test_any_amount_written_as_yuan_reads_back(fen: int) -> None:
    assert parse_yuan(format_yuan(fen)) == fen
    for locale in ("zh_CN", "en"):
        assert parse_yuan(format_money(Money(fen), locale)) == fen
    grouped = f"{fen // 100:,}.{fen % 100:02d}"
    assert parse_yuan(f" ￥ {grouped} ") == fen
    assert parse_yuan(grouped.replace(",", "")) == fen


@given(st.integers(min_value=MAX_FEN + 1, max_value=10**30))
def test_more_than_the_bound_is_refused(fen: int) -> None:
    with pytest.raises(InvalidYuan, match="more than"):
        parse_yuan(format_yuan(fen))


def _well_formed(text: str) -> Decimal | None:
    """The rule again, written without regular expressions: the amount in yuan, or None."""
    rest = text.strip()
    if rest[:1] in ("¥", "￥"):
        rest = rest[1:].lstrip(" ")
    whole, point, fraction = rest.partition(".")
    if point and not (1 <= len(fraction) <= 2):
        return None
    groups = whole.split(",")
    if any(not group or not all("0" <= ch <= "9" for ch in group) for group in groups):
        return None
    if any(not ch.isascii() or not ch.isdigit() for ch in fraction):
        return None
    if len(groups) > 1 and (len(groups[0]) > 3 or any(len(g) != 3 for g in groups[1:])):
        return None
    if groups[0].startswith("0") and (len(groups) > 1 or groups[0] != "0"):
        return None
    return Decimal("".join(groups) + "." + (fraction or "0"))


ALMOST_YUAN = st.text(alphabet="0123456789,.¥￥ -+eE１٣_，\t元", max_size=24)


@given(st.one_of(ALMOST_YUAN, st.text(max_size=24)))
@example("1,234.5")
@example("¥ 0.05")
def test_everything_accepted_is_well_formed_and_read_exactly(text: str) -> None:
    try:
        fen = parse_yuan(text)
    except InvalidYuan:
        expected = _well_formed(text)
        assert expected is None or expected * 100 > MAX_FEN, text
        return
    assert type(fen) is int
    assert 0 <= fen <= MAX_FEN
    assert _well_formed(text) == Decimal(fen) / 100


def test_yuan_text_has_no_sign() -> None:
    with pytest.raises(ValueError, match="no sign"):
        format_yuan(-1)
