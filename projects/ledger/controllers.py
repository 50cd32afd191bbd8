"""Where anyone can read a project's ledger (ledger.md): JSON, JSONL, CSV and the ledger page.

Thin: `ledger_read` fetches entries a page at a time, `ledger_export` encodes them.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import get
from litestar.datastructures import ResponseHeader
from litestar.params import FromPath, Parameter, QueryParameter
from litestar.response import Stream, Template

from linju.platform.kernel.inputs import INT64_MAX
from linju.projects.ledger import export as ledger_export
from linju.projects.ledger import read as ledger_read
from linju.projects.ledger.log import read as log_read

PAGE_ENTRIES = 50  # entries per screen of the ledger page


class PostingOut(msgspec.Struct):
    account: str
    amount: int
    currency: str


class EntryOut(msgspec.Struct):
    """An entry exactly as ledger.md defines it; its `hash` covers every other member."""

    project: str
    seq: int
    at: str
    kind: str
    memo: str
    ref: str
    postings: list[PostingOut]
    prev: str
    hash: str


class HeadOut(msgspec.Struct):
    seq: int
    hash: str


class LedgerPageOut(msgspec.Struct):
    project: str
    head: HeadOut
    entries: list[EntryOut]
    next_after: int | None


def _entry_out(entry: dict[str, Any]) -> EntryOut:
    return msgspec.convert(entry, EntryOut)


@get(
    "/api/v1/projects/{slug:str}/ledger",
    tags=["ledger"],
    summary="A page of a project's ledger, oldest first",
    description="Entries with seq > after, at most `limit` of them; follow `next_after` until "
    "it is null to read every entry exactly once.",
)
async def ledger_entries(
    slug: FromPath[str],
    after: Annotated[
        int, QueryParameter(ge=0, le=INT64_MAX, description="Entries after this seq")
    ] = 0,
    limit: Annotated[
        int, QueryParameter(ge=1, le=ledger_read.MAX_PAGE_SIZE, description="At most 1000")
    ] = 100,
) -> LedgerPageOut:
    ledger = await ledger_read.find_ledger(slug)
    entries = await ledger_read.entries_after(ledger, after, limit, up_to=ledger.head_seq)
    last = entries[-1]["seq"] if entries else None
    return LedgerPageOut(
        project=slug,
        head=HeadOut(seq=ledger.head_seq, hash=ledger.head_hash),
        entries=[_entry_out(entry) for entry in entries],
        next_after=last if last is not None and last < ledger.head_seq else None,
    )


@get(
    "/api/v1/projects/{slug:str}/ledger/{seq:str}",
    tags=["ledger"],
    summary="One entry of a project's ledger",
)
async def ledger_entry(
    slug: FromPath[str],
    seq: Annotated[int, Parameter(ge=0, le=INT64_MAX, description="The entry's seq")],
) -> EntryOut:
    ledger = await ledger_read.find_ledger(slug)
    return _entry_out(await ledger_read.entry_at(ledger, seq))


@get(
    "/api/v1/projects/{slug:str}/ledger.jsonl",
    tags=["ledger"],
    summary="The whole ledger, one entry per line, for verification",
    description="Streamed in seq order up to the head at the time of the request.",
    media_type=ledger_export.JSONL_MEDIA_TYPE,
    response_description="JSON Lines (docs/ledger.md): one entry per line, each an EntryOut "
    "with its members in the order of the format, each line ending in a newline, in seq order",
    response_headers=[
        ResponseHeader(
            name="X-Ledger-Head",
            description="The head the export stops at: `<seq> <hash>`",
            documentation_only=True,
        )
    ],
)
async def ledger_jsonl(slug: FromPath[str]) -> Stream:
    ledger = await ledger_read.find_ledger(slug)
    return Stream(
        ledger_export.jsonl_stream(ledger),
        media_type=ledger_export.JSONL_MEDIA_TYPE,
        headers={
            "Content-Disposition": f'inline; filename="{slug}-ledger.jsonl"',
            "X-Ledger-Head": f"{ledger.head_seq} {ledger.head_hash}",
        },
    )


@get(
    "/api/v1/projects/{slug:str}/ledger.csv",
    tags=["ledger"],
    summary="The whole ledger for spreadsheets: one row per posting, amounts also in yuan",
    media_type=ledger_export.CSV_MEDIA_TYPE,
    response_description="CSV, UTF-8 with a byte order mark, rows ending in CRLF, one row per "
    "posting under the header seq,at,kind,memo,ref,account,amount_minor,amount,currency,hash",
)
async def ledger_csv(slug: FromPath[str]) -> Stream:
    ledger = await ledger_read.find_ledger(slug)
    return Stream(
        ledger_export.csv_stream(ledger),
        media_type=ledger_export.CSV_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{slug}-ledger.csv"'},
    )


@get("/p/{slug:str}/ledger", name="ledger", tags=["pages"], summary="A project's ledger page")
async def ledger_page(
    slug: FromPath[str],
    before: Annotated[
        int | None, QueryParameter(ge=1, le=INT64_MAX, description="Show entries before this seq")
    ] = None,
) -> Template:
    page = await ledger_read.ledger_page(slug, before, PAGE_ENTRIES)
    log = await log_read.summary(page.ledger.project_id)
    return Template("ledger/ledger.html", context={"page": page, "ledger": page.ledger, "log": log})


ROUTES: list[Any] = [ledger_entries, ledger_entry, ledger_jsonl, ledger_csv, ledger_page]
