"""The ledger's figures on one engine, in one run (issue 4, docs/performance.md).

    .venv/bin/python bench/ledger.py --engine postgres     (or --engine sqlite)

It creates a throw-away database (a PostgreSQL database or a SQLite file), migrates it, and
prints:

1. appends per second through `ledger.append` against plain single-row INSERT+COMMIT per
   second on the same engine and connection pool (target on PostgreSQL: ratio >= 0.5);
2. `verify --file` over 1,000,000 chained entries, in entries per second (target >= 200,000);
3. the project page's median latency with 1,000 and with 1,000,000 entries in its ledger,
   served by a real `linju serve` (target: 1M within 1.2x of 1K);
4. the project page's requests per second under 32 concurrent connections, `linju serve`
   against a bare Litestar route that renders the same template from memory (target >= 0.5x).

Bulk-loading the million entries (computed with `ledger_format`, so they chain and verify)
is set-up and is not measured. Timing lives here, never in tests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from litestar.response import Template

# Run as a script (`python bench/x.py`): the repository root makes `bench` importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.benchkit import admin, clean_up, free_port, start_server

ROOT = Path(__file__).resolve().parents[1]
LINJU = str(Path(sys.executable).parent / "linju")
BIG = "bench-1m"
SMALL = "bench-1k"


def _configure(database_url: str, var_dir: str) -> None:
    os.environ.update(
        {
            "DATABASE_URL": database_url,
            "LINJU_VAR_DIR": var_dir,
            "LINJU_SECRET_KEY": "bench-secret-key-" + "b" * 32,
            "LINJU_SANDBOX_WEBHOOK_SECRET": "bench-sandbox-webhook-secret-" + "s" * 16,
            "LINJU_BASE_URL": "http://bench.local",
            "PICCOLO_CONF": "linju.platform.piccolo_conf",
        }
    )


async def _new_project(slug: str) -> None:
    from linju.projects.core.rules import BudgetLinePlan, CommitteeRole, CommitteeSeat
    from linju.projects.core.services.communities import create_community
    from linju.projects.core.services.projects import ProjectDraft, create_project, publish
    from linju.projects.core.tables import Community

    if not await Community.exists().where(Community.slug == "bench"):
        await create_community("bench", "基准社区", "基准区", "")
    await create_project(
        ProjectDraft(
            community_slug="bench",
            slug=slug,
            title=f"基准项目 {slug}",
            summary="用于性能测量的项目。",
            story="一个有很多账目的项目。",
            goal_fen=10**12,
            budget=[BudgetLinePlan("全部", 10**12)],
            committee=[
                CommitteeSeat("甲", CommitteeRole.CHAIR, "管理"),
                CommitteeSeat("乙", CommitteeRole.MEMBER, "法律"),
                CommitteeSeat("丙", CommitteeRole.MEMBER, "维修"),
            ],
        )
    )
    await publish(slug)


# 1. Appends against plain inserts -------------------------------------------------------------


async def appends_per_second(count: int) -> float:
    from linju.projects.ledger.format import EntryKind
    from linju.projects.ledger.services import LedgerEvent, Posting, append

    await _new_project("bench-append")
    fund = "fund:bench-append"

    def event(number: int) -> LedgerEvent:
        return LedgerEvent(
            kind=EntryKind.DONATION,
            memo="匿名",
            ref=f"don_b{number}",
            postings=(Posting(fund, 100), Posting("donors:online", -100)),
            idempotency_key=f"donation:bench:{number}",
        )

    for number in range(50):  # warm up connections and caches
        await append("bench-append", event(-1 - number))
    started = time.perf_counter()
    for number in range(count):
        await append("bench-append", event(number))
    return count / (time.perf_counter() - started)


async def plain_inserts_per_second(count: int) -> float:
    """One row per transaction, BEGIN/INSERT/COMMIT through the same engine and pool."""
    from piccolo.querystring import QueryString

    from linju.platform.db import get_engine, is_postgres, write_transaction

    engine = get_engine()
    key = "SERIAL PRIMARY KEY" if is_postgres() else "INTEGER PRIMARY KEY AUTOINCREMENT"
    await engine.run_ddl(
        f"CREATE TABLE bench_plain (id {key}, seq BIGINT, memo TEXT, hash VARCHAR(64))"
    )

    async def insert(number: int) -> None:
        async with write_transaction():
            await engine.run_querystring(
                QueryString(
                    "INSERT INTO bench_plain (seq, memo, hash) VALUES ({}, {}, {})",
                    number,
                    "匿名",
                    "0" * 64,
                )
            )

    for number in range(50):
        await insert(-1 - number)
    started = time.perf_counter()
    for number in range(count):
        await insert(number)
    return count / (time.perf_counter() - started)


async def measure_writes(count: int) -> tuple[float, float]:
    from linju.platform.db import pool_lifespan

    async with pool_lifespan():
        appends = await appends_per_second(count)
        plain = await plain_inserts_per_second(count)
    return appends, plain


# 2. A million chained entries: a file to verify and rows to serve ------------------------------


def chained_entries(slug: str, count: int) -> Iterator[dict[str, Any]]:
    from linju.projects.ledger.format import GENESIS_HASH, format_at, public_entry

    prev = GENESIS_HASH
    start = datetime(2026, 1, 1, tzinfo=UTC)
    fund = f"fund:{slug}"
    for seq in range(1, count + 1):
        entry = public_entry(
            project=slug,
            seq=seq,
            at=format_at(start + timedelta(seconds=seq)),
            kind="donation",
            memo="匿名" if seq % 3 else "王阿姨",
            ref=f"don_{seq:07d}",
            postings=[
                {"account": fund, "amount": 100, "currency": "CNY"},
                {"account": "donors:online", "amount": -100, "currency": "CNY"},
            ],
            prev=prev,
        )
        prev = entry["hash"]
        yield entry


def write_ledger_file(path: Path, slug: str, count: int) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for entry in chained_entries(slug, count):
            handle.write(json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n")


def verify_rate(path: Path, count: int) -> float:
    from linju.projects.ledger.verify import verify_file

    started = time.perf_counter()
    result = verify_file(path)
    elapsed = time.perf_counter() - started
    if not result.ok or result.state.seq != count:
        raise SystemExit(f"bench: the generated ledger did not verify: {result.fault}")
    return count / elapsed


def _rows(path: Path, project_id: int) -> Iterator[tuple[dict[str, Any], tuple[Any, ...]]]:
    with path.open("rb") as handle:
        for raw in handle:
            entry = json.loads(raw)
            yield (
                entry,
                (
                    project_id,
                    entry["seq"],
                    entry["at"],
                    entry["kind"],
                    entry["memo"],
                    entry["ref"],
                    entry["prev"],
                    entry["hash"],
                    f"bulk:{entry['project']}:{entry['seq']}",
                    entry["hash"],
                ),
            )


ENTRY_COLUMNS = (
    "project",
    "seq",
    "at",
    "kind",
    "memo",
    "public_ref",
    "prev",
    "hash",
    "idempotency_key",
    "content_digest",
)
POSTING_COLUMNS = ("entry", "position", "account", "amount", "currency")


async def bulk_load(path: Path, slug: str, count: int, database_url: str) -> None:
    """Set-up, not measured: entries and postings straight into the tables, head moved last."""
    from linju.projects.core.tables import Project

    await _new_project(slug)
    row = await Project.select(Project.id).where(Project.slug == slug).first()
    assert row is not None
    project_id = row["id"]
    entries: list[tuple[Any, ...]] = []
    postings: list[tuple[Any, ...]] = []
    if database_url.startswith("postgresql"):
        import asyncpg

        connection = await asyncpg.connect(database_url)
        try:
            first_id = await connection.fetchval(
                "SELECT COALESCE(MAX(id), 0) + 1 FROM ledger_entry"
            )
            async with connection.transaction():
                for index, (entry, values) in enumerate(_rows(path, project_id)):
                    entry_id = first_id + index
                    entries.append((entry_id, *values))
                    for position, posting in enumerate(entry["postings"]):
                        postings.append(
                            (
                                entry_id,
                                position,
                                posting["account"],
                                posting["amount"],
                                posting["currency"],
                            )
                        )
                    if len(entries) >= 50_000:
                        await _copy(connection, entries, postings)
                if entries:
                    await _copy(connection, entries, postings)
                await connection.execute(
                    "SELECT setval(pg_get_serial_sequence('ledger_entry', 'id'), "
                    "(SELECT MAX(id) FROM ledger_entry))"
                )
            await connection.execute("ANALYZE ledger_entry")
            await connection.execute("ANALYZE ledger_posting")
        finally:
            await connection.close()
    else:
        from linju.platform.db import sqlite_path

        connection_sqlite = sqlite3.connect(sqlite_path(database_url))
        try:
            with connection_sqlite:
                for entry, values in _rows(path, project_id):
                    cursor = connection_sqlite.execute(
                        f"INSERT INTO ledger_entry ({', '.join(ENTRY_COLUMNS)}) "
                        f"VALUES ({', '.join('?' * len(ENTRY_COLUMNS))})",
                        values,
                    )
                    entry_id = cursor.lastrowid
                    postings.extend(
                        (entry_id, position, p["account"], p["amount"], p["currency"])
                        for position, p in enumerate(entry["postings"])
                    )
                    if len(postings) >= 100_000:
                        _sqlite_postings(connection_sqlite, postings)
                _sqlite_postings(connection_sqlite, postings)
            connection_sqlite.execute("ANALYZE")
        finally:
            connection_sqlite.close()
    await _move_head(slug, project_id, count)


async def _copy(connection: Any, entries: list[tuple[Any, ...]], postings: list[Any]) -> None:
    await connection.copy_records_to_table(
        "ledger_entry", records=entries, columns=("id", *ENTRY_COLUMNS)
    )
    await connection.copy_records_to_table(
        "ledger_posting", records=postings, columns=POSTING_COLUMNS
    )
    entries.clear()
    postings.clear()


def _sqlite_postings(connection: sqlite3.Connection, postings: list[tuple[Any, ...]]) -> None:
    connection.executemany(
        f"INSERT INTO ledger_posting ({', '.join(POSTING_COLUMNS)}) VALUES (?, ?, ?, ?, ?)",
        postings,
    )
    postings.clear()


async def _move_head(slug: str, project_id: int, count: int) -> None:
    """The head the append service would have left: the last entry and the folded figures."""
    from linju.projects.ledger import read as ledger_read
    from linju.projects.ledger.tables import LedgerHead

    ledger = await ledger_read.find_ledger(slug)
    last = await ledger_read.entries_after(ledger, count - 1, 1)
    await LedgerHead.update(
        {
            LedgerHead.seq: count,
            LedgerHead.hash: last[0]["hash"],
            LedgerHead.balance_fen: 100 * count,
            LedgerHead.raised_fen: 100 * count,
            LedgerHead.donations_count: count,
        }
    ).where(LedgerHead.project == project_id)


# 3 and 4. The project page over HTTP ---------------------------------------------------------


def median_latency_ms(url: str, requests: int) -> float:
    import httpx

    timings = []
    with httpx.Client() as client:
        for _ in range(20):
            client.get(url).raise_for_status()
        for _ in range(requests):
            started = time.perf_counter()
            client.get(url).raise_for_status()
            timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1000


async def requests_per_second(url: str, connections: int, seconds: float) -> float:
    import httpx

    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        for _ in range(connections):
            (await client.get(url)).raise_for_status()
        done = 0
        stop = time.perf_counter() + seconds

        async def load() -> None:
            nonlocal done
            while time.perf_counter() < stop:
                response = await client.get(url)
                response.raise_for_status()
                done += 1

        started = time.perf_counter()
        await asyncio.gather(*(load() for _ in range(connections)))
        return done / (time.perf_counter() - started)


def serve_bare(slug: str, port: int) -> None:
    """The comparison: a tiny Litestar app that renders the project page's template from a
    context built once at start-up (no database per request), with the same templates,
    filters and locale handling, served by the same uvicorn."""
    import uvicorn
    from litestar import Litestar, get

    from linju.platform.app import wire
    from linju.platform.middleware import locale_middleware
    from linju.platform.settings import get_settings
    from linju.platform.templating import template_config
    from linju.projects.core import read as queries

    wire()  # registers every area's page sections

    async def context() -> dict[str, Any]:
        return await queries.project_page_context(slug)

    page_context = asyncio.run(context())

    @get(f"/p/{slug}", sync_to_thread=False)
    def page() -> Template:
        return Template("pages/project.html", context=page_context)

    @get("/healthz", sync_to_thread=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app = Litestar(route_handlers=[page, healthz], template_config=template_config())
    app.asgi_handler = locale_middleware(get_settings().default_locale)(app.asgi_handler)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


# The run ----------------------------------------------------------------------------------


async def _setup_database(engine: str, admin_url: str, workdir: Path) -> tuple[str, str | None]:
    if engine == "postgres":
        name = f"linju_bench_{uuid.uuid4().hex[:10]}"
        await admin(admin_url, f'CREATE DATABASE "{name}"')
        base, _, _ = admin_url.rpartition("/")
        return f"{base}/{name}", name
    return f"sqlite:///{workdir / 'bench.db'}", None


async def _migrate() -> None:
    from linju.platform.migrate import apply_migrations

    await apply_migrations()


async def _load_ledgers(ledger_file: Path, small_file: Path, database_url: str, big: int) -> None:
    await bulk_load(small_file, SMALL, 1_000, database_url)
    await bulk_load(ledger_file, BIG, big, database_url)


def run(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="linju-bench-"))
    database_url, pg_name = asyncio.run(_setup_database(args.engine, args.admin_url, workdir))
    _configure(database_url, str(workdir / "var"))
    from linju.platform.db import use_linju_piccolo_conf

    use_linju_piccolo_conf()
    servers: list[subprocess.Popen[bytes]] = []
    try:
        asyncio.run(_migrate())
        print(f"engine: {args.engine}   cores: {os.cpu_count()}   python: {sys.version.split()[0]}")

        appends, plain = asyncio.run(measure_writes(args.appends))
        print(f"appends through ledger.append: {appends:10,.0f} /s   ({args.appends} sequential)")
        print(f"plain INSERT+COMMIT:           {plain:10,.0f} /s")
        print(f"  ratio append / plain:        {appends / plain:10.2f}   (target >= 0.5)")

        big_file, small_file = workdir / "big.jsonl", workdir / "small.jsonl"
        write_ledger_file(big_file, BIG, args.entries)
        write_ledger_file(small_file, SMALL, 1_000)
        rate = verify_rate(big_file, args.entries)
        print(
            f"verify --file, {args.entries:,} entries: {rate:10,.0f} entries/s"
            "   (target >= 200,000)"
        )

        asyncio.run(_load_ledgers(big_file, small_file, database_url, args.entries))
        port = free_port()
        servers.append(start_server([LINJU, "serve", "--port", str(port)], port, _log(port)))
        small_ms = median_latency_ms(f"http://127.0.0.1:{port}/p/{SMALL}", args.requests)
        big_ms = median_latency_ms(f"http://127.0.0.1:{port}/p/{BIG}", args.requests)
        print(f"project page median, 1,000 entries:     {small_ms:7.2f} ms")
        print(f"project page median, {args.entries:,} entries: {big_ms:7.2f} ms")
        print(f"  ratio:                       {big_ms / small_ms:10.2f}   (target <= 1.2)")

        served = asyncio.run(
            requests_per_second(f"http://127.0.0.1:{port}/p/{SMALL}", 32, args.seconds)
        )
        servers.pop().terminate()
        bare_port = free_port()
        bare_command = [sys.executable, __file__, "--serve-bare", SMALL, "--port", str(bare_port)]
        servers.append(start_server(bare_command, bare_port, _log(bare_port)))
        bare = asyncio.run(
            requests_per_second(f"http://127.0.0.1:{bare_port}/p/{SMALL}", 32, args.seconds)
        )
        print(f"project page, 32 connections, linju serve: {served:8,.0f} req/s")
        print(f"same template from memory, bare Litestar:  {bare:8,.0f} req/s")
        print(f"  ratio:                       {served / bare:10.2f}   (target >= 0.5)")
    finally:
        clean_up(servers, args.admin_url, pg_name, workdir)


def _log(port: int) -> Path:
    """Where a server started by the bench writes its stderr."""
    return Path(os.environ["LINJU_VAR_DIR"]) / f"server-{port}.log"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--engine", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument(
        "--admin-url",
        default=os.environ.get(
            "LINJU_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
        help="a PostgreSQL database to connect to while creating and dropping the bench's own",
    )
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--appends", type=int, default=2_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--serve-bare", metavar="SLUG", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(args.serve_bare, args.port)
        return
    run(args)


if __name__ == "__main__":
    main()
