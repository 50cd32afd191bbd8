"""The ledger's downloadable forms: JSONL for verification, CSV for spreadsheets.

One encoder per form, shared by the HTTP routes and `linju ledger export`, so a file fetched
from the site and a file written by the command are byte for byte the same.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Iterable
from typing import Any

from linju.platform.kernel.money import minor_units_to_decimal
from linju.projects.ledger import read as ledger_read

JSONL_MEDIA_TYPE = "application/jsonl"
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
UTF8_BOM = "\ufeff"
CSV_HEADER = (
    "seq",
    "at",
    "kind",
    "memo",
    "ref",
    "account",
    "amount_minor",
    "amount",
    "currency",
    "hash",
)
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def jsonl_line(entry: dict[str, Any]) -> bytes:
    """One entry as one line. Any JSON encoding verifies; this one keeps Chinese readable."""
    return (json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def safe_cell(text: str) -> str:
    """Text a spreadsheet shows as text: a leading formula character is quoted with `'`."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def major_units(amount: int, currency: str) -> str:
    """`-12.34` for -1234 fen: exact decimal text, never a float."""
    return format(minor_units_to_decimal(amount, currency), "f")


def csv_rows(entry: dict[str, Any]) -> list[list[str | int]]:
    """One row per posting of an entry."""
    return [
        [
            entry["seq"],
            entry["at"],
            entry["kind"],
            safe_cell(entry["memo"]),
            safe_cell(entry["ref"]),
            posting["account"],
            posting["amount"],
            major_units(posting["amount"], posting["currency"]),
            posting["currency"],
            entry["hash"],
        ]
        for posting in entry["postings"]
    ]


def _csv_text(rows: Iterable[Iterable[str | int]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows(rows)
    return buffer.getvalue()


async def _chunks(
    entries: AsyncIterator[dict[str, Any]], encode: Any, batch: int
) -> AsyncIterator[bytes]:
    """Group encoded entries into chunks of `batch` so a stream is not one write per line."""
    parts: list[bytes] = []
    async for entry in entries:
        parts.append(encode(entry))
        if len(parts) >= batch:
            yield b"".join(parts)
            parts = []
    if parts:
        yield b"".join(parts)


async def jsonl_stream(ledger: ledger_read.LedgerRef) -> AsyncIterator[bytes]:
    """The whole ledger as JSONL, a page of entries at a time (constant memory)."""
    async for chunk in _chunks(
        ledger_read.iter_entries(ledger), jsonl_line, ledger_read.EXPORT_PAGE_SIZE
    ):
        yield chunk


async def csv_stream(ledger: ledger_read.LedgerRef) -> AsyncIterator[bytes]:
    """The whole ledger as CSV: UTF-8 with a BOM (so spreadsheets read Chinese), then rows."""
    yield (UTF8_BOM + _csv_text([CSV_HEADER])).encode("utf-8")
    async for chunk in _chunks(
        ledger_read.iter_entries(ledger),
        lambda entry: _csv_text(csv_rows(entry)).encode("utf-8"),
        ledger_read.EXPORT_PAGE_SIZE,
    ):
        yield chunk
