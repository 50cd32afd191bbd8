"""Money as an immutable integer of minor units with its currency.

Floats are refused at the door: a yuan amount is never a binary fraction. Display is Babel's
job (`format_money`), which gets an exact Decimal made from the integer only at that moment.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from decimal import Decimal

from babel import Locale
from babel.numbers import (
    NumberPattern,
    get_currency_precision,
    get_currency_symbol,
    parse_pattern,
)

SUPPORTED_CURRENCIES = frozenset({"CNY"})


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

    def to_json(self) -> dict[str, int | str]:
        """The contract's JSON shape: `{"amount": <minor units>, "currency": "CNY"}`."""
        return {"amount": self.amount, "currency": self.currency}


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
