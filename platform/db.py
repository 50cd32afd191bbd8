"""The database engine, its connection pool and the one way to open a write transaction.

Piccolo resolves its engine lazily from PICCOLO_CONF and caches it on every table, so the
engine is built once per process from DATABASE_URL (`linju.platform.piccolo_conf`). The two
engines differ where it matters for money: SQLite serialises writers, so a write transaction
must take the write lock at BEGIN (`BEGIN IMMEDIATE`) or two readers that both decide to write
deadlock; PostgreSQL runs writers concurrently and the services lock the rows they change.
"""

from __future__ import annotations

import asyncio
import functools
import os
import sqlite3
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import aiosqlite
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send
from piccolo.columns import Column
from piccolo.engine.base import Engine
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType
from piccolo.querystring import QueryString

from linju.platform.settings import get_settings

PICCOLO_CONF = "linju.platform.piccolo_conf"
SQLITE_BUSY_TIMEOUT_SECONDS = 30


def use_linju_piccolo_conf() -> None:
    """Point Piccolo at our configuration before any table is imported."""
    os.environ["PICCOLO_CONF"] = PICCOLO_CONF


def sqlite_path(database_url: str) -> Path:
    """`sqlite:///var/linju.db` is relative to the working directory, `sqlite:////abs` absolute."""
    return Path(unquote(urlsplit(database_url).path[1:]))


def engine_from_url(database_url: str) -> Engine[Any]:
    if database_url.startswith("sqlite"):
        path = sqlite_path(database_url)
        path.parent.mkdir(parents=True, exist_ok=True)
        return SharedConnectionSQLiteEngine(path=str(path), timeout=SQLITE_BUSY_TIMEOUT_SECONDS)
    return PostgresEngine(config={"dsn": database_url})


# SQLite: one connection per request (docs/adr/0035) ---------------------------------------------
#
# Piccolo's SQLite engine opens a new aiosqlite connection (a thread, the file opened, a PRAGMA)
# for every statement outside a transaction and for every transaction. Within a request
# (`shared_connection_middleware`) this engine opens one connection on first use and runs the
# request's statements and transactions on it, one at a time; the middleware closes it when the
# request ends. The connection is in autocommit mode (Piccolo's `isolation_level=None`): between
# statements it holds no transaction and so no lock, and in WAL mode (`platform.migrate`) a
# reader never blocks a writer anyway. Anything the request's connection is busy with when
# another task of the same request wants it (they rarely run side by side), and everything
# outside a request (jobs, the command line, tests calling services), opens its own connection
# as before.


class _RequestConnection:
    """The connection a request's statements share: taken lazily (an idle one of the engine's
    while the app runs, else a new one), used by one at a time, given back at the request's end."""

    __slots__ = ("closed", "connection", "lock")

    def __init__(self) -> None:
        self.connection: aiosqlite.Connection | None = None
        self.lock = asyncio.Lock()
        self.closed = False

    async def open(self, engine: SharedConnectionSQLiteEngine) -> aiosqlite.Connection:
        if self.connection is None:
            self.connection = await engine.take_connection()
        return self.connection

    async def discard(self) -> None:
        """Close the connection (the next use opens another): it may be left mid-transaction."""
        connection, self.connection = self.connection, None
        if connection is not None:
            await connection.close()

    async def close(self, engine: SharedConnectionSQLiteEngine) -> None:
        async with self.lock:  # a task of the request may still be using it
            self.closed = True
            connection, self.connection = self.connection, None
            if connection is not None:
                await engine.give_back(connection)


_request_connection: ContextVar[_RequestConnection | None] = ContextVar(
    "linju_sqlite_request_connection", default=None
)


class _SharedTransaction(SQLiteTransaction):
    """Piccolo's SQLite transaction, on the request's connection when it is free."""

    __slots__ = ("_shared",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._shared: _RequestConnection | None = None

    async def get_connection(self) -> Any:
        engine = self.engine
        assert isinstance(engine, SharedConnectionSQLiteEngine)
        shared = engine.free_request_connection()
        if shared is None:
            return await engine.get_connection()
        await shared.lock.acquire()  # free, so taken at once
        try:
            connection = await shared.open(engine)
        except BaseException:
            shared.lock.release()
            raise
        self._shared = shared
        return connection

    async def __aenter__(self) -> SQLiteTransaction:
        if self._parent is not None:
            return self._parent
        self.connection = await self.get_connection()
        try:
            await self.begin()  # type: ignore[no-untyped-call]
        except BaseException:
            await self._let_go(broken=True)
            raise
        self.context = self.engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent:
            return exception is None
        try:
            if exception:
                if not self._rolled_back:
                    await self.rollback()  # type: ignore[no-untyped-call]
            elif not self._committed and not self._rolled_back:
                await self.commit()  # type: ignore[no-untyped-call]
        except BaseException:
            await self._let_go(broken=True)
            raise
        finally:
            self.engine.current_transaction.reset(self.context)
        await self._let_go(broken=False)
        return exception is None

    async def _let_go(self, broken: bool) -> None:
        """Give the request's connection back (closed if it may be mid-transaction), or close
        a connection of the transaction's own."""
        shared, self._shared = self._shared, None
        if shared is None:
            await self.connection.close()
            return
        try:
            if broken:
                await shared.discard()
        finally:
            shared.lock.release()


class SharedConnectionSQLiteEngine(SQLiteEngine):
    """Piccolo's SQLite engine whose statements and transactions within a request share one
    connection. While the app runs (`start_pool`) a few idle connections are kept for the next
    requests: idle, in autocommit mode, they hold no lock. `opened` counts the connections it
    opened and `taken` the requests' connections (tests, the bench)."""

    __slots__ = ("idle", "keep_idle", "opened", "taken")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.opened = 0
        self.taken = 0
        self.keep_idle = 0  # none outside the app's lifespan: the command line, jobs, tests
        self.idle: list[aiosqlite.Connection] = []

    async def take_connection(self) -> aiosqlite.Connection:
        self.taken += 1
        if self.idle:
            return self.idle.pop()
        return await self.get_connection()

    async def give_back(self, connection: aiosqlite.Connection) -> None:
        """Keep a request's connection for the next one, unless enough are kept or it is not
        clean (a transaction left open); else close it."""
        if len(self.idle) < self.keep_idle and not connection.in_transaction:
            self.idle.append(connection)
        else:
            await connection.close()

    async def close_idle(self) -> None:
        self.keep_idle = 0
        idle, self.idle = self.idle, []
        for connection in idle:
            await connection.close()

    def free_request_connection(self) -> _RequestConnection | None:
        """The request's connection when this task may use it now: in a request, outside a
        transaction, and not in use by another task of the request."""
        shared = _request_connection.get()
        if shared is None or shared.closed or shared.lock.locked():
            return None
        if self.current_transaction.get() is not None:
            return None
        return shared

    async def get_connection(self) -> aiosqlite.Connection:
        self.opened += 1
        return await super().get_connection()

    async def _run_in_new_connection(self, *args: Any, **kwargs: Any) -> Any:
        self.opened += 1
        return await super()._run_in_new_connection(*args, **kwargs)

    async def run_querystring(self, querystring: QueryString, in_pool: bool = False) -> Any:
        shared = self.free_request_connection()
        if shared is None or (querystring.query_type == "insert" and _OLD_SQLITE):
            return await super().run_querystring(querystring, in_pool)
        query, args = querystring.compile_string(engine_type=self.engine_type)
        async with shared.lock:
            connection = await shared.open(self)
            async with connection.execute(query, args) as cursor:
                return await cursor.fetchall()

    def transaction(
        self,
        transaction_type: TransactionType = TransactionType.deferred,
        allow_nested: bool = True,
    ) -> SQLiteTransaction:
        return _SharedTransaction(
            engine=self, transaction_type=transaction_type, allow_nested=allow_nested
        )


_OLD_SQLITE = sqlite3.sqlite_version_info < (3, 35)  # no RETURNING: Piccolo's own way


def shared_connection_middleware(app: ASGIApp) -> ASGIApp:
    """On SQLite, one connection for each HTTP request's database work, closed at its end."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        engine = get_engine()
        if scope["type"] != ScopeType.HTTP or not isinstance(engine, SharedConnectionSQLiteEngine):
            await app(scope, receive, send)
            return
        shared = _RequestConnection()
        token = _request_connection.set(shared)
        try:
            await app(scope, receive, send)
        finally:
            _request_connection.reset(token)
            await shared.close(engine)

    return middleware


_engine: Engine[Any] | None = None
_as_owner = False


def connect_as_owner() -> None:
    """Make this process connect as the database's owner: through LINJU_MIGRATE_DATABASE_URL
    when it is set (docs/adr/0016-database-roles.md). Only `linju migrate` does; it must come
    before the engine is built, so no table can have been handed the other one."""
    global _as_owner
    if _engine is not None or PICCOLO_CONF in sys.modules:
        raise RuntimeError("connect_as_owner() must come before the first query")
    _as_owner = True


def process_database_url() -> str:
    """The URL this process's engine connects with (`piccolo_conf` builds it from this)."""
    settings = get_settings()
    if _as_owner and settings.migrate_database_url:
        return settings.migrate_database_url
    return settings.database_url


def get_engine() -> Engine[Any]:
    """The process's engine: the one Piccolo's tables use (PICCOLO_CONF's `DB`, built once).

    Kept here after the first call: Piccolo's finder imports the configuration module again on
    every call, which showed in the profile of the hot paths that run raw statements.
    """
    global _engine
    if _engine is None:
        _engine = engine_finder()
        if _engine is None:  # pragma: no cover - PICCOLO_CONF always defines DB
            raise RuntimeError("Piccolo found no engine; is PICCOLO_CONF set?")
    return _engine


def is_postgres(engine: Engine[Any] | None = None) -> bool:
    return (engine or get_engine()).engine_type == "postgres"


def write_transaction() -> Any:
    """A transaction that may write. Use it for every use case that changes data."""
    engine = get_engine()
    if isinstance(engine, SQLiteEngine):
        return engine.transaction(transaction_type=TransactionType.immediate)
    return engine.transaction()


Ordering = tuple[Column, bool]  # a column and whether ascending


async def select_rows(
    *columns: Column,
    where: Sequence[tuple[Column, Any]],
    order_by: Sequence[Ordering] = (),
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Rows of one table where every given column equals its value, as dicts (all columns when
    none are named), in order: the same rows as Piccolo's `select`, with the SQL built once per
    shape. Piccolo builds a query's SQL anew on every call, which on the project page (the
    busiest read, bench/ledger.py) cost more of Python's time than the database's work."""
    table = where[0][0]._meta.table
    sql = _select_sql(
        table._meta.tablename,
        tuple(c._meta.db_column_name for c in columns),
        tuple(c._meta.db_column_name for c, _ in where),
        tuple((c._meta.db_column_name, ascending) for c, ascending in order_by),
        limit is not None,
    )
    values = [value for _, value in where] + ([limit] if limit is not None else [])
    rows = await get_engine().run_querystring(QueryString(sql, *values))
    return [dict(row) for row in rows]  # inside a transaction Piccolo hands back asyncpg Records


@functools.lru_cache(maxsize=256)
def _select_sql(
    table: str,
    columns: tuple[str, ...],
    where: tuple[str, ...],
    order_by: tuple[tuple[str, bool], ...],
    limited: bool,
) -> str:
    selected = ", ".join(f'"{c}"' for c in columns) if columns else "*"
    sql = f'SELECT {selected} FROM "{table}" WHERE ' + " AND ".join(f'"{c}" = {{}}' for c in where)
    if order_by:
        sql += " ORDER BY " + ", ".join(f'"{c}" {"ASC" if up else "DESC"}' for c, up in order_by)
    return sql + (" LIMIT {}" if limited else "")


class _ReadOnlySnapshot(PostgresTransaction):
    """A PostgreSQL transaction that reads one snapshot and may not write."""

    async def begin(self) -> None:
        self.transaction = self.connection.transaction(isolation="repeatable_read", readonly=True)
        await self.transaction.start()


def read_snapshot() -> Any:
    """A read-only transaction for a page that reads several things: one connection for all
    its statements (instead of one each) and one consistent state, so the figures of every
    section agree. Inside a write transaction it joins that one."""
    engine = get_engine()
    if isinstance(engine, SQLiteEngine):
        return engine.transaction(transaction_type=TransactionType.deferred)
    assert isinstance(engine, PostgresEngine)
    return _ReadOnlySnapshot(engine=engine)


SQLITE_IDLE_CONNECTIONS = 32  # as many as a worker serves at once under load (bench/pages.py)


async def start_pool(max_size: int = 20) -> bool:
    """PostgreSQL: without a pool every query opens a new connection. SQLite: requests give
    their connection back for the next ones (up to SQLITE_IDLE_CONNECTIONS kept idle).

    Returns whether this call created the pool, so only its creator closes it.
    """
    engine = get_engine()
    if isinstance(engine, PostgresEngine) and engine.pool is None:
        await engine.start_connection_pool(min_size=1, max_size=max_size)
        return True
    if isinstance(engine, SharedConnectionSQLiteEngine) and not engine.keep_idle:
        engine.keep_idle = SQLITE_IDLE_CONNECTIONS
        return True
    return False


async def close_pool() -> None:
    engine = get_engine()
    if isinstance(engine, PostgresEngine) and engine.pool is not None:
        await engine.close_connection_pool()
    if isinstance(engine, SharedConnectionSQLiteEngine):
        await engine.close_idle()


@asynccontextmanager
async def pool_lifespan() -> AsyncIterator[None]:
    created = await start_pool()
    try:
        yield
    finally:
        if created:
            await close_pool()


async def database_is_reachable(limit_seconds: float = 3.0) -> bool:
    """Run a real query, bounded in time, so /healthz tells the truth about the database."""
    engine = get_engine()
    try:
        async with asyncio.timeout(limit_seconds):
            await engine.run_querystring(QueryString("SELECT 1"))
    except Exception:
        return False
    return True
