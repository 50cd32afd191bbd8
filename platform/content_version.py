"""One number that moves whenever anything a public page shows changes (ADR 0036).

The page cache (`platform.pagecache`) keys every cached page on it. It is kept by the database,
not by the services: every table of the schema carries a trigger that adds one to the single
row of `content_version` in the same transaction as the change, so a writer added later (a new
service, a new area's table, a hand-run statement) cannot forget to move it, and a reader that
sees a change also sees the number it moved to.

- PostgreSQL: a constraint trigger per table, `DEFERRABLE INITIALLY DEFERRED`, fires at commit;
  the first firing of a transaction updates the row and marks the transaction (a transaction-
  local setting), the others return at once. The row's lock is so held only while the
  transaction commits, and a transaction moves the number once, however many rows it wrote.
- SQLite: an AFTER INSERT / UPDATE / DELETE trigger per table updates the row (writers are
  serialised there anyway).

Tables no public page reads, and that change on their own account (sessions, throttles, the job
queue, the transparency log's tiles...), are listed in `UNTRACKED` with the reason; every other
table, present or future, is tracked. `install` runs after every migration
(`platform.migrate.apply_migrations`), so a table a new migration creates gets its trigger then;
`missing` says what is not yet installed (`linju migrate` treats it as pending).

While the app runs, the page cache reads the number through a `Reader`: on a connection of its
own (no pool to take it from and give it back to, which costs PostgreSQL a second round trip to
reset the connection), and once for all the requests that asked while no read was under way.
A request is never answered by a read that was sent before it asked, so it never sees a number
older than a change committed before it arrived.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine
from piccolo.querystring import QueryString

from linju.platform.db import get_engine

TABLE = "content_version"
TRIGGER = "content_changed"
FUNCTION = "linju_content_changed"
_FLAG = "linju.content_changed"

# Tables whose rows no cached page shows, each for a reason; a change there does not move the
# number (so a logged-in visitor, a job or the log's integrator does not empty the cache).
UNTRACKED: dict[str, str] = {
    TABLE: "the number itself",
    "migration": "Piccolo's record of applied migrations",
    "account_session": "a logged-in staff member's session (pages with a session are not cached)",
    "login_attempt": "login throttling",
    "password_reset_request": "password resets (private)",
    "password_token": "password tokens (private)",
    "sent_mail": "the outgoing mail log (private)",
    "audit_record": "the staff audit trail (shown to admins only)",
    "linju_job": "the job queue",
    "linju_job_schedule": "the job schedule",
    "payment_processed_event": "providers' event ids, for exactly-once (private)",
    "payment_reconcile_watermark": "the reconciler's position (private)",
    "payment_sandbox_session": "the sandbox's checkout sessions (the checkout page, not cached)",
    "payment_sandbox_refund": "the sandbox's refunds (the donation and ledger rows are tracked)",
    "official_receipt": "official receipt requests (private, ADR 0030)",
    "household_session": "a household's session (pages with one are not cached)",
    "household_code_attempt": "household code throttling",
    "log_leaf": "the transparency log's leaves (no cached page shows the log)",
    "log_tile": "the transparency log's tiles",
    "log_cursor": "the transparency log's integration cursors",
    "log_refusal": "the transparency log's refusals",
    "log_cosignature": "witnesses' cosignatures (the log's own pages)",
    "log_witness": "the log's witnesses (the log's own pages)",
    "log_checkpoint": "the log's checkpoints (the log's own pages, not cached)",
}
# pgqueuer's tables (PostgreSQL's job queue; not ours to change).
UNTRACKED_PREFIXES = ("pgqueuer",)


def tracked(table: str) -> bool:
    """Whether a change to `table` moves the number."""
    return table not in UNTRACKED and not table.startswith(UNTRACKED_PREFIXES)


def _postgres_function() -> str:
    return f"""
    CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF current_setting('{_FLAG}', true) IS DISTINCT FROM 'yes' THEN
            UPDATE {TABLE} SET version = version + 1 WHERE id = 1;
            PERFORM set_config('{_FLAG}', 'yes', true);
        END IF;
        RETURN NULL;
    END;
    $$
    """


def _postgres_trigger(table: str) -> str:
    return (
        f'CREATE CONSTRAINT TRIGGER {TRIGGER} AFTER INSERT OR UPDATE OR DELETE ON "{table}" '
        f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()"
    )


def _sqlite_triggers(table: str) -> list[str]:
    return [
        f'CREATE TRIGGER IF NOT EXISTS "{TRIGGER}_{table}_{operation.lower()}" '
        f'AFTER {operation} ON "{table}" '
        f"BEGIN UPDATE {TABLE} SET version = version + 1 WHERE id = 1; END"
        for operation in ("INSERT", "UPDATE", "DELETE")
    ]


async def _rows(engine: Engine[Any], sql: str) -> list[dict[str, Any]]:
    return list(await engine.run_querystring(QueryString(sql)))


async def _tables(engine: Engine[Any]) -> list[str]:
    if isinstance(engine, PostgresEngine):
        rows = await _rows(
            engine, "SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema()"
        )
    else:
        rows = await _rows(
            engine,
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        )
    return sorted(str(row["name"]) for row in rows)


async def triggered_tables(engine: Engine[Any] | None = None) -> set[str]:
    """The tables that carry the trigger now."""
    engine = engine or get_engine()
    if isinstance(engine, PostgresEngine):
        rows = await _rows(
            engine,
            "SELECT c.relname AS name FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            f"JOIN pg_namespace n ON n.oid = c.relnamespace WHERE t.tgname = '{TRIGGER}' "
            "AND n.nspname = current_schema()",
        )
        return {str(row["name"]) for row in rows}
    rows = await _rows(
        engine, "SELECT tbl_name AS name, name AS trigger FROM sqlite_master WHERE type = 'trigger'"
    )
    names: dict[str, int] = {}
    for row in rows:
        if str(row["trigger"]).startswith(f"{TRIGGER}_{row['name']}_"):
            names[str(row["name"])] = names.get(str(row["name"]), 0) + 1
    return {name for name, count in names.items() if count == 3}


async def missing(engine: Engine[Any] | None = None) -> list[str]:
    """What `install` would add: the number's table, and every tracked table without the
    trigger. Reads only, so any role may ask."""
    engine = engine or get_engine()
    tables = await _tables(engine)
    if TABLE not in tables:
        return [TABLE, *[t for t in tables if tracked(t)]]
    have = await triggered_tables(engine)
    return [t for t in tables if tracked(t) and t not in have]


async def install(engine: Engine[Any] | None = None) -> list[str]:
    """Create the number's row and put the trigger on every tracked table that lacks it (as the
    tables' owner, after the migrations); return the tables it was put on."""
    engine = engine or get_engine()
    async with engine.transaction():  # one connection, and all of it or nothing
        return await _install(engine)


async def _install(engine: Engine[Any]) -> list[str]:
    statements = [
        f"CREATE TABLE IF NOT EXISTS {TABLE} (id INTEGER PRIMARY KEY, version BIGINT NOT NULL)",
        f"INSERT INTO {TABLE} (id, version) SELECT 1, 0 WHERE NOT EXISTS "
        f"(SELECT 1 FROM {TABLE} WHERE id = 1)",
    ]
    postgres = isinstance(engine, PostgresEngine)
    if postgres:
        statements.append(_postgres_function())
    for statement in statements:
        await engine.run_querystring(QueryString(statement))
    added = [t for t in await missing(engine) if t != TABLE]
    for table in added:
        for statement in [_postgres_trigger(table)] if postgres else _sqlite_triggers(table):
            await engine.run_querystring(QueryString(statement))
    return added


async def current() -> int | None:
    """The number now; None without its row (nothing is then cached, `platform.pagecache`)."""
    rows = await get_engine().run_querystring(
        QueryString(f"SELECT version FROM {TABLE} WHERE id = 1")
    )
    return int(rows[0]["version"]) if rows else None


_VERSION_SQL = f"SELECT version FROM {TABLE} WHERE id = 1"


class Reader:
    """The number, read for the page cache (`platform.pagecache`) while the app runs.

    Requests that ask at the same time share one read: the first to ask schedules it, the others
    join it until it is sent; whoever asks after that waits for the next read. Reads are sent one
    at a time on one connection of the reader's own, opened on first use and again after an
    error. Outside `running()` (no app started) each call reads through the engine (`current`).
    """

    def __init__(self) -> None:
        self.reads = 0  # reads sent (tests)
        self._running = False
        self._connection: Any = None
        self._lock: asyncio.Lock | None = None
        self._next: asyncio.Future[int | None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @contextlib.asynccontextmanager
    async def running(self) -> Any:
        """Read on the reader's own connection until the block ends; then close it."""
        self._running, self._lock = True, asyncio.Lock()
        try:
            yield self
        finally:
            self._running = False
            async with self._lock:
                await self._drop()

    async def __call__(self) -> int | None:
        if not self._running:
            return await current()
        pending = self._next
        if pending is None:
            pending = self._next = asyncio.get_running_loop().create_future()
            # Retrieved even when every asker has gone (a client hung up): no warning then.
            pending.add_done_callback(lambda done: done.cancelled() or done.exception())
            task = asyncio.create_task(self._read(pending))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await asyncio.shield(pending)

    async def _read(self, answer: asyncio.Future[int | None]) -> None:
        assert self._lock is not None
        async with self._lock:
            self._next = None  # who asks from now on was not yet asking when this read is sent
            try:
                value = await self._fetch()
            except Exception as error:  # the askers cache nothing; the next read reconnects
                await self._drop()
                answer.set_exception(error)
            except BaseException:  # cancelled (the loop is closing): so are the askers
                answer.cancel()
                raise
            else:
                answer.set_result(value)

    async def _fetch(self) -> int | None:
        engine = get_engine()
        self.reads += 1
        if isinstance(engine, PostgresEngine):
            if self._connection is None:
                self._connection = await engine.get_new_connection()
            value = await self._connection.fetchval(_VERSION_SQL)
            return None if value is None else int(value)
        if self._connection is None:
            assert isinstance(engine, SQLiteEngine)
            self._connection = await engine.get_connection()
        async with self._connection.execute(_VERSION_SQL) as cursor:
            row = await cursor.fetchone()
        return None if row is None else int(row["version"])

    async def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        with contextlib.suppress(Exception):  # already broken: nothing more to close
            await connection.close()
