"""The database protects the ledger from the application itself (docs/adr/0016-database-roles.md).

PostgreSQL only: SQLite has no roles. Each test run makes its own two roles (roles belong to the
whole cluster, so their names carry a random suffix) and databases of its own, and drops them
all at the end. Everything runs the way an operator runs it: `linju db create-roles` as the
superuser, `linju migrate` as the owner, `linju serve`, `linju worker` and `linju demo` as the
application role, each a process of its own; the refusals are asked for over a connection as
the application role.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Coroutine, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest

from tests.browser_fixtures import serving
from tests.conftest import POSTGRES_ADMIN_URL
from tests.forms import submit

pytestmark = pytest.mark.postgres_only

LINJU = str(Path(sys.executable).parent / "linju")
SLUG = "tongqu-leyuan"  # a demo project taking donations
T = TypeVar("T")
# Uploads (the demo's photos) in LINJU_VAR_DIR: this test is about the database, not the bucket.
LOCAL_UPLOADS = {"LINJU_STORAGE_URL": "local"}


@dataclass(frozen=True)
class Roles:
    owner: str
    app: str

    def url(self, role: str, database: str) -> str:
        admin = urlsplit(POSTGRES_ADMIN_URL)
        return f"postgresql://{role}@{admin.hostname}:{admin.port or 5432}/{database}"


def _admin_url(database: str) -> str:
    base, _, _ = POSTGRES_ADMIN_URL.rpartition("/")
    return f"{base}/{database}"


async def _admin_execute(sql: str) -> None:
    connection = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to its end from a sync fixture or inside an async test alike."""
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


def _admin(sql: str) -> None:
    _run(_admin_execute(sql))


def run_linju(
    args: Sequence[str], env: Mapping[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`linju` in a process of its own, with the test run's settings and `env`."""
    environment = {**os.environ, **LOCAL_UPLOADS, **env}
    return subprocess.run(
        [LINJU, *args], env=environment, capture_output=True, text=True, timeout=timeout
    )


def linju(*args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
    return run_linju(args, env, timeout)


@pytest.fixture(scope="module")
def roles() -> Iterator[Roles]:
    suffix = uuid.uuid4().hex[:10]
    made = Roles(owner=f"linju_owner_{suffix}", app=f"linju_app_{suffix}")
    try:
        yield made
    finally:  # after every database of the run is gone, nothing of the roles is left
        _admin(f'DROP ROLE IF EXISTS "{made.app}", "{made.owner}"')


@contextmanager
def fresh_database() -> Iterator[str]:
    name = f"linju_roles_{uuid.uuid4().hex[:12]}"
    _admin(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def create_roles(
    roles: Roles, database: str, *options: str, app: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """`linju db create-roles` as the superuser (DATABASE_URL), unless `env` says otherwise."""
    command = ["db", "create-roles", "--owner", roles.owner, "--app", app or roles.app, *options]
    return run_linju(command, {"DATABASE_URL": _admin_url(database), **env})


@pytest.fixture(scope="module")
def migrated(roles: Roles) -> Iterator[str]:
    """A database with both roles, migrated by the owner; its name."""
    with fresh_database() as database:
        made = create_roles(
            roles,
            database,
            "--owner-password-env",
            "LINJU_TEST_OWNER_PASSWORD",
            LINJU_TEST_OWNER_PASSWORD="owner-password-of-this-run",  # trust auth: not asked
        )
        assert made.returncode == 0, made.stderr
        migrate = linju(
            "migrate",
            DATABASE_URL=roles.url(roles.app, database),
            LINJU_MIGRATE_DATABASE_URL=roles.url(roles.owner, database),
        )
        assert migrate.returncode == 0, migrate.stderr
        assert f"granted to the application role {roles.app}" in migrate.stdout
        yield database


async def _connect(roles: Roles, role: str, database: str) -> asyncpg.Connection:
    return await asyncpg.connect(roles.url(role, database))


async def _entries(roles: Roles, database: str) -> int:
    connection = await _connect(roles, roles.owner, database)
    try:
        return int(await connection.fetchval("SELECT count(*) FROM ledger_entry"))
    finally:
        await connection.close()


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("linju: ")
    return lines[0]


def test_serve_and_worker_refuse_pending_migrations_without_the_owners_url(roles: Roles) -> None:
    with fresh_database() as database:
        assert create_roles(roles, database).returncode == 0
        app_url = roles.url(roles.app, database)
        for command in (["serve", "--port", "1"], ["worker", "--drain"]):
            refused = linju(*command, timeout=60, DATABASE_URL=app_url)
            assert refused.returncode == 2, (command, refused.stdout, refused.stderr)
            line = one_line(refused)
            assert "migrations are pending" in line
            assert f"the role {roles.app} may not apply them" in line
            assert "LINJU_MIGRATE_DATABASE_URL" in line
        # `linju migrate` through the application role says the same, and migrates nothing.
        refused = linju("migrate", DATABASE_URL=app_url)
        assert refused.returncode == 2
        assert "may not apply them" in one_line(refused)
        # Given the owner's URL, serve migrates first (as the owner), then serves.
        with serving(
            DATABASE_URL=app_url,
            LINJU_MIGRATE_DATABASE_URL=roles.url(roles.owner, database),
            LINJU_STORAGE_URL=LOCAL_UPLOADS["LINJU_STORAGE_URL"],
        ) as address:
            assert httpx.get(f"{address}/healthz").status_code == 200


def test_create_roles_refuses_bad_input_in_one_line(roles: Roles) -> None:
    with fresh_database() as database:
        for options, env, message in [
            (("--app-password-env", "LINJU_TEST_UNSET"), {}, "LINJU_TEST_UNSET is not set"),
            (("--owner-password-env", "LINJU_TEST_EMPTY"), {"LINJU_TEST_EMPTY": ""}, "is not set"),
        ]:
            refused = create_roles(roles, database, *options, **env)
            assert refused.returncode == 2
            assert message in one_line(refused)
        same = create_roles(roles, database, app=roles.owner)
        assert same.returncode == 2
        assert "two different roles" in one_line(same)
        badly_named = create_roles(roles, database, app="Linju App")
        assert badly_named.returncode == 2
        assert "--app: a role name is" in one_line(badly_named)
        assert create_roles(roles, database).returncode == 0
        as_app = create_roles(roles, database, DATABASE_URL=roles.url(roles.app, database))
        assert as_app.returncode == 2
        assert "run this as a superuser" in one_line(as_app)


async def test_an_existing_database_is_handed_to_the_owner(roles: Roles) -> None:
    """A site migrated by one all-powerful role before the roles existed: after create-roles
    the owner owns every table and the application role is granted the same as on a new one."""
    with fresh_database() as database:
        assert linju("migrate", DATABASE_URL=_admin_url(database)).returncode == 0
        made = create_roles(roles, database)
        assert made.returncode == 0, made.stderr
        connection = await _connect(roles, roles.app, database)
        try:
            owners = await connection.fetch(
                "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'"
            )
            assert [row["tableowner"] for row in owners] == [roles.owner]
            privileges = {
                (table, privilege): await connection.fetchval(
                    "SELECT has_table_privilege($1, $2)", table, privilege
                )
                for table in ("ledger_entry", "ledger_posting", "ledger_head", "project")
                for privilege in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE")
            }
        finally:
            await connection.close()
        granted = {key for key, allowed in privileges.items() if allowed}
        assert granted == {
            ("ledger_entry", "SELECT"),
            ("ledger_entry", "INSERT"),
            ("ledger_posting", "SELECT"),
            ("ledger_posting", "INSERT"),
            *{(t, p) for t in ("ledger_head", "project") for p in ("SELECT", "INSERT")},
            *{(t, p) for t in ("ledger_head", "project") for p in ("UPDATE", "DELETE")},
        }


REFUSED_TO_THE_APP = [
    "ALTER TABLE ledger_entry DISABLE TRIGGER ALL",
    "ALTER TABLE ledger_entry DISABLE TRIGGER ledger_entry_append_only",
    "ALTER TABLE ledger_head DISABLE TRIGGER ledger_head_is_newest_entry",
    "DROP TRIGGER ledger_entry_append_only ON ledger_entry",
    "DROP FUNCTION linju_refuse_ledger_change() CASCADE",
    "SET session_replication_role = replica",
    "DROP TABLE ledger_entry CASCADE",
    "DROP TABLE ledger_posting",
    "TRUNCATE ledger_entry CASCADE",
    "TRUNCATE ledger_posting",
    "TRUNCATE project CASCADE",
    "UPDATE ledger_entry SET memo = 'rewritten'",
    "DELETE FROM ledger_entry",
    "UPDATE ledger_posting SET amount = amount + 1",
    "DELETE FROM ledger_posting",
    "CREATE TABLE ledger_shadow (id integer)",
    "ALTER TABLE ledger_head OWNER TO CURRENT_USER",
]


@pytest.fixture(scope="module")
def demo_loaded(roles: Roles, migrated: str) -> str:
    """The demo, loaded through the application role (its donations write the ledger)."""
    loaded = linju("demo", DATABASE_URL=roles.url(roles.app, migrated))
    assert loaded.returncode == 0, loaded.stderr
    assert _run(_entries(roles, migrated)) > 0
    return migrated


@pytest.mark.parametrize("statement", REFUSED_TO_THE_APP)
async def test_the_application_role_is_refused(
    roles: Roles, demo_loaded: str, statement: str
) -> None:
    before = await _entries(roles, demo_loaded)
    connection = await _connect(roles, roles.app, demo_loaded)
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await connection.execute(statement)
    finally:
        await connection.close()
    assert await _entries(roles, demo_loaded) == before


@pytest.mark.parametrize("role", ["app", "owner"])
async def test_the_head_cannot_be_moved_off_the_newest_entry(
    roles: Roles, demo_loaded: str, role: str
) -> None:
    connection = await _connect(roles, getattr(roles, role), demo_loaded)
    try:
        first = await connection.fetchrow(
            "SELECT e.project, e.seq, e.hash FROM ledger_entry e JOIN project p ON p.id = e.project"
            " WHERE p.slug = $1 AND e.seq = 1",
            SLUG,
        )
        with pytest.raises(asyncpg.IntegrityConstraintViolationError, match="newest entry"):
            await connection.execute(
                "UPDATE ledger_head SET seq = $1, hash = $2 WHERE project = $3",
                first["seq"],
                first["hash"],
                first["project"],
            )
    finally:
        await connection.close()


async def test_served_as_the_application_role_a_donation_writes_the_ledger(
    roles: Roles, demo_loaded: str
) -> None:
    app_url = roles.url(roles.app, demo_loaded)
    # Nothing is pending: no owner's URL is needed.
    with serving(DATABASE_URL=app_url, LINJU_STORAGE_URL="local") as address:
        async with httpx.AsyncClient(base_url=address) as client:
            before = (await client.get(f"/api/v1/projects/{SLUG}")).json()["ledger_head"]
            created = await client.post(
                f"/api/v1/projects/{SLUG}/donations",
                json={
                    "amount": {"amount": 8_800, "currency": "CNY"},
                    "display_name": "角色测试",
                    "anonymous": False,
                    "message": None,
                    "email": None,
                },
            )
            assert created.status_code == 201, created.text
            checkout = urlsplit(created.json()["checkout_url"]).path
            paid = await submit(client, checkout, checkout, press="succeed")
            assert paid.status_code in (302, 303), paid.text
            after = (await client.get(f"/api/v1/projects/{SLUG}")).json()["ledger_head"]
            assert after["seq"] == before["seq"] + 2  # the donation and its processor's fee
            page = await client.get(f"/api/v1/projects/{SLUG}/ledger?after={before['seq']}")
            kinds = [entry["kind"] for entry in page.json()["entries"]]
            assert kinds == ["donation", "fee"]
            donation_id = created.json()["id"]
            assert page.json()["entries"][0]["ref"] == donation_id
            # A job queued and run as the application role: the refund, sent and posted.
            refunded = linju(
                *("payments", "refund", donation_id, "--amount", "10", "--reason", "角色测试"),
                "--now",
                DATABASE_URL=app_url,
                LINJU_BASE_URL=address,
            )
            assert refunded.returncode == 0, refunded.stderr
            page = await client.get(f"/api/v1/projects/{SLUG}/ledger?after={before['seq']}")
            assert [entry["kind"] for entry in page.json()["entries"]] == [
                "donation",
                "fee",
                "refund",
            ]
    for command in (["worker", "--drain"], ["jobs", "list"], ["ledger", "verify"]):
        result = linju(*command, timeout=120, DATABASE_URL=app_url)
        assert result.returncode == 0, (command, result.stdout, result.stderr)


async def test_every_migration_grants_what_it_made_and_keeps_append_only_tables_so(
    roles: Roles, migrated: str
) -> None:
    """What a later migration makes as the owner is the application role's to use after the
    grant that ends every `linju migrate`; a table that refuses UPDATE and DELETE by a trigger
    named `<table>_append_only` is read and appended only."""
    owner = await _connect(roles, roles.owner, migrated)
    try:
        await owner.execute("CREATE TABLE later_notes (id serial PRIMARY KEY, body text)")
        await owner.execute("CREATE TABLE later_log (id serial PRIMARY KEY, body text)")
        await owner.execute(
            "CREATE TRIGGER later_log_append_only BEFORE UPDATE OR DELETE ON later_log "
            "FOR EACH ROW EXECUTE FUNCTION linju_refuse_ledger_change()"
        )
    finally:
        await owner.close()
    migrate = linju(
        "migrate",
        DATABASE_URL=roles.url(roles.app, migrated),
        LINJU_MIGRATE_DATABASE_URL=roles.url(roles.owner, migrated),
    )
    assert migrate.returncode == 0, migrate.stderr
    app = await _connect(roles, roles.app, migrated)
    try:
        await app.execute("INSERT INTO later_notes (body) VALUES ('a')")
        await app.execute("UPDATE later_notes SET body = 'b'")
        await app.execute("DELETE FROM later_notes")
        await app.execute("INSERT INTO later_log (body) VALUES ('kept')")
        assert await app.fetchval("SELECT body FROM later_log") == "kept"
        for statement in ("UPDATE later_log SET body = 'x'", "DELETE FROM later_log"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await app.execute(statement)
    finally:
        await app.close()
