"""Money as an immutable integer of minor units with its currency.

Floats are refused at the door: a yuan amount is never a binary fraction. Display is Babel's
job (`format_money`), which gets an exact Decimal made from the integer only at that moment.
Yuan typed by people (a goal, a budget line, a donation, a refund, `--amount`) are read by
`parse_yuan` alone, into whole fen.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from decimal import Decimal

import msgspec
from babel import Locale
from babel.numbers import (
    NumberPattern,
    get_currency_precision,
    get_currency_symbol,
    parse_pattern,
)

# Money columns are BIGINT (signed 64 bits). No single amount a person types may exceed
# MAX_FEN (¥10,000,000,000.00), so a fund's totals, sums of a million such amounts, still fit.
BIGINT_MAX = 2**63 - 1
MAX_FEN = 10**12
assert MAX_FEN * 1_000_000 < BIGINT_MAX


class CurrencyMismatch(ValueError):
    """Two amounts in different currencies were combined."""


@dataclass(frozen=True, slots=True, order=False)
class Money:
    amount: int  # minor units (fen for CNY)
    currency: str = "CNY"

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise TypeError(f"Money needs an integer number of minor units, got {self.amount!r}")
        if not (len(self.currency) == 3 and self.currency.isalpha() and self.currency.isupper()):
            raise ValueError(f"not an ISO 4217 currency code: {self.currency!r}")

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(f"{self.currency} and {other.currency} cannot be combined")

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount <= other.amount

    @classmethod
    def zero(cls, currency: str = "CNY") -> Money:
        return cls(0, currency)


class AmountOut(msgspec.Struct):
    """An amount in the API, as the contract writes it: `{"amount": <minor units>, "currency":
    "CNY"}`; every JSON answer with money in it uses this one shape."""

    amount: int
    currency: str

    @classmethod
    def of(cls, money: Money) -> AmountOut:
        return cls(amount=money.amount, currency=money.currency)


def minor_units_to_decimal(minor_units: int, currency: str) -> Decimal:
    """Exact major-unit value for display and CSV, never for arithmetic on money."""
    return Decimal(minor_units).scaleb(-get_currency_precision(currency))


def format_money(money: Money, locale: str) -> str:
    """`¥12,000.00` in both our locales.

    Residents read yuan as `¥`, so the symbol is the currency's own (zh_CN CLDR data, where
    English CLDR would print `CN¥`); digit grouping and the minus sign follow the locale.
    """
    pattern, babel_locale, symbol = _money_format(money.currency, locale)
    number = pattern.apply(minor_units_to_decimal(abs(money.amount), money.currency), babel_locale)
    return f"{'-' if money.amount < 0 else ''}{symbol}{number}"


@functools.lru_cache(maxsize=64)
def _money_format(currency: str, locale: str) -> tuple[NumberPattern, Locale, str]:
    """What formatting needs per currency and locale, prepared once: Babel given a locale's
    name looks it up on disk on every call, which was most of a project page's time."""
    digits = get_currency_precision(currency)
    pattern = parse_pattern("#,##0." + "0" * digits if digits else "#,##0")
    return pattern, Locale.parse(locale), get_currency_symbol(currency, locale="zh_CN")


def percent_of(part: int, whole: int) -> int:
    """Whole percent, floored, for progress bars; 0 when there is no goal."""
    if whole <= 0:
        return 0
    return max(0, part * 100 // whole)


class InvalidYuan(ValueError):
    """Text that is not an amount of yuan; `reason` says why, in plain English (for the command
    line and logs; forms show their own message beside the field)."""

    def __init__(self, text: str, reason: str) -> None:
        shown = text if len(text) <= 40 else text[:40] + "…"
        super().__init__(f"not an amount in yuan: {shown!r} ({reason})")
        self.reason = reason


# Yuan as people type them: an optional ¥ (or full-width ￥) and spaces after it; ASCII digits
# with no leading zero, either ungrouped or with a comma before every group of three; at most
# two decimals after a point. No sign, no exponent, nothing else.
_YUAN = re.compile(
    r"(?:[¥￥] *)?(?P<whole>0|[1-9][0-9]*|[1-9][0-9]{0,2}(?:,[0-9]{3})+)(?:\.(?P<fen>[0-9]{1,2}))?"
)
# Digits, commas and a point in some other order: said more precisely than "not an amount".
_ALMOST_YUAN = re.compile(r"(?:[¥￥] *)?(?P<whole>[0-9,]+)(?:\.(?P<fen>[0-9]+))?")
YUAN_EXAMPLE = "e.g. 88, 88.50 or ¥1,234.50"
_TOO_MUCH = f"more than ¥{MAX_FEN // 100:,}"


def parse_yuan(text: str) -> int:
    """Yuan as typed, to whole fen: `'¥1,234.5'` → 123450; InvalidYuan for anything else.

    Surrounding white space is ignored. The rule is strict rather than clever: `'1¥2'`, `'1 000'`,
    `'1,00'`, `'-5'`, `'1e3'`, `'.5'`, `'1.005'` and full-width digits are refused, never guessed
    at. At most MAX_FEN. Never a float: the digits are counted, not converted.
    """
    cleaned = text.strip()
    match = _YUAN.fullmatch(cleaned)
    if match is None:
        raise InvalidYuan(text, _why_not_yuan(cleaned))
    digits = match["whole"].replace(",", "")
    if len(digits) > len(str(MAX_FEN // 100)):
        raise InvalidYuan(text, _TOO_MUCH)
    fen = int(digits) * 100 + int((match["fen"] or "0").ljust(2, "0"))
    if fen > MAX_FEN:
        raise InvalidYuan(text, _TOO_MUCH)
    return fen


def yuan_or_none(text: str) -> int | None:
    """`parse_yuan` for a form, which shows its own message beside the field: None instead of
    InvalidYuan."""
    try:
        return parse_yuan(text)
    except InvalidYuan:
        return None


def _why_not_yuan(cleaned: str) -> str:
    if not cleaned:
        return "nothing was given"
    almost = _ALMOST_YUAN.fullmatch(cleaned)
    if almost is None:
        if cleaned.lstrip("¥￥ ").startswith(("-", "+")):
            return "an amount has no sign"
        return f"only digits, an optional ¥ in front, {YUAN_EXAMPLE}"
    if almost["fen"] is not None and len(almost["fen"]) > 2:
        return "at most two decimals (fen)"
    if "," in almost["whole"]:
        return "commas go between groups of three digits, or leave them out"
    return f"no leading zeros, {YUAN_EXAMPLE}"


def format_yuan(fen: int) -> str:
    """Whole fen as plain yuan text that `parse_yuan` reads back: 1200050 → `'12000.50'`,
    1200000 → `'12000'` (for a form's field; people are shown `format_money`)."""
    if fen < 0:
        raise ValueError(f"yuan text has no sign, got {fen} fen")
    return f"{fen // 100}.{fen % 100:02d}" if fen % 100 else str(fen // 100)
