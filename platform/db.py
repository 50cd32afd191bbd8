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
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from piccolo.columns import Column
from piccolo.engine.base import Engine
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
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
        return SQLiteEngine(path=str(path), timeout=SQLITE_BUSY_TIMEOUT_SECONDS)
    return PostgresEngine(config={"dsn": database_url})


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


async def start_pool(max_size: int = 20) -> bool:
    """PostgreSQL only: without a pool every query opens a new connection.

    Returns whether this call created the pool, so only its creator closes it.
    """
    engine = get_engine()
    if isinstance(engine, PostgresEngine) and engine.pool is None:
        await engine.start_connection_pool(min_size=1, max_size=max_size)
        return True
    return False


async def close_pool() -> None:
    engine = get_engine()
    if isinstance(engine, PostgresEngine) and engine.pool is not None:
        await engine.close_connection_pool()


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
