"""The framework's own speed as the yardstick for public pages (issue 18, docs/performance.md).

    .venv/bin/python bench/pages.py --engine postgres     (or --engine sqlite)

It creates a throw-away database (a PostgreSQL database or a SQLite file), migrates it, loads
the demo, starts a real `linju serve` (uvicorn, one worker, as in production) and fetches the
demo's busiest project page once. Then a bare Litestar app with no middleware at all, served by
uvicorn the same way, renders those same bytes from memory through one Jinja template. In one
run, in rounds that alternate the order (A B A B), it measures under 32 keep-alive connections:

1. the anonymous project page against the bare page (targets: >= 0.5 on PostgreSQL, >= 0.4 on
   SQLite);
2. repeat visits against the bare page (>= 0.8): each connection sends back the last ETag it
   was given in If-None-Match, as a browser's cache does (the ETag moves with the content and,
   on cached pages, with time: docs/adr/0036);
3. the stylesheet the page links (its hashed name) against the bare page (>= 0.8);
4. the project page's 99th percentile latency against its median (<= 3);
5. the page again while sandbox donations are confirmed through the webhook one after another,
   each followed at once by a request for the page that must show it (no stale page).

The load comes from separate processes (`--load-processes`, a small asyncio HTTP/1.1 client on
raw sockets, far cheaper per request than httpx); the bare page is measured by the same
generator, so its cost weighs on both sides of each ratio. Timing lives here, never in tests.
"""

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Run as a script (`python bench/x.py`): the repository root makes `bench` importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.benchkit import admin, clean_up, free_port, start_server

LINJU = str(Path(sys.executable).parent / "linju")
CONNECTIONS = 32


def _configure(database_url: str, var_dir: str) -> None:
    os.environ.update(
        {
            "DATABASE_URL": database_url,
            "LINJU_VAR_DIR": var_dir,
            "LINJU_SECRET_KEY": "bench-secret-key-" + "b" * 32,
            "LINJU_SANDBOX_WEBHOOK_SECRET": "bench-sandbox-webhook-secret-" + "s" * 16,
            "LINJU_BASE_URL": "http://bench.local",
            "LINJU_PAYMENT_GATEWAY": "sandbox",
            "LINJU_RUN_JOBS_IN_SERVE": "false",  # no job runner's work beside the page's
            "PICCOLO_CONF": "linju.platform.piccolo_conf",
        }
    )


# The load generator: one process, many keep-alive connections ----------------------------------


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool, bytes]:
    """Status, body, whether the server keeps the connection, and the ETag (b"" when none);
    HTTP/1.1 as our servers speak it."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = 0
    chunked = False
    keep = True
    etag = b""
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
        elif name == b"connection" and b"close" in value.lower():
            keep = False
        elif name == b"etag":
            etag = value.strip()
    if chunked:
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            body += await reader.readexactly(size + 2)
            if size == 0:
                break
        return status, body, keep, etag
    return status, await reader.readexactly(length) if length else b"", keep, etag


async def _connection(
    host: str,
    port: int,
    request: bytes,
    stop: float,
    latencies: list[float],
    statuses: dict[int, int],
    revalidate: bool,
) -> None:
    """Requests one after another on one keep-alive connection until `stop`. Revalidating, it
    acts as a browser's cache: it sends back the last ETag it was given in If-None-Match."""
    reader, writer = await asyncio.open_connection(host, port)
    etag = b""
    try:
        while time.perf_counter() < stop:
            started = time.perf_counter()
            if revalidate and etag:
                writer.write(request[:-2] + b"If-None-Match: " + etag + b"\r\n\r\n")
            else:
                writer.write(request)
            status, _, keep, given = await _read_response(reader)
            etag = given or etag
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1
            if not keep:
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
    finally:
        writer.close()


async def _load(args: argparse.Namespace) -> dict[str, Any]:
    request = f"GET {args.path} HTTP/1.1\r\nHost: {args.host}:{args.port}\r\n\r\n"
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    start_at = float(args.start_at)
    await asyncio.sleep(max(0.0, start_at - time.time()))  # every process starts together
    stop = time.perf_counter() + args.seconds
    started = time.perf_counter()
    await asyncio.gather(
        *(
            _connection(
                args.host, args.port, request.encode(), stop, latencies, statuses, args.revalidate
            )
            for _ in range(args.connections)
        )
    )
    return {
        "elapsed": time.perf_counter() - started,
        "latencies": latencies,
        "statuses": statuses,
    }


def load_main(args: argparse.Namespace) -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover - the asyncio loop works too, more slowly
        pass
    Path(args.out).write_text(json.dumps(asyncio.run(_load(args))))


@dataclass(frozen=True)
class Rate:
    per_second: float
    median_ms: float
    p99_ms: float
    statuses: dict[int, int]


def measure(port: int, path: str, seconds: float, processes: int, revalidate: bool = False) -> Rate:
    """`CONNECTIONS` connections split over `processes` generator processes, for `seconds`."""
    start_at = time.time() + 1.5  # the processes' start-up is not measured
    commands = []
    outs = [Path(tempfile.mkstemp(prefix="linju-bench-load-")[1]) for _ in range(processes)]
    for index in range(processes):
        share = CONNECTIONS // processes + (1 if index < CONNECTIONS % processes else 0)
        command = [sys.executable, __file__, "--load", path, "--port", str(port)]
        command += ["--connections", str(share), "--seconds", str(seconds)]
        command += ["--start-at", str(start_at), "--out", str(outs[index])]
        if revalidate:
            command.append("--revalidate")
        commands.append(command)
    running = [subprocess.Popen(c) for c in commands]
    results = []
    for process, out in zip(running, outs, strict=True):
        if process.wait(timeout=seconds + 120) != 0:
            raise SystemExit(f"bench: the load generator failed ({process.returncode})")
        results.append(json.loads(out.read_text()))
        out.unlink()
    latencies = sorted(x for r in results for x in r["latencies"])
    statuses: dict[int, int] = {}
    for result in results:
        for status, count in result["statuses"].items():
            statuses[int(status)] = statuses.get(int(status), 0) + count
    elapsed = max(r["elapsed"] for r in results)
    return Rate(
        per_second=len(latencies) / elapsed,
        median_ms=statistics.median(latencies) * 1000,
        p99_ms=latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        statuses=statuses,
    )


# The bare app ------------------------------------------------------------------------------------


def serve_bare(page_file: str, path: str, port: int) -> None:
    """A Litestar app with no middleware: one route rendering the page's bytes (read once from
    `page_file`) through one Jinja template, served by uvicorn as `linju serve` serves ours."""
    import uvicorn
    from jinja2 import DictLoader, Environment
    from litestar import Litestar, get
    from litestar.contrib.jinja import JinjaTemplateEngine
    from litestar.response import Template
    from litestar.template.config import TemplateConfig
    from markupsafe import Markup

    body = Markup(Path(page_file).read_text("utf-8"))  # noqa: S704 - our own page's HTML
    environment = Environment(loader=DictLoader({"page.html": "{{ body }}"}), autoescape=True)

    @get(path, sync_to_thread=False)
    def page() -> Template:
        return Template("page.html", context={"body": body})

    @get("/healthz", sync_to_thread=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app = Litestar(
        route_handlers=[page, healthz],
        template_config=TemplateConfig(instance=JinjaTemplateEngine.from_environment(environment)),
    )
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        workers=1,
        proxy_headers=True,
        access_log=False,
        log_level="info",
    )


# Set-up: database, demo, servers ---------------------------------------------------------------


async def _setup_database(engine: str, admin_url: str, workdir: Path) -> tuple[str, str | None]:
    if engine == "postgres":
        name = f"linju_bench_{uuid.uuid4().hex[:10]}"
        await admin(admin_url, f'CREATE DATABASE "{name}"')
        base, _, _ = admin_url.rpartition("/")
        return f"{base}/{name}", name
    return f"sqlite:///{workdir / 'bench.db'}", None


async def _prepare() -> str:
    """Migrate, load the demo; the slug of the published project with the most ledger entries."""
    from piccolo.querystring import QueryString

    from linju.platform.app import wire
    from linju.platform.db import get_engine
    from linju.platform.migrate import apply_migrations
    from linju.projects.demo import load_demo

    wire()
    await apply_migrations()
    await load_demo()
    rows = await get_engine().run_querystring(
        QueryString(
            "SELECT p.slug AS slug FROM project p JOIN ledger_head h ON h.project = p.id "
            "WHERE p.status <> 'draft' ORDER BY h.seq DESC, p.id LIMIT 1"
        )
    )
    return str(rows[0]["slug"])


# Donations while the page is read ----------------------------------------------------------------


async def donations_while_reading(port: int, slug: str, seconds: float) -> tuple[int, int]:
    """Confirm sandbox donations through the webhook, one after another, for `seconds`; after
    each, fetch the page anonymously and look for the gift on its donor wall. Returns (gifts
    confirmed, gifts the next page showed)."""
    import httpx

    from linju.payments import services, signatures
    from linju.payments.sandbox import (
        SIGNATURE_HEADER,
        SandboxOutcome,
        finish_session,
        session_payload,
    )
    from linju.platform.settings import get_settings
    from linju.projects.donations.rules import DonationInput

    secret = get_settings().sandbox_webhook_secret
    confirmed = shown = 0
    stop = time.perf_counter() + seconds
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
        while time.perf_counter() < stop:
            started = await services.begin_donation(
                slug, DonationInput(100 + confirmed, "CNY", f"基准{confirmed}", False, "", "")
            )
            session = await finish_session(
                started.checkout_url.rsplit("/", 1)[1], SandboxOutcome.SUCCEED
            )
            assert session is not None
            body = json.dumps(session_payload(session)).encode()
            answer = await client.post(
                "/webhooks/sandbox",
                content=body,
                headers={
                    "content-type": "application/json",
                    SIGNATURE_HEADER: signatures.sign(body, secret),
                },
            )
            if answer.status_code != 200:
                raise SystemExit(f"bench: the webhook answered {answer.status_code}")
            confirmed += 1
            client.cookies.clear()  # an anonymous reader's request
            page = await client.get(f"/p/{slug}")
            if f'id="gift-{started.donation.id}"' in page.text:
                shown += 1
    return confirmed, shown


# The run ---------------------------------------------------------------------------------------


def _ratio_line(label: str, value: float, target: str) -> str:
    return f"  {label:<46} {value:6.2f}   (target {target})"


def run(args: argparse.Namespace) -> None:
    import httpx

    workdir = Path(tempfile.mkdtemp(prefix="linju-bench-pages-"))
    database_url, pg_name = asyncio.run(_setup_database(args.engine, args.admin_url, workdir))
    _configure(database_url, str(workdir / "var"))
    from linju.platform.db import use_linju_piccolo_conf

    use_linju_piccolo_conf()
    servers: list[subprocess.Popen[bytes]] = []
    try:
        slug = asyncio.run(_prepare())
        port, bare_port = free_port(), free_port()
        (workdir / "var").mkdir(exist_ok=True)
        servers.append(
            start_server([LINJU, "serve", "--port", str(port)], port, workdir / "var" / "serve.log")
        )
        path = f"/p/{slug}"
        first = httpx.get(f"http://127.0.0.1:{port}{path}")
        first.raise_for_status()
        page_file = workdir / "page.html"
        page_file.write_bytes(first.content)
        bare_command = [sys.executable, __file__, "--serve-bare", str(page_file)]
        bare_command += ["--path", path, "--port", str(bare_port)]
        servers.append(start_server(bare_command, bare_port, workdir / "var" / "bare.log"))
        bare_bytes = httpx.get(f"http://127.0.0.1:{bare_port}{path}").content
        stylesheet = re.search(r'href="(/static/linju\.[0-9a-f]+\.css)"', first.text)
        css_path = stylesheet.group(1) if stylesheet else "/static/linju.css"
        etag = first.headers.get("etag")
        print(
            f"engine: {args.engine}   cores: {os.cpu_count()}   python: "
            f"{sys.version.split()[0]}   load average: {os.getloadavg()[0]:.2f}"
        )
        print(
            f"page: {path}, {len(first.content):,} bytes; the bare app serves the same bytes: "
            f"{'yes' if bare_bytes == first.content else 'NO'}; ETag: {etag or 'none'}; "
            f"stylesheet: {css_path}"
        )
        print(
            f"{CONNECTIONS} connections, {args.seconds:g} s per measurement, "
            f"{args.load_processes} load processes, {args.rounds} rounds A B A B"
        )

        kinds: dict[str, tuple[int, str, bool]] = {
            "bare": (bare_port, path, False),
            "page": (port, path, False),
            "revisit": (port, path, True),
            "static": (port, css_path, False),
        }
        figures: dict[str, list[Rate]] = {kind: [] for kind in kinds}
        for round_ in range(args.rounds):
            order = list(kinds) if round_ % 2 == 0 else list(reversed(kinds))
            for kind in order:
                where, what, revalidate = kinds[kind]
                figures[kind].append(
                    measure(where, what, args.seconds, args.load_processes, revalidate)
                )
            bare_now = figures["bare"][-1].per_second
            print(
                f"  round {round_ + 1} ({' '.join(order)}): "
                + ", ".join(f"{k} {figures[k][-1].per_second:,.0f}/s" for k in kinds)
                + "; against bare: "
                + ", ".join(
                    f"{k} {figures[k][-1].per_second / bare_now:.2f}" for k in kinds if k != "bare"
                )
            )
        rates = {k: statistics.median(r.per_second for r in v) for k, v in figures.items()}
        for kind, label in (
            ("page", "anonymous project page, linju serve"),
            ("revisit", "repeat visit with If-None-Match"),
            ("static", "stylesheet (hashed name)"),
            ("bare", "the same bytes, bare Litestar"),
        ):
            last = figures[kind][-1]
            mix = ", ".join(f"{s}: {n}" for s, n in sorted(last.statuses.items()))
            print(
                f"{label:<40} {rates[kind]:8,.0f} req/s   median {last.median_ms:6.2f} ms"
                f"   p99 {last.p99_ms:6.2f} ms   ({mix})"
            )
        page_target = "0.5" if args.engine == "postgres" else "0.4"
        print("ratios (medians of the rounds):")
        print(
            _ratio_line("anonymous page / bare", rates["page"] / rates["bare"], f">= {page_target}")
        )
        print(
            _ratio_line(
                "repeat visit (If-None-Match) / bare", rates["revisit"] / rates["bare"], ">= 0.8"
            )
        )
        print(_ratio_line("static CSS / bare", rates["static"] / rates["bare"], ">= 0.8"))
        tails = [r.p99_ms / r.median_ms for r in figures["page"]]
        print(_ratio_line("page p99 / median, 32 connections", statistics.median(tails), "<= 3"))
        bare_tails = [r.p99_ms / r.median_ms for r in figures["bare"]]
        print(_ratio_line("(bare page p99 / median)", statistics.median(bare_tails), "none"))

        # While donations arrive: the page's rate, and whether each gift shows at once.
        reader = [sys.executable, __file__, "--load", path, "--port", str(port)]
        reader += ["--connections", str(CONNECTIONS), "--seconds", str(args.seconds)]
        during_out = workdir / "during.json"
        reading = subprocess.Popen([*reader, "--start-at", "0", "--out", str(during_out)])
        confirmed, shown = asyncio.run(donations_while_reading(port, slug, args.seconds))
        reading.wait(timeout=args.seconds + 120)
        during = json.loads(during_out.read_text())
        during_rate = len(during["latencies"]) / during["elapsed"]
        print(
            f"while donations arrive: page {during_rate:,.0f} req/s; {confirmed} donations "
            f"confirmed through the webhook, {shown} shown on the next request: "
            + ("no stale page" if confirmed and shown == confirmed else "STALE PAGES SEEN")
        )
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
        help="a PostgreSQL database to connect to while creating and dropping the bench's own",
    )
    parser.add_argument("--seconds", type=float, default=8.0, help="per measurement")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--load-processes", type=int, default=2)
    # The bench's own processes: the bare app and the load generator.
    parser.add_argument("--serve-bare", metavar="FILE", help=argparse.SUPPRESS)
    parser.add_argument("--load", metavar="PATH", help=argparse.SUPPRESS)
    parser.add_argument("--path", default="/", help=argparse.SUPPRESS)
    parser.add_argument("--host", default="127.0.0.1", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--connections", type=int, default=CONNECTIONS, help=argparse.SUPPRESS)
    parser.add_argument("--start-at", default="0", help=argparse.SUPPRESS)
    parser.add_argument("--revalidate", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(args.serve_bare, args.path, args.port)
    elif args.load:
        args.path = args.load
        load_main(args)
    else:
        run(args)


if __name__ == "__main__":
    main()
