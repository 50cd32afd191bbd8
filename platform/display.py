"""The display mode: standard, or the elder mode (长辈模式), docs/adr/0031-elder-mode.md.

The visitor chooses it in every page's header (`/mode/{elder|standard}`) and it is remembered
in a long-lived cookie, like the language. `locale_middleware` reads both cookies once per
request and sets `current_mode` beside `i18n.current_locale`; templates ask `elder_mode()`.

`current_mode` is the one place the mode lives during a request: anything whose output depends
on it (a page cache, later) keys on `current_mode.get()` together with the locale.
"""

from __future__ import annotations

from contextvars import ContextVar

MODE_COOKIE = "linju_mode"
STANDARD = "standard"
ELDER = "elder"
MODES = (STANDARD, ELDER)

current_mode: ContextVar[str] = ContextVar("linju_display_mode", default=STANDARD)


def normalise_mode(value: str | None) -> str:
    """One of MODES for what a visitor sent (a cookie, a path): anything unknown is standard."""
    if value and value.strip().lower() == ELDER:
        return ELDER
    return STANDARD


def elder_mode() -> bool:
    """Whether this request's pages are drawn in the elder mode."""
    return current_mode.get() == ELDER
