"""SQLite: one connection per request, shared by the session, the host, the page and its
transactions (ADR 0035); concurrent requests and writes still work."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest
from piccolo.querystring import QueryString

from linju.platform.db import (
    SQLITE_IDLE_CONNECTIONS,
    SharedConnectionSQLiteEngine,
    close_pool,
    get_engine,
    shared_connection_middleware,
    start_pool,
    write_transaction,
)
from linju.projects.core.tables import Community
from linju.projects.ledger import read as ledger_read
from linju.projects.ledger import services as ledger
from linju.projects.ledger.format import EntryKind
from tests.accounts_support import PASSWORD, log_in, log_in_with_form, make_account
from tests.client_support import AppClient

SLUG = "tongqu-leyuan"


@pytest.fixture
def sqlite_engine(engine_name: str) -> SharedConnectionSQLiteEngine:
    if engine_name != "sqlite":
        pytest.skip("PostgreSQL pools its connections")
    engine = get_engine()
    assert isinstance(engine, SharedConnectionSQLiteEngine)
    return engine


async def _connections_of(
    engine: SharedConnectionSQLiteEngine, client: Any, path: str
) -> tuple[int, int]:
    """(connections the request used, connections opened for it)."""
    taken, opened = engine.taken, engine.opened
    response = await client.get(path)
    assert response.status_code == 200, path
    return engine.taken - taken, engine.opened - opened


@pytest.mark.usefixtures("demo")
async def test_a_request_uses_one_connection_kept_for_the_next(
    client: AppClient, sqlite_engine: SharedConnectionSQLiteEngine
) -> None:
    for path in (f"/p/{SLUG}/ledger", "/api/v1/projects/" + SLUG):
        await client.get(path)  # warm: first reads of the process
        assert await _connections_of(sqlite_engine, client, path) == (1, 0), path
    for path in ("/", f"/p/{SLUG}"):
        await client.get(path)  # rendered and kept by the page cache
        # served from it: the content version is read on the page cache's own connection
        assert await _connections_of(sqlite_engine, client, path) == (0, 0), path
    user = await make_account("reader@example.org", "admin")
    await log_in(client, user)  # now the session's lookup shares it too
    assert await _connections_of(sqlite_engine, client, f"/p/{SLUG}/ledger") == (1, 0)
    assert await _connections_of(sqlite_engine, client, "/static/linju.css") == (0, 0)
    assert 1 <= len(sqlite_engine.idle) <= SQLITE_IDLE_CONNECTIONS
    idle = list(sqlite_engine.idle)
    await close_pool()  # as the app's lifespan ends: the idle connections are closed
    assert sqlite_engine.idle == []
    for connection in idle:
        with pytest.raises(ValueError, match="no active connection"):
            await connection.execute("SELECT 1")
    assert await start_pool()


@pytest.mark.usefixtures("demo")
async def test_a_form_that_writes_uses_the_same_connection(
    client: AppClient, sqlite_engine: SharedConnectionSQLiteEngine
) -> None:
    await make_account("writer@example.org", "admin")
    page = await client.get("/login")
    assert page.status_code == 200
    taken = sqlite_engine.taken
    response = await log_in_with_form(client, "writer@example.org", PASSWORD)
    assert response.status_code == 303
    # the form's page, then its post: the reads and the session's write transaction
    assert sqlite_engine.taken - taken == 2


@pytest.mark.usefixtures("demo")
async def test_concurrent_requests_and_writes(
    client: AppClient, sqlite_engine: SharedConnectionSQLiteEngine
) -> None:
    emails = [f"c{n}@example.org" for n in range(3)]
    for email in emails:
        await make_account(email, "admin")
    start = (await ledger_read.find_ledger(SLUG)).head_seq
    clients = [AppClient(client.app) for _ in emails]

    async def reader(n: int) -> None:
        for _ in range(3):
            response = await client.get(f"/p/{SLUG}" if n % 2 else "/")
            assert response.status_code == 200

    async def login(other: AppClient, email: str) -> None:
        response = await log_in_with_form(other, email)
        assert response.status_code == 303
        assert "linju_session" in other.cookies

    async def append(n: int) -> None:
        await ledger.append(
            SLUG,
            ledger.LedgerEvent(
                kind=EntryKind.DONATION,
                memo="并发",
                ref=f"don_conc{n}",
                postings=(
                    ledger.Posting(f"fund:{SLUG}", 100),
                    ledger.Posting("donors:online", -100),
                ),
                idempotency_key=f"donation:concurrent:{n}",
            ),
        )

    try:
        async with asyncio.timeout(120):
            await asyncio.gather(
                *(reader(n) for n in range(8)),
                *(login(other, email) for other, email in zip(clients, emails, strict=True)),
                *(append(n) for n in range(10)),
            )
    finally:
        for other in clients:
            await other.aclose()
    assert (await ledger_read.find_ledger(SLUG)).head_seq == start + 10
    export = await client.get(f"/api/v1/projects/{SLUG}/ledger.jsonl")
    assert export.status_code == 200
    assert export.text.count('"ref":"don_conc') == 10


async def failed_use_case() -> None:
    async with write_transaction():
        await Community.insert(Community(slug="gone", name="没了", district="区", description=""))
        raise RuntimeError("the use case failed")


async def test_a_failed_transaction_leaves_the_connection_clean(
    db: str, sqlite_engine: SharedConnectionSQLiteEngine
) -> None:
    seen: dict[str, Any] = {}

    async def request(scope: Any, receive: Any, send: Any) -> None:
        await sqlite_engine.run_querystring(QueryString("SELECT 1 AS one"))
        with pytest.raises(RuntimeError):
            await failed_use_case()
        rows = await sqlite_engine.run_querystring(
            QueryString("SELECT count(*) AS n FROM community")
        )
        seen["communities"] = rows[0]["n"]
        async with write_transaction():
            await Community.insert(
                Community(slug="kept", name="留下", district="区", description="")
            )
        seen["opened"] = sqlite_engine.opened

    assert sqlite_engine.keep_idle == 0  # no app running: nothing kept, a connection opened
    before = sqlite_engine.opened
    scope: Any = {"type": "http"}
    await shared_connection_middleware(request)(scope, cast(Any, None), cast(Any, None))
    assert seen["communities"] == 0
    assert seen["opened"] - before == 1  # statements and both transactions on one connection
    assert await Community.count().where(Community.slug == "kept") == 1
    assert await Community.count().where(Community.slug == "gone") == 0
