"""Test set-up shared by every test: the environment first, then the database.

The engine is chosen per pytest run by LINJU_TEST_DATABASE (`sqlite` or `postgres`); `make test`
runs the whole suite once per engine. The environment is set here, before any `linju` table is
imported, because Piccolo resolves and caches its engine on first use.

Each run (and each xdist worker) gets its own database: a SQLite file in a temporary folder, or
a uniquely named PostgreSQL database created here and dropped at the end, so runs never collide.
Tests that touch the database use the `db` fixture, which gives them an empty, migrated database;
the run's database is made only when a test first asks for it, so a run of pure tests
(`pytest -m pure`) never connects to one.
Ledger tables refuse DELETE and TRUNCATE by trigger, so emptying them is done the way only a
test may: restoring a migrated SQLite file, or truncating with triggers disabled for that one
session (`session_replication_role = replica`, which needs the superuser the tests connect as).

Tests live beside the area they test (tests/platform, tests/projects/<area>, tests/payments);
their kind is a marker set at collection from the fixtures they use (`pytest_collection_modifyitems`
below): `database` (the `db` fixture), `http` (the `client` fixture, which runs the app's
lifespan), `browser` (Chromium against `linju serve`), or else `pure`.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import asyncpg
import pytest

pytest.register_assert_rewrite("tests.storage_support")  # a plugin below, imported here first
from tests.storage_support import S3_ENVIRONMENT  # noqa: E402

if TYPE_CHECKING:
    from tests.client_support import AppClient

# Chromium and `linju serve` for the browser tests, usable from any folder; moto's S3 server.
pytest_plugins = [
    "tests.browser_fixtures",
    "tests.storage_support",
    "tests.fakes.stripe_fixtures",
]

ENGINE = os.environ.get("LINJU_TEST_DATABASE", "sqlite")
if ENGINE not in ("sqlite", "postgres"):
    raise RuntimeError(f"LINJU_TEST_DATABASE must be sqlite or postgres, not {ENGINE!r}")
POSTGRES_ADMIN_URL = os.environ.get(
    "LINJU_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
RUN_DIR = Path(tempfile.mkdtemp(prefix=f"linju-test-{WORKER}-"))
TEST_DATABASE_NAME = f"linju_test_{uuid.uuid4().hex[:12]}_{WORKER}"


def _postgres_url(database: str) -> str:
    base, _, _ = POSTGRES_ADMIN_URL.rpartition("/")
    return f"{base}/{database}"


if ENGINE == "postgres":
    DATABASE_URL = _postgres_url(TEST_DATABASE_NAME)
else:
    DATABASE_URL = f"sqlite:///{RUN_DIR / 'linju.db'}"

os.environ.update(
    {
        "DATABASE_URL": DATABASE_URL,
        "LINJU_VAR_DIR": str(RUN_DIR / "var"),
        "LINJU_SECRET_KEY": "test-secret-key-" + "x" * 32,
        "LINJU_SANDBOX_WEBHOOK_SECRET": "test-sandbox-webhook-secret-" + "y" * 16,
        "LINJU_BASE_URL": "http://testserver.local",
        # One log identity for the whole run, whatever port a test's `linju serve` listens on
        # (the log's key, generated once into LINJU_VAR_DIR, is named after its origin).
        "LINJU_LOG_ORIGIN": "testserver.local/log",
        "PICCOLO_CONF": "linju.platform.piccolo_conf",
        # Tests run jobs when they mean to (`drain_jobs`), never behind their back; the
        # browser tests' `linju serve` turns the in-process runner back on.
        "LINJU_RUN_JOBS_IN_SERVE": "false",
    }
)
for name in ("LINJU_PAYMENT_GATEWAY", "STRIPE_API_KEY", "STRIPE_WEBHOOK_SECRET", "STRIPE_API_BASE"):
    os.environ.pop(name, None)
for name in S3_ENVIRONMENT:
    os.environ.pop(name, None)
if ENGINE == "postgres":  # every upload goes to a bucket on moto's server; SQLite: var/uploads
    os.environ.update(S3_ENVIRONMENT)

SQLITE_TEMPLATE = RUN_DIR / "migrated-template.db"


async def _admin_execute(sql: str) -> None:
    connection = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def _create_database() -> None:
    if ENGINE == "postgres":
        asyncio.run(_admin_execute(f'CREATE DATABASE "{TEST_DATABASE_NAME}"'))


def _drop_database() -> None:
    if ENGINE == "postgres":
        asyncio.run(_admin_execute(f'DROP DATABASE IF EXISTS "{TEST_DATABASE_NAME}" WITH (FORCE)'))


async def _migrate() -> None:
    from linju.platform.migrate import apply_migrations

    await apply_migrations()


def _user_tables() -> list[str]:
    from piccolo.conf.apps import Finder

    return [table._meta.tablename for table in Finder().get_table_classes()]


@pytest.fixture(scope="session", autouse=True)
def _wired() -> None:
    """The areas' ports and catalogs connected as the app and the command line connect them, so
    services and translations called directly behave as they do behind a route. Needs no
    database."""
    from linju.platform.app import wire

    wire()


@pytest.fixture(scope="session")
def test_database() -> Iterator[str]:
    """Create this run's database, migrate it once, drop it at the end.

    Made on first use (through `db`), not for every run: pure tests need no database.
    """
    _create_database()
    try:
        asyncio.run(_migrate())
        if ENGINE == "sqlite":
            shutil.copyfile(RUN_DIR / "linju.db", SQLITE_TEMPLATE)
        yield DATABASE_URL
    finally:
        _drop_database()


async def _empty_postgres() -> None:
    """Empty every table, after ending any connection an earlier test left behind.

    This run's database is its own (one per run and xdist worker), so no other connection to it
    is legitimate between tests. One left "idle in transaction" by a failed test would hold its
    locks and make TRUNCATE wait forever; ending them first, and bounding the lock wait, turns
    that into a clean start or a clear error instead of a hung run.
    """
    from pgqueuer.domain.settings import DBSettings

    queue = DBSettings()
    job_tables = [queue.queue_table, queue.queue_table_log, queue.statistics_table]
    tables = ", ".join(f'"{name}"' for name in [*_user_tables(), *job_tables])
    connection = await asyncpg.connect(DATABASE_URL)
    try:
        await connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        await connection.execute("SET lock_timeout = '20s'")
        await connection.execute("SET session_replication_role = replica")
        await connection.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    finally:
        await connection.close()


def _empty_sqlite() -> None:
    database = RUN_DIR / "linju.db"
    for suffix in ("-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(SQLITE_TEMPLATE, database)


@pytest.fixture
async def db(test_database: str) -> str:
    """An empty, migrated database for this test.

    No connection pool is opened here: without one every query opens its own connection, and
    the `client` opens the app's pool through its lifespan (on PostgreSQL).
    """
    if ENGINE == "postgres":
        await _empty_postgres()
    else:
        _empty_sqlite()
    return test_database


@pytest.fixture
async def client(db: str) -> AsyncIterator[AppClient]:
    """The real app on an empty database, its lifespan running, driven over HTTP in process.

    Data a test writes through the services, before or between requests, is what the app sees
    (tests/client_support.py). Variants build on this fixture or on `app_client()`.
    """
    from tests.client_support import app_client

    async with app_client() as test_client:
        yield test_client


@pytest.fixture
async def demo(db: str) -> None:
    """The demo loaded into the empty database (before the `client` starts, when both are used)."""
    from linju.projects.demo import load_demo

    assert await load_demo()


@pytest.fixture
def engine_name() -> str:
    return ENGINE


# A test's kind, from the fixtures it uses (directly, through other fixtures or `usefixtures`).
DATABASE_FIXTURES = frozenset({"db", "test_database"})
HTTP_FIXTURES = frozenset({"client"})
BROWSER_FIXTURES = frozenset({"browser", "live_server", "chromium_path"})


def _mark_kind(item: pytest.Item) -> None:
    used = set(getattr(item, "fixturenames", ()))
    if used & BROWSER_FIXTURES:
        item.add_marker(pytest.mark.browser)
    if used & HTTP_FIXTURES:
        item.add_marker(pytest.mark.http)
    if used & DATABASE_FIXTURES:
        item.add_marker(pytest.mark.database)
    kinds = ("database", "http", "browser")
    if not any(item.get_closest_marker(kind) for kind in kinds):
        item.add_marker(pytest.mark.pure)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        _mark_kind(item)
    if ENGINE == "postgres":
        return
    skip = pytest.mark.skip(reason="proves a PostgreSQL-only guarantee; runs in the postgres pass")
    for item in items:
        if item.get_closest_marker("postgres_only"):
            item.add_marker(skip)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Remove this process's folder (the SQLite files, LINJU_VAR_DIR), database or not."""
    shutil.rmtree(RUN_DIR, ignore_errors=True)


def pytest_report_header(config: pytest.Config) -> str:
    return f"linju test database: {ENGINE} ({DATABASE_URL})"
