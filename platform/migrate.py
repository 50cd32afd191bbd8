"""Apply Piccolo migrations, once, even when several app servers start together."""

from __future__ import annotations

import contextlib
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine
from piccolo.querystring import QueryString

from linju.platform.db import get_engine

# Any constant works; it only has to be the same in every process of this application.
MIGRATION_LOCK_KEY = 0x4C494E4A55  # "LINJU"


class MigrationFailed(RuntimeError):
    pass


@asynccontextmanager
async def _migration_lock() -> AsyncIterator[None]:
    """On PostgreSQL, a session advisory lock so concurrent starts apply migrations once."""
    engine = get_engine()
    if not isinstance(engine, PostgresEngine):
        yield
        return
    connection = await asyncpg.connect(**engine.config)
    try:
        await connection.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
        yield
    finally:
        with contextlib.suppress(Exception):
            await connection.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)
        await connection.close()


async def apply_migrations(verbose: bool = False) -> str:
    """Apply every pending migration of every app; return Piccolo's report."""
    engine = get_engine()
    if isinstance(engine, SQLiteEngine):
        # WAL lets readers go on while a writer writes; the setting is kept in the file.
        await engine.run_querystring(QueryString("PRAGMA journal_mode=WAL"))
    report = io.StringIO()
    async with _migration_lock():
        with contextlib.redirect_stdout(report):
            result = await run_forwards(app_name="all", migration_id="all", fake=False)
        if not result.success:
            raise MigrationFailed(result.message or report.getvalue().strip() or "migration failed")
        if isinstance(engine, PostgresEngine):
            from linju.platform.jobs import pgq  # pgqueuer is imported only where it runs

            await pgq.install()  # pgqueuer's tables, under the same lock
    return report.getvalue() if verbose else ""
