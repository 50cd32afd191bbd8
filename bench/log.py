"""The transparency log's figures (issue 16, docs/adr/0026-transparency-log.md).

    .venv/bin/python bench/log.py --engine postgres     (or --engine sqlite; --entries N)

It creates a throw-away database, migrates it, bulk-loads chained ledger entries (set-up, not
measured; `bench/ledger.py`'s loader) and prints:

1. integration: entries per second into the tree, tiles, entry bundles and cursors, with a
   signed checkpoint per batch and the consistency check before each (target >= 20,000/s);
2. the log's storage per entry (tiles, bundles and leaf rows grow linearly);
3. proof serving: requests per second for `/api/v1/projects/{slug}/ledger/{seq}/proof` under
   32 connections against the bare page yardstick of `bench/ledger.py` (target >= 0.5x).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Run as a script (`python bench/x.py`): the repository root makes `bench` importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench import ledger as bench_ledger
from bench.benchkit import clean_up, free_port, start_server

ROOT = Path(__file__).resolve().parents[1]

LINJU = str(Path(sys.executable).parent / "linju")
SLUGS = ("bench-log-a", "bench-log-b")


def _cpu_seconds(pid: int) -> float | None:
    """User and system CPU time of a local process (the database server's backend), if this
    machine shows it."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def integration_rate(batch: int) -> tuple[int, float, int, float, float | None]:
    """Entries integrated, wall seconds, checkpoints, and the CPU seconds of this process and
    (PostgreSQL on this machine) of its one database backend: the work itself, whatever else
    the machine is running."""
    from piccolo.engine.postgres import PostgresEngine
    from piccolo.querystring import QueryString

    from linju.platform.db import get_engine
    from linju.projects.ledger.log.services import integrate
    from linju.projects.ledger.log.tables import LogCheckpoint

    engine = get_engine()
    pid = None
    if isinstance(engine, PostgresEngine):
        await engine.start_connection_pool(min_size=1, max_size=1)  # one backend to account
        rows = await engine.run_querystring(QueryString("SELECT pg_backend_pid() AS pid"))
        pid = int(rows[0]["pid"])
    database_before = _cpu_seconds(pid) if pid else None
    python_before = time.process_time()
    started = time.perf_counter()
    done = await integrate(batch=batch)
    elapsed = time.perf_counter() - started
    python_cpu = time.process_time() - python_before
    database_after = _cpu_seconds(pid) if pid else None
    database_cpu = (
        database_after - database_before
        if database_before is not None and database_after is not None
        else None
    )
    checkpoints = int(await LogCheckpoint.count())
    if isinstance(engine, PostgresEngine):
        await engine.close_connection_pool()
    return done.added, elapsed, checkpoints, python_cpu, database_cpu


async def storage() -> tuple[int, int]:
    from piccolo.querystring import QueryString

    from linju.platform.db import get_engine

    rows = await get_engine().run_querystring(
        QueryString("SELECT COALESCE(SUM(LENGTH(data)), 0) AS bytes FROM log_tile")
    )
    leaves = await get_engine().run_querystring(QueryString("SELECT COUNT(*) AS n FROM log_leaf"))
    return int(rows[0]["bytes"]), int(leaves[0]["n"])


def run(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="linju-bench-log-"))
    database_url, pg_name = asyncio.run(
        bench_ledger._setup_database(args.engine, args.admin_url, workdir)
    )
    bench_ledger._configure(database_url, str(workdir / "var"))
    os.environ["LINJU_BASE_URL"] = "http://127.0.0.1:8000"
    os.environ["LINJU_LOG_ORIGIN"] = "bench.linju.example/log"
    from linju.platform.app import wire
    from linju.platform.db import use_linju_piccolo_conf

    use_linju_piccolo_conf()
    wire()
    servers: list[subprocess.Popen[bytes]] = []
    try:
        asyncio.run(bench_ledger._migrate())
        print(f"engine: {args.engine}   cores: {os.cpu_count()}   python: {sys.version.split()[0]}")
        half = args.entries // 2
        for slug, count in zip(SLUGS, (half, args.entries - half), strict=True):
            path = workdir / f"{slug}.jsonl"
            bench_ledger.write_ledger_file(path, slug, count)
            asyncio.run(bench_ledger.bulk_load(path, slug, count, database_url))
        small = workdir / "small.jsonl"
        bench_ledger.write_ledger_file(small, bench_ledger.SMALL, 1_000)
        asyncio.run(bench_ledger.bulk_load(small, bench_ledger.SMALL, 1_000, database_url))
        total = args.entries + 1_000

        added, elapsed, checkpoints, python_cpu, database_cpu = asyncio.run(
            integration_rate(args.batch)
        )
        assert added == total, (added, total)
        print(
            f"integration, {total:,} entries in batches of {args.batch:,}: "
            f"{added / elapsed:10,.0f} entries/s   ({checkpoints} checkpoints signed; "
            f"target >= 20,000; load average {os.getloadavg()[0]:.1f})"
        )
        if database_cpu is not None:
            # The integrator and its backend take turns: on a machine with nothing else to
            # run, the wall time is their CPU time added up (and the waits on the disk).
            cpu = python_cpu + database_cpu
            print(
                f"  CPU: integrator {python_cpu:.1f} s + database backend {database_cpu:.1f} s"
                f" = {cpu:.1f} s: {added / cpu:10,.0f} entries per CPU second"
            )
        tile_bytes, leaves = asyncio.run(storage())
        print(
            f"storage: {tile_bytes:,} bytes of tiles and bundles, {leaves:,} leaf rows: "
            f"{tile_bytes / leaves:.1f} bytes per entry"
        )

        port = free_port()
        servers.append(
            start_server([LINJU, "serve", "--port", str(port)], port, workdir / "var" / "serve.log")
        )
        url = f"http://127.0.0.1:{port}/api/v1/projects/{SLUGS[0]}/ledger/{half // 2 + 1}/proof"
        served = asyncio.run(bench_ledger.requests_per_second(url, 32, args.seconds))
        servers.pop().terminate()
        bare_port = free_port()
        bare_command = [
            sys.executable,
            str(ROOT / "bench" / "ledger.py"),
            "--serve-bare",
            bench_ledger.SMALL,
            "--port",
            str(bare_port),
        ]
        servers.append(start_server(bare_command, bare_port, workdir / "var" / "bare.log"))
        bare = asyncio.run(
            bench_ledger.requests_per_second(
                f"http://127.0.0.1:{bare_port}/p/{bench_ledger.SMALL}", 32, args.seconds
            )
        )
        print(f"proof, 32 connections, linju serve:       {served:8,.0f} req/s")
        print(f"bare page yardstick (bench/ledger.py):    {bare:8,.0f} req/s")
        print(f"  ratio:                       {served / bare:10.2f}   (target >= 0.5)")
    finally:
        clean_up(servers, args.admin_url, pg_name, workdir)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--engine", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument(
        "--admin-url",
        default=os.environ.get(
            "LINJU_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
    )
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    run(parser.parse_args())


if __name__ == "__main__":
    main()
