"""The ledger's public routes (ledger.md, "Where anyone can read it"), on the real app."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

from linju.projects.ledger.services import append, reverse
from linju.projects.ledger.verify import verify_entries
from tests.client_support import AppClient
from tests.projects.ledger.ledger_support import donate, expenditure, fee, new_project

Client = AppClient
SLUG = "ledger-http"


@pytest.fixture
async def small(db: str) -> str:
    """Five entries: two donations, a fee, an expenditure and a reversal of the fee."""
    await new_project(SLUG)
    await donate(SLUG, 10_000, "a", "王阿姨")
    await donate(SLUG, 2_345, "b", '=HYPERLINK("http://evil")')
    await append(SLUG, fee(SLUG, 60, "a"))
    await append(SLUG, expenditure(SLUG, 5_000, "c"))
    await reverse(SLUG, 3, "手续费记错")
    return SLUG


def _lines(body: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in body.decode("utf-8").splitlines()]


async def test_jsonl_is_every_entry_in_order_and_verifies(small: str, client: Client) -> None:
    response = await client.get(f"/api/v1/projects/{small}/ledger.jsonl")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/jsonl")
    entries = _lines(response.content)
    assert [entry["seq"] for entry in entries] == [1, 2, 3, 4, 5]
    assert [entry["kind"] for entry in entries] == [
        "donation",
        "donation",
        "fee",
        "expenditure",
        "reversal",
    ]
    result = verify_entries((None, entry) for entry in entries)
    assert result.ok, result.fault
    project = (await client.get(f"/api/v1/projects/{small}")).json()
    assert project["ledger_head"] == {"seq": 5, "hash": entries[-1]["hash"]}


async def test_a_long_ledger_streams_whole_and_verifies(client: Client) -> None:
    count = 2_150  # more than two of the stream's database pages
    slug = await new_project("ledger-long")
    for index in range(count):
        await donate(slug, 100 + index, f"n{index}")
    await _walk_long_ledger(client, slug, count)


async def _walk_long_ledger(client: Client, slug: str, count: int) -> None:
    response = await client.get(f"/api/v1/projects/{slug}/ledger.jsonl")
    assert response.status_code == 200
    entries = _lines(response.content)
    assert [entry["seq"] for entry in entries] == list(range(1, count + 1))
    result = verify_entries((None, entry) for entry in entries)
    assert result.ok, result.fault
    assert result.state.balance == sum(100 + index for index in range(count))

    # The paged route walks the same ledger exactly once, page by page.
    seen: list[int] = []
    after: int | None = 0
    while after is not None:
        page = (await client.get(f"/api/v1/projects/{slug}/ledger?after={after}&limit=1000")).json()
        seen.extend(entry["seq"] for entry in page["entries"])
        assert page["head"] == {"seq": count, "hash": entries[-1]["hash"]}
        after = page["next_after"]
    assert seen == list(range(1, count + 1))


async def test_pages_follow_next_after(small: str, client: Client) -> None:
    first = (await client.get(f"/api/v1/projects/{small}/ledger?limit=2")).json()
    assert first["project"] == small
    assert [entry["seq"] for entry in first["entries"]] == [1, 2]
    assert first["next_after"] == 2
    second = (await client.get(f"/api/v1/projects/{small}/ledger?after=2&limit=2")).json()
    assert [entry["seq"] for entry in second["entries"]] == [3, 4]
    last = (await client.get(f"/api/v1/projects/{small}/ledger?after=4&limit=2")).json()
    assert [entry["seq"] for entry in last["entries"]] == [5]
    assert last["next_after"] is None
    beyond = (await client.get(f"/api/v1/projects/{small}/ledger?after=9")).json()
    assert beyond["entries"] == []
    assert beyond["next_after"] is None
    assert last["head"]["hash"] == last["entries"][-1]["hash"]


async def test_the_page_entries_are_the_exported_entries(small: str, client: Client) -> None:
    exported = _lines((await client.get(f"/api/v1/projects/{small}/ledger.jsonl")).content)
    page = (await client.get(f"/api/v1/projects/{small}/ledger?limit=1000")).json()
    assert page["entries"] == exported
    one = await client.get(f"/api/v1/projects/{small}/ledger/2")
    assert one.status_code == 200
    assert one.json() == exported[1]
    assert list(one.json()) == [
        "project",
        "seq",
        "at",
        "kind",
        "memo",
        "ref",
        "postings",
        "prev",
        "hash",
    ]


@pytest.mark.parametrize(
    "query",
    ["after=-1", "limit=0", "limit=1001", "after=x", "limit=1.5"],
)
async def test_bad_paging_parameters_are_a_problem_document(
    small: str, client: Client, query: str
) -> None:
    response = await client.get(f"/api/v1/projects/{small}/ledger?{query}")
    assert response.status_code in (400, 422)
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == response.status_code


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/projects/no-such/ledger.jsonl",
        "/api/v1/projects/no-such/ledger.csv",
        "/api/v1/projects/no-such/ledger",
        "/api/v1/projects/no-such/ledger/1",
        "/api/v1/projects/ledger-http/ledger/99",
    ],
)
async def test_unknown_projects_and_entries_are_404(small: str, client: Client, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_a_drafts_ledger_is_not_public(client: Client) -> None:
    slug = await new_project("ledger-draft", published=False)
    await _all_404(client, slug)


async def _all_404(client: Client, slug: str) -> None:
    for path in (
        f"/api/v1/projects/{slug}/ledger.jsonl",
        f"/api/v1/projects/{slug}/ledger.csv",
        f"/api/v1/projects/{slug}/ledger",
    ):
        assert (await client.get(path)).status_code == 404
    assert (await client.get(f"/p/{slug}/ledger")).status_code == 404


async def test_csv_has_a_bom_a_row_per_posting_and_yuan(small: str, client: Client) -> None:
    response = await client.get(f"/api/v1/projects/{small}/ledger.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == f'attachment; filename="{small}-ledger.csv"'
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    assert header == [
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
    ]
    assert len(body) == 10  # five entries of two postings each
    donation_b = [row for row in body if row[0] == "2"]
    assert [(row[5], row[6], row[7]) for row in donation_b] == [
        (f"fund:{small}", "2345", "23.45"),
        ("donors:online", "-2345", "-23.45"),
    ]
    # A memo a spreadsheet would run as a formula is written as text.
    assert donation_b[0][3] == '\'=HYPERLINK("http://evil")'
    fee_rows = [row for row in body if row[0] == "3"]
    assert fee_rows[0][7] == "-0.60"


async def test_the_routes_are_in_the_openapi_schema(client: Client, db: str) -> None:
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    for path in (
        "/api/v1/projects/{slug}/ledger",
        "/api/v1/projects/{slug}/ledger/{seq}",
        "/api/v1/projects/{slug}/ledger.jsonl",
        "/api/v1/projects/{slug}/ledger.csv",
    ):
        assert path in paths
    assert "/p/{slug}/ledger" not in paths  # a page for people, not the API (ADR 0018)
