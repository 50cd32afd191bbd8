"""Translations: zh-CN first, English second.

Message ids are English; each code area keeps its zh_CN catalogs beside its code
(`<area>/locale/zh_CN/LC_MESSAGES/*.po`). Catalogs are read with Babel and compiled in
memory at start, so no compiled `.mo` file is committed or forgotten. The visitor's locale lives
in a context variable set per request by `LocaleMiddleware`, so templates and error handlers
translate without passing the request around.
"""

from __future__ import annotations

import gettext as stdlib_gettext
from contextvars import ContextVar
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from linju.platform.resources import package_dir
from linju.platform.settings import LOCALES

# The shell's own catalog; the composition root adds each area's (`register_catalogs` in
# `linju.platform.app.wire`), so the shell names no area.
_catalog_packages: list[str] = ["linju.platform"]
LOCALE_COOKIE = "linju_lang"
LANGUAGE_TAGS = {"zh_CN": "zh-CN", "en": "en"}

current_locale: ContextVar[str] = ContextVar("linju_locale", default="zh_CN")


def catalog_paths(locale: str) -> list[Path]:
    """Every catalog for a locale: each area's `locale/<locale>/LC_MESSAGES/*.po`, in order.

    An area may split its messages by feature (`messages.po`, `ledger.po`...); all are merged.
    """
    found: list[Path] = []
    for package in _catalog_packages:
        folder = package_dir(package) / "locale" / locale / "LC_MESSAGES"
        found.extend(sorted(folder.glob("*.po")))
    return found


def register_catalogs(*packages: str) -> None:
    """Add the catalogs of the areas named (by their `linju.…` package), after the shell's."""
    for package in packages:
        if package not in _catalog_packages:
            _catalog_packages.append(package)
            translations_for.cache_clear()


@lru_cache(maxsize=len(LOCALES))
def translations_for(locale: str) -> stdlib_gettext.NullTranslations:
    """All areas' catalogs for `locale` merged into one Translations object."""
    if locale == "en":
        return stdlib_gettext.NullTranslations()  # message ids are English
    merged: Translations | None = None
    for po in catalog_paths(locale):
        with po.open("rb") as handle:
            catalog = read_po(handle, locale=locale)
        compiled = BytesIO()
        write_mo(compiled, catalog)
        compiled.seek(0)
        part = Translations(compiled)
        if merged is None:
            merged = part
        else:
            merged.merge(part)
    return merged or stdlib_gettext.NullTranslations()


@lru_cache(maxsize=16)
def babel_locale(code: str) -> Locale:
    """Babel's Locale for a code, parsed once: given a name, Babel looks it up on disk again on
    every date it formats."""
    return Locale.parse(code)


def normalise_locale(value: str | None, default: str) -> str:
    """Map what a visitor sent (`en`, `en-US`, `zh`, `zh-CN`) to one of our locales."""
    if not value:
        return default
    lowered = value.strip().replace("-", "_").lower()
    if lowered.startswith("zh"):
        return "zh_CN"
    if lowered.startswith("en"):
        return "en"
    return default


def gettext(message: str, **params: Any) -> str:
    """Translate into the current request's locale; `%(name)s` placeholders are filled."""
    text = translations_for(current_locale.get()).gettext(message)
    return text % params if params else text


def ngettext(singular: str, plural: str, count: int, **params: Any) -> str:
    text = translations_for(current_locale.get()).ngettext(singular, plural, count)
    params.setdefault("num", count)
    return text % params


def translate_in(locale: str, message: str, **params: Any) -> str:
    """Translate into a given locale, whatever the current request's (e-mails, CLI, tests)."""
    token = current_locale.set(locale)
    try:
        return gettext(message, **params)
    finally:
        current_locale.reset(token)


_ = gettext


def N_(message: str) -> str:
    """Mark a string for extraction whose translation happens later, at display time."""
    return message


# How messages are found for the catalogs: the gettext names, the domain's marker and the
# domain errors' first argument. tests/platform/test_i18n.py uses these to prove that every
# message has its zh_CN translation.
EXTRACTION_KEYWORDS: dict[str, Any] = {
    "_": None,
    "gettext": None,
    "N_": None,
    "ngettext": (1, 2),
    "translate_in": (2,),
    "DomainError": None,
    "NotFound": None,
    "RuleViolation": None,
    "Conflict": None,
}
EXTRACTION_METHODS = [
    ("platform/**.py", "python"),
    ("projects/**.py", "python"),
    ("payments/**.py", "python"),
    ("templates/**.html", "jinja2"),
    ("templates/**.txt", "jinja2"),
]
EXTRACTION_OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}
