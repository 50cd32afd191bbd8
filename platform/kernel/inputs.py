"""What the edge accepts of text, numbers, days, times and JSON: one rule per kind of input.

Every request's path, query string, form fields and JSON body is read through these rules
before any of it reaches a service or the database (docs/adr/0017-hostile-input.md):

- **Text** never holds a NUL (PostgreSQL refuses it in text; SQLite would keep it, so both
  engines refuse it alike) nor a lone surrogate (half of a UTF-16 pair, which no encoder can
  write back out): `unreadable(text)`.
- **Whole numbers** typed by people or sent in a URL are ASCII digits only (`²`, `１２` or
  `٣` are refused, never guessed at) and fit a signed 64-bit column: `whole_number`.
- **Days** are ISO dates (`2026-05-01`, ASCII digits) between `FIRST_DAY` and `LAST_DAY`, so
  that no date arithmetic overflows: `calendar_day`.
- **Moments** a provider reports are whole Unix seconds in the same range: `unix_moment`.
- **JSON** is strict UTF-8, at most `MAX_JSON_DEPTH` deep, its integers within 64 bits and its
  strings readable: `read_json`.

Each raises `InputRefused` (a ValueError) with a message id for people; the edge turns it into
a 4xx: a problem document for the API and webhooks, the form again with the message beside the
field for pages.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from typing import Any

import msgspec

from linju.platform.kernel.errors import N_

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
MAX_JSON_DEPTH = 32
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2100, 12, 31)
_FIRST_MOMENT = int(datetime.combine(FIRST_DAY, time.min, UTC).timestamp())
_LAST_MOMENT = int(datetime.combine(LAST_DAY, time.max, UTC).timestamp())

_ASCII_DIGITS = re.compile(r"[0-9]+")
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_UNREADABLE = re.compile("[\x00\ud800-\udfff]")


class InputRefused(ValueError):
    """Input the edge does not accept; `message` is a message id for people (translated at the
    edge), the exception's text says the same in plain English for logs and the command line."""

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message % params if params else message)
        self.message = message
        self.params = params


UNREADABLE_TEXT = N_(
    "This holds characters that cannot be stored (a NUL byte or a broken character); "
    "please type it again"
)
NOT_DIGITS = N_("Use the digits 0-9 only")
NUMBER_TOO_LARGE = N_("This number is too large")
NUMBER_TOO_SMALL = N_("This number is too small")
DAY_FORMAT = N_("Enter a date as year-month-day, e.g. 2026-05-01")
DAY_RANGE = N_("Enter a date between 2000-01-01 and 2100-12-31")


def unreadable(text: str) -> bool:
    """True when `text` holds a NUL or a lone surrogate (what a broken UTF-8 byte becomes)."""
    return _UNREADABLE.search(text) is not None


def readable(text: str) -> str:
    """`text` without what `unreadable` finds (NUL dropped, surrogates as U+FFFD): safe to show
    again in a page, never to store."""
    return _UNREADABLE.sub(lambda m: "" if m.group() == "\x00" else "\ufffd", text)


def whole_number(text: str, *, low: int = 0, high: int = INT64_MAX) -> int:
    """ASCII digits (surrounding white space ignored) between `low` and `high`; InputRefused
    otherwise. The digits are counted before they are converted, so 5,000 of them cost nothing."""
    cleaned = text.strip()
    if not _ASCII_DIGITS.fullmatch(cleaned):
        raise InputRefused(NOT_DIGITS)
    if len(cleaned.lstrip("0")) > len(str(INT64_MAX)):
        raise InputRefused(NUMBER_TOO_LARGE)
    number = int(cleaned)
    if number > high:
        raise InputRefused(NUMBER_TOO_LARGE)
    if number < low:
        raise InputRefused(NUMBER_TOO_SMALL)
    return number


def calendar_day(text: str) -> date:
    """A day as `<input type="date">` sends it (`2026-05-01`), between FIRST_DAY and LAST_DAY."""
    cleaned = text.strip()
    if not _ISO_DAY.fullmatch(cleaned):
        raise InputRefused(DAY_FORMAT)
    try:
        day = date.fromisoformat(cleaned)
    except ValueError:
        raise InputRefused(DAY_FORMAT) from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise InputRefused(DAY_RANGE)
    return day


def unix_moment(value: Any) -> datetime:
    """Whole seconds since 1970 (as providers report `created`), within the days above."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputRefused(N_("A time must be a whole number of seconds"))
    if not _FIRST_MOMENT <= value <= _LAST_MOMENT:
        raise InputRefused(N_("A time must fall between 2000 and 2100"))
    return datetime.fromtimestamp(value, UTC)


def read_json(body: bytes) -> Any:
    """A JSON document as strict UTF-8, checked whole: at most MAX_JSON_DEPTH levels deep,
    integers within 64 bits, no NUL or lone surrogate in any string or key."""
    try:
        document = msgspec.json.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError, RecursionError):
        raise InputRefused(N_("The body must be a JSON document")) from None
    _check_json(document)
    return document


def _check_json(document: Any) -> None:
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if unreadable(value):
                raise InputRefused(UNREADABLE_TEXT)
        elif isinstance(value, bool) or value is None or isinstance(value, float):
            continue
        elif isinstance(value, int):
            if not INT64_MIN <= value <= INT64_MAX:
                raise InputRefused(NUMBER_TOO_LARGE)
        elif isinstance(value, list | dict):
            if depth > MAX_JSON_DEPTH:
                raise InputRefused(N_("The JSON document is nested too deeply"))
            if isinstance(value, dict):
                for key in value:
                    if isinstance(key, str) and unreadable(key):
                        raise InputRefused(UNREADABLE_TEXT)
                children = list(value.values())
            else:
                children = value
            stack.extend((child, depth + 1) for child in children)
