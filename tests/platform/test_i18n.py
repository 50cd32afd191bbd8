"""Translations: every message has its zh_CN text, and placeholders survive translation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from linju.platform import i18n

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _extracted_messages() -> dict[str, str]:
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(ROOT),
        method_map=i18n.EXTRACTION_METHODS,
        keywords=i18n.EXTRACTION_KEYWORDS,
        options_map=i18n.EXTRACTION_OPTIONS,
    ):
        for msgid in message if isinstance(message, tuple) else (message,):
            if msgid:
                found.setdefault(msgid, f"{filename}:{lineno}")
    return found


def _zh_catalog() -> dict[str, str]:
    merged: dict[str, str] = {}
    for path in i18n.catalog_paths("zh_CN"):
        with path.open("rb") as handle:
            for message in read_po(handle, locale="zh_CN"):
                if message.id and isinstance(message.id, str):
                    merged[message.id] = str(message.string or "")
    return merged


def test_every_message_has_a_chinese_translation() -> None:
    catalog = _zh_catalog()
    missing = {
        msgid: where for msgid, where in _extracted_messages().items() if not catalog.get(msgid)
    }
    assert not missing, (
        "add these to an area's locale/zh_CN/LC_MESSAGES/messages.po:\n"
        + "\n".join(
            f"  {where}: {msgid!r}" for msgid, where in sorted(missing.items(), key=lambda i: i[1])
        )
    )


def test_catalogs_hold_no_message_the_code_no_longer_uses() -> None:
    used = set(_extracted_messages())
    stale = sorted(msgid for msgid in _zh_catalog() if msgid not in used)
    assert not stale, f"remove these from the zh_CN catalogs: {stale}"


def test_translations_keep_their_placeholders() -> None:
    for msgid, text in _zh_catalog().items():
        assert set(PLACEHOLDER.findall(msgid)) == set(PLACEHOLDER.findall(text)), msgid


@pytest.mark.parametrize(
    ("sent", "chosen"),
    [
        ("en", "en"),
        ("en-US", "en"),
        ("zh", "zh_CN"),
        ("zh-CN", "zh_CN"),
        ("fr", "zh_CN"),
        (None, "zh_CN"),
    ],
)
def test_normalise_locale(sent: str | None, chosen: str) -> None:
    assert i18n.normalise_locale(sent, "zh_CN") == chosen


def test_translate_in_each_locale() -> None:
    assert i18n.translate_in("zh_CN", "Page not found") == "页面不存在"
    assert i18n.translate_in("en", "Page not found") == "Page not found"
    assert i18n.translate_in("zh_CN", "No project %(slug)s", slug="x") == "没有项目 x"
