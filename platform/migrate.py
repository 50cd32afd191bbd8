"""Apply Piccolo migrations, once, even when several app servers start together.

On PostgreSQL the application role owns nothing and cannot migrate
(docs/adr/0016-database-roles.md). Every command that serves or works (`serve`, `worker`,
`demo`, `jobs`) calls `prepare_database` first: with LINJU_MIGRATE_DATABASE_URL set it runs
`linju migrate` as the owner in a process of its own; without it, it migrates through
DATABASE_URL only when something is pending and that role may, and otherwise refuses with one
line (`MigrationsPending`, exit 2).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from piccolo.apps.migrations.commands.base import BaseMigrationManager
from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine
from piccolo.querystring import QueryString

from linju.platform import content_version
from linju.platform.commands import CommandError
from linju.platform.db import get_engine
from linju.platform.roles import grant_app_role
from linju.platform.settings import get_settings

# Any constant works; it only has to be the same in every process of this application.
MIGRATION_LOCK_KEY = 0x4C494E4A55  # "LINJU"


class MigrationFailed(RuntimeError):
    pass


class MigrationsPending(CommandError):
    """Migrations are pending and this process's role may not apply them (exit 2, one line)."""


class OwnerMigrationFailed(Exception):
    """`linju migrate` as the owner failed; it has said why on stderr."""

    def __init__(self, exit_code: int) -> None:
        super().__init__(f"linju migrate exited {exit_code}")
        self.exit_code = exit_code


@asynccontextmanager
async def _migration_lock() -> AsyncIterator[asyncpg.Connection | None]:
    """On PostgreSQL, a session advisory lock so concurrent starts apply migrations once."""
    engine = get_engine()
    if not isinstance(engine, PostgresEngine):
        yield None
        return
    connection = await asyncpg.connect(**engine.config)
    try:
        await connection.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
        yield connection
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
    async with _migration_lock() as connection:
        with contextlib.redirect_stdout(report):
            result = await run_forwards(app_name="all", migration_id="all", fake=False)
        if not result.success:
            raise MigrationFailed(result.message or report.getvalue().strip() or "migration failed")
        if isinstance(engine, PostgresEngine):
            from linju.platform.jobs import pgq  # pgqueuer is imported only where it runs

            await pgq.install()  # pgqueuer's tables, under the same lock
        # Every table a migration made moves the pages' content version (ADR 0036).
        await content_version.install(engine)
        if isinstance(engine, PostgresEngine):
            assert connection is not None
            # Whatever the migrations made, the application role may use, and no more.
            role = await grant_app_role(connection)
            if role is not None:
                report.write(f"granted to the application role {role}\n")
    return report.getvalue() if verbose else ""


async def pending_migrations() -> list[str]:
    """The migrations (`app:id`) not yet applied, and pgqueuer's schema if it needs installing
    or upgrading; read without writing anything, so any role can ask."""
    engine = get_engine()
    finder = BaseMigrationManager()
    known = []
    for app_name in finder.get_sorted_app_names():
        config = finder.get_app_config(app_name)
        modules = finder.get_migration_modules(config.resolved_migrations_folder_path)
        known += [(app_name, migration_id) for migration_id in finder.get_migration_ids(modules)]
    if isinstance(engine, PostgresEngine):
        exists = "SELECT to_regclass('migration') IS NOT NULL AS present"
    else:
        exists = (
            "SELECT count(*) > 0 AS present FROM sqlite_master "
            "WHERE type = 'table' AND name = 'migration'"
        )
    ran: set[tuple[str, str]] = set()
    if (await engine.run_querystring(QueryString(exists)))[0]["present"]:
        rows = await engine.run_querystring(QueryString("SELECT app_name, name FROM migration"))
        ran = {(row["app_name"], row["name"]) for row in rows}
    pending = [
        f"{app}:{migration_id}" for app, migration_id in known if (app, migration_id) not in ran
    ]
    if ran and await content_version.missing(engine):
        pending.append("content-version:triggers")
    if isinstance(engine, PostgresEngine):
        from linju.platform.jobs import pgq

        if await pgq.needs_install():
            pending.append("pgqueuer:schema")
    return pending


# The rule for "this role may migrate" (docs/adr/0016-database-roles.md): a superuser may; so
# may a role that owns, itself or through a role it belongs to, the table of applied
# migrations (whoever owns that owns the schema's tables: `linju db create-roles` gives them
# all to the owner); before the first migration, a role that may create tables in the schema.
# The application role made by `linju db create-roles` is none of these.
_MAY_MIGRATE = """
SELECT current_user AS role,
    (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) OR CASE
        WHEN to_regclass('migration') IS NULL
            THEN coalesce(has_schema_privilege(current_schema(), 'CREATE'), false)
        ELSE pg_has_role(
            current_user, (SELECT relowner FROM pg_class WHERE oid = to_regclass('migration')),
            'USAGE')
    END AS may
"""


async def role_may_migrate() -> tuple[str, bool]:
    """This process's role, and whether it may apply migrations (always, on SQLite)."""
    engine = get_engine()
    if not isinstance(engine, PostgresEngine):
        return "", True
    row = (await engine.run_querystring(QueryString(_MAY_MIGRATE)))[0]
    return row["role"], bool(row["may"])


def _refusal(role: str, pending: list[str]) -> MigrationsPending:
    count = f"{len(pending)} migration{'s are' if len(pending) != 1 else ' is'} pending"
    return MigrationsPending(
        f"{count} and the role {role} may not apply them; set LINJU_MIGRATE_DATABASE_URL to "
        "the owner role's URL, or run `linju migrate` as the owner first"
    )


async def migrate(verbose: bool = False) -> str:
    """`linju migrate`: apply what is pending through this process's engine (the owner's, when
    LINJU_MIGRATE_DATABASE_URL is set), or refuse in one line when its role may not."""
    role, may = await role_may_migrate()
    if not may:
        pending = await pending_migrations()
        if pending:
            raise _refusal(role, pending)
        return "migrations: up to date" if verbose else ""
    return await apply_migrations(verbose=verbose)


async def prepare_database() -> None:
    """Before serving or working: the database is migrated, or this process refuses to start.

    - LINJU_MIGRATE_DATABASE_URL set: `linju migrate` runs as the owner in a process of its
      own (its engine never meets this one's), and this one goes on through DATABASE_URL;
    - otherwise, on SQLite: migrate (today's behaviour, no roles there);
    - otherwise, on PostgreSQL: nothing pending, nothing to do; pending, and DATABASE_URL's role
      may migrate (`role_may_migrate`): migrate; pending and it may not: `MigrationsPending`.
    """
    if get_settings().migrate_database_url:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "linju.platform.cli", "migrate", stdout=subprocess.DEVNULL
        )
        if code := await process.wait():
            raise OwnerMigrationFailed(code)
        return
    if not isinstance(get_engine(), PostgresEngine):
        await apply_migrations()
        return
    pending = await pending_migrations()
    if not pending:
        return
    role, may = await role_may_migrate()
    if not may:
        raise _refusal(role, pending)
    await apply_migrations()
