"""PostgreSQL roles: an owner that migrates, an application role that owns nothing.

`linju serve` and `linju worker` connect as the application role. It may read and write rows,
and only read and append on an append-only table; it owns no table, so it cannot `ALTER TABLE
… DISABLE TRIGGER`, `DROP` or `TRUNCATE`, and, not being a superuser, cannot `SET
session_replication_role` (which would silence every trigger). Migrations run as the owner.
docs/adr/0016-database-roles.md has the reasons.

- `create_roles` (`linju db create-roles`, run once by the database's administrator) makes the
  two roles, gives the owner the schema and everything in it, records the application role's
  name in the database (`linju.app_role`) and grants it what it needs.
- `grant_app_role` is that grant; `apply_migrations` runs it after every migration, as the
  owner, so every later table is the application role's to use the same way.

Linju's tables live in the schema `public`. SQLite has no roles: none of this applies there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import asyncpg

from linju.platform.commands import CommandError

SCHEMA = "public"
APP_ROLE_SETTING = "linju.app_role"
ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")

# A table that refuses UPDATE and DELETE with a trigger named `<table>_append_only` (the
# ledger's entries and postings) is append-only: the application role may SELECT and INSERT
# there, nothing more. Every other table: SELECT, INSERT, UPDATE, DELETE. Never TRUNCATE.
_APPEND_ONLY_TABLES = """
SELECT c.relname
FROM pg_trigger t
JOIN pg_class c ON c.oid = t.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND t.tgname = c.relname || '_append_only'
ORDER BY c.relname
"""


async def _run(connection: asyncpg.Connection, template: str, *values: str) -> None:
    """Run a statement built by PostgreSQL's own `format` (%I a name, %L a literal), since
    names and passwords cannot be parameters of a utility statement."""
    arguments = ", ".join(f"${index}::text" for index in range(1, len(values) + 1))
    statement = await connection.fetchval(
        f"SELECT format({_literal(template)}, {arguments})", *values
    )
    await connection.execute(statement)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


async def app_role(connection: asyncpg.Connection) -> str | None:
    """The application role recorded in this database by `create_roles`, or None."""
    value = await connection.fetchval("SELECT current_setting($1, true)", APP_ROLE_SETTING)
    return value or None


async def grant_app_role(connection: asyncpg.Connection, role: str | None = None) -> str | None:
    """Grant the application role what it needs on every table and sequence of the schema, in
    one transaction; return its name (None, and nothing done, when none is recorded).

    Run after every migration by `apply_migrations`, as the owner: whatever a migration made,
    the application role can use it the same way, and no more (an append-only table stays so).
    """
    role = role or await app_role(connection)
    if role is None:
        return None
    async with connection.transaction():
        await _run(connection, "GRANT USAGE ON SCHEMA %I TO %I", SCHEMA, role)
        await _run(
            connection,
            "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO %I",
            SCHEMA,
            role,
        )
        await _run(
            connection, "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %I TO %I", SCHEMA, role
        )
        await _run(connection, "REVOKE TRUNCATE ON ALL TABLES IN SCHEMA %I FROM %I", SCHEMA, role)
        for row in await connection.fetch(_APPEND_ONLY_TABLES, SCHEMA):
            await _run(
                connection, "REVOKE UPDATE, DELETE ON %I.%I FROM %I", SCHEMA, row["relname"], role
            )
    return role


@dataclass(frozen=True, slots=True)
class RolesMade:
    owner: str
    app: str
    database: str
    objects_given_to_owner: int


def _check_names(owner: str, app: str) -> None:
    for option, name in (("--owner", owner), ("--app", app)):
        if not ROLE_NAME.fullmatch(name):
            raise CommandError(
                f"{option}: a role name is lower-case letters, digits and _ (at most 63), "
                f"got {name!r}"
            )
    if owner == app:
        raise CommandError("--owner and --app must be two different roles")


async def _make_login_role(connection: asyncpg.Connection, name: str, password: str | None) -> None:
    attributes = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT"
    existing = await connection.fetchrow("SELECT rolsuper FROM pg_roles WHERE rolname = $1", name)
    if existing is not None and existing["rolsuper"]:
        raise CommandError(f"role {name} exists and is a superuser; choose another name")
    verb = "CREATE" if existing is None else "ALTER"
    await _run(connection, f"{verb} ROLE %I {attributes}", name)
    if password is not None:
        await _run(connection, "ALTER ROLE %I PASSWORD %L", name, password)


# Everything in the schema that has an owner of its own, for the owner to take over (tables,
# views, sequences that belong to no column, functions, and enum, domain and standalone
# composite types; the rest follows its table), but what belongs to an extension.
_NOT_OF_AN_EXTENSION = (
    "NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.objid = {oid} AND x.deptype = 'e')"
)
_OWNED_OBJECTS = """
SELECT 'TABLE' AS kind, format('%I.%I', n.nspname, c.relname) AS name
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND {table_free}
UNION ALL
SELECT 'SEQUENCE', format('%I.%I', n.nspname, c.relname)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relkind = 'S' AND NOT EXISTS (
    SELECT 1 FROM pg_depend d
    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i', 'e')
)
UNION ALL
SELECT CASE p.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END,
    format('%I.%I(%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid))
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = $1 AND p.prokind IN ('f', 'p') AND {function_free}
UNION ALL
SELECT CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, format('%I.%I', n.nspname, t.typname)
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE n.nspname = $1 AND {type_free} AND (t.typtype IN ('e', 'd')
    OR (t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'))
""".format(
    table_free=_NOT_OF_AN_EXTENSION.format(oid="c.oid"),
    function_free=_NOT_OF_AN_EXTENSION.format(oid="p.oid"),
    type_free=_NOT_OF_AN_EXTENSION.format(oid="t.oid"),
)


async def create_roles(
    admin_url: str,
    owner: str,
    app: str,
    owner_password: str | None = None,
    app_password: str | None = None,
) -> RolesMade:
    """Make (or bring back to shape) the owner and the application role of the database that
    `admin_url` names, connected as its administrator (a superuser). Idempotent; one
    transaction: on any refusal nothing is changed.

    The owner: LOGIN, owns the schema and everything in it (what an earlier migration made as
    someone else too), and applies migrations. The application role: LOGIN, owns nothing, is no
    member of the owner, and is granted what `grant_app_role` grants, now and (by default
    privileges) on whatever the owner creates later. Neither is a superuser or may create
    roles or databases. A password is set only when given.
    """
    _check_names(owner, app)
    try:
        connection = await asyncpg.connect(admin_url)
    except (OSError, asyncpg.PostgresError) as exc:
        raise CommandError(f"cannot connect to the database: {exc}") from exc
    try:
        async with connection.transaction():
            await _make_login_role(connection, owner, owner_password)
            await _make_login_role(connection, app, app_password)
            database = await connection.fetchval("SELECT current_database()")
            if await connection.fetchval("SELECT pg_has_role($1, $2, 'MEMBER')", app, owner):
                raise CommandError(f"role {app} is a member of {owner}: it would own what it owns")
            if await connection.fetchval(
                "SELECT d.datdba = r.oid FROM pg_database d, pg_roles r "
                "WHERE d.datname = current_database() AND r.rolname = $1",
                app,
            ):
                raise CommandError(f"role {app} owns the database {database}; it must own nothing")
            await _run(connection, "GRANT CONNECT ON DATABASE %I TO %I, %I", database, owner, app)
            await _run(connection, "ALTER SCHEMA %I OWNER TO %I", SCHEMA, owner)
            await _run(connection, "REVOKE CREATE ON SCHEMA %I FROM PUBLIC", SCHEMA)
            objects = await connection.fetch(_OWNED_OBJECTS, SCHEMA)
            for row in objects:
                await connection.execute(f"ALTER {row['kind']} {row['name']} OWNER TO {owner}")
            await _run(connection, "ALTER DATABASE %I SET linju.app_role = %L", database, app)
            for kind, privileges in (
                ("TABLES", "SELECT, INSERT, UPDATE, DELETE"),
                ("SEQUENCES", "USAGE, SELECT"),
            ):
                await _run(
                    connection,
                    f"ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %I "
                    f"GRANT {privileges} ON {kind} TO %I",
                    owner,
                    SCHEMA,
                    app,
                )
            await grant_app_role(connection, app)
    except asyncpg.InsufficientPrivilegeError as exc:
        raise CommandError(
            f"the role of DATABASE_URL may not make roles (run this as a superuser): {exc}"
        ) from exc
    finally:
        await connection.close()
    return RolesMade(owner, app, database, len(objects))
