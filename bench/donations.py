"""Confirmed donations per second through the webhook route, against bare ledger appends.

Run on PostgreSQL (`make bench` or `.venv/bin/python bench/donations.py`): it creates a
throw-away database, migrates it, and measures in the same run, with the same concurrency and
connection pool:

1. the ledger's bare `append` rate (a donation entry each, no HTTP, no donation row);
2. confirmations through `POST /webhooks/sandbox` in process (ASGI, no network): signature
   verification, the donation's row lock, the processed-event check, the state change, the
   `donation` entry and the `fee` entry, all in one transaction per event.

It prints both rates and their ratio; the target is a ratio of at least 0.5. Figures go to
docs/performance.md. Timing lives here, never in tests.

`--head-trigger-ab` measures instead what the head's constraint trigger costs (docs/adr/0016):
each round runs bare appends and confirmations with fee once with the trigger and once without
(disabled for the bench's own database), in alternating order, so both see the same machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

# Run as a script (`python bench/x.py`): the repository root makes `bench` importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.benchkit import admin

ROOT = Path(__file__).resolve().parents[1]


def _configure(database_url: str) -> None:
    os.environ.update(
        {
            "DATABASE_URL": database_url,
            "LINJU_VAR_DIR": tempfile.mkdtemp(prefix="linju-bench-"),
            "LINJU_SECRET_KEY": "bench-secret-key-" + "b" * 32,
            "LINJU_SANDBOX_WEBHOOK_SECRET": "bench-sandbox-webhook-secret-" + "s" * 16,
            "LINJU_BASE_URL": "http://bench.local",
            "LINJU_PAYMENT_GATEWAY": "sandbox",
            "PICCOLO_CONF": "linju.platform.piccolo_conf",
        }
    )
    os.environ.pop("LINJU_MAX_DONATION_FEN", None)


async def _project(slug: str) -> None:
    from linju.projects.core.rules import BudgetLinePlan, CommitteeRole, CommitteeSeat
    from linju.projects.core.services.communities import create_community
    from linju.projects.core.services.projects import ProjectDraft, create_project, publish
    from linju.projects.core.tables import Community

    if not await Community.exists().where(Community.slug == "bench"):
        await create_community("bench", "基准社区", "基准区")
    await create_project(
        ProjectDraft(
            community_slug="bench",
            slug=slug,
            title="基准项目",
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


async def _run_workers(jobs: list[Any], workers: int, work: Any) -> float:
    queue: asyncio.Queue[Any] = asyncio.Queue()
    for job in jobs:
        queue.put_nowait(job)

    async def worker() -> None:
        while not queue.empty():
            await work(queue.get_nowait())

    start = time.perf_counter()
    await asyncio.gather(*[worker() for _ in range(workers)])
    return time.perf_counter() - start


async def bare_appends(count: int, workers: int, round_: int) -> float:
    from linju.projects.ledger import services as ledger
    from linju.projects.ledger.format import EntryKind

    slug = f"bench-ledger-{round_}"
    await _project(slug)

    async def append(i: int) -> None:
        await ledger.append(
            slug,
            ledger.LedgerEvent(
                kind=EntryKind.DONATION,
                memo=f"居民{i}",
                ref=f"don_bench{round_}_{i}",
                postings=(
                    ledger.Posting(f"fund:{slug}", 100 + i),
                    ledger.Posting("donors:online", -(100 + i)),
                ),
                idempotency_key=f"donation:bench{round_}_{i}",
            ),
        )

    return count / await _run_workers(list(range(count)), workers, append)


async def webhook_confirmations(count: int, workers: int, with_fee: bool, round_: int) -> float:
    from linju.payments import services, signatures
    from linju.payments.sandbox import (
        SIGNATURE_HEADER,
        SandboxOutcome,
        finish_session,
        session_payload,
    )
    from linju.payments.tables import SandboxSession
    from linju.platform.app import create_app
    from linju.platform.settings import get_settings
    from linju.projects.donations.rules import DonationInput

    slug = f"bench-donations-{round_}" if with_fee else f"bench-donations-nofee-{round_}"
    await _project(slug)
    payloads = []
    for i in range(count):
        started = await services.begin_donation(
            slug, DonationInput(100 + i, "CNY", f"居民{i}", False, "", "")
        )
        if not with_fee:  # the provider reports no fee: one ledger entry per confirmation
            await SandboxSession.update({SandboxSession.fee_fen: 0}).where(
                SandboxSession.donation_id == started.donation.id
            )
        session = await finish_session(
            started.checkout_url.rsplit("/", 1)[1], SandboxOutcome.SUCCEED
        )
        assert session is not None
        payloads.append(session_payload(session))
    secret = get_settings().sandbox_webhook_secret
    app = create_app()  # the pool is the bench's own, started in main()
    # The app logs every request at INFO; thousands of lines would bury the figures.
    logging.getLogger("linju").setLevel(logging.WARNING)

    async def deliver(payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        headers = [
            (b"content-type", b"application/json"),
            (SIGNATURE_HEADER.lower().encode(), signatures.sign(body, secret).encode()),
        ]
        status, answer = await _post(app, "/webhooks/sandbox", headers, body)
        if status != 200:
            raise RuntimeError(f"webhook answered {status}: {answer!r}")

    return count / await _run_workers(payloads, workers, deliver)


# The load generator runs in the server's process, on the same cores: it hands each request to
# the application exactly as an ASGI server does once it has parsed the HTTP (scope, body
# message, collected response) and nothing more, so that its own cost is not counted as the
# route's. The route, its middleware and its request log run as in production.
async def _post(
    app: Any, path: str, headers: list[tuple[bytes, bytes]], body: bytes
) -> tuple[int, bytes]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"bench.local"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("bench.local", 80),
    }
    sent = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # the client never disconnects mid-request
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


async def main(args: argparse.Namespace) -> None:
    admin_url: str = args.admin_url
    name = f"linju_bench_{uuid.uuid4().hex[:10]}"
    base, _, _ = admin_url.rpartition("/")
    await admin(admin_url, f'CREATE DATABASE "{name}"')
    try:
        _configure(f"{base}/{name}")
        sys.path.insert(0, str(ROOT))
        from linju.platform.db import close_pool, start_pool
        from linju.platform.migrate import apply_migrations

        await apply_migrations()
        await start_pool(max_size=args.workers + 2)
        if args.head_trigger_ab:
            await head_trigger_ab(args)
            return
        figures: dict[str, list[float]] = {"bare": [], "fee": [], "no fee": []}
        try:
            for round_ in range(args.rounds):
                # Rounds interleave the three measurements so that a slow spell of the shared
                # machine (or the tables' growth) weighs on all three alike; medians are kept.
                figures["bare"].append(await bare_appends(args.count, args.workers, round_))
                figures["fee"].append(
                    await webhook_confirmations(args.count, args.workers, True, round_)
                )
                figures["no fee"].append(
                    await webhook_confirmations(args.count, args.workers, False, round_)
                )
                print(
                    f"  round {round_ + 1}: "
                    + ", ".join(f"{name} {values[-1]:.1f}/s" for name, values in figures.items())
                )
        finally:
            await close_pool()
        appends, with_fee, without_fee = (statistics.median(v) for v in figures.values())
        print(
            f"PostgreSQL, {args.count} events per measurement, {args.workers} concurrent workers,"
            f" median of {args.rounds} rounds"
        )
        print(f"  bare ledger appends (1 entry each):               {appends:8.1f} /s")
        print(
            f"  confirmations via webhook, with fee (2 entries): {with_fee:8.1f} /s"
            f"  ratio {with_fee / appends:.2f}"
        )
        print(
            f"  confirmations via webhook, no fee (1 entry):     {without_fee:8.1f} /s"
            f"  ratio {without_fee / appends:.2f}"
        )
    finally:
        await admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def head_trigger_ab(args: argparse.Namespace) -> None:
    from piccolo.querystring import QueryString

    from linju.platform.db import close_pool, get_engine, start_pool

    async def run(sql: str) -> Any:
        return await get_engine().run_querystring(QueryString(sql))

    # The trigger function's own time, counted by PostgreSQL in every new connection.
    await close_pool()
    database = (await run("SELECT current_database() AS name"))[0]["name"]
    await run(f"ALTER DATABASE \"{database}\" SET track_functions = 'pl'")
    await run("SELECT pg_stat_reset()")
    await start_pool(max_size=args.workers + 2)

    async def trigger(enabled: bool) -> None:
        verb = "ENABLE" if enabled else "DISABLE"
        await get_engine().run_querystring(
            QueryString(f"ALTER TABLE ledger_head {verb} TRIGGER ledger_head_is_newest_entry")
        )

    figures: dict[str, list[float]] = {
        f"{what} {state}": [] for what in ("bare", "fee") for state in ("on", "off")
    }
    for round_ in range(args.rounds):
        order = (True, False) if round_ % 2 == 0 else (False, True)
        for enabled in order:
            await trigger(enabled)
            state = "on" if enabled else "off"
            label = 2 * round_ + (0 if enabled else 1)
            figures[f"bare {state}"].append(await bare_appends(args.count, args.workers, label))
            figures[f"fee {state}"].append(
                await webhook_confirmations(args.count, args.workers, True, label)
            )
        print(
            f"  round {round_ + 1}: "
            + ", ".join(f"{name} {values[-1]:.1f}/s" for name, values in figures.items())
        )
    await trigger(True)
    await close_pool()  # each session reports its function statistics as it ends
    await asyncio.sleep(1)
    [timing] = await run(
        "SELECT coalesce(sum(calls), 0) AS calls, coalesce(sum(self_time), 0) AS ms "
        "FROM pg_stat_user_functions WHERE funcname = 'linju_ledger_head_is_newest'"
    )
    medians = {name: statistics.median(values) for name, values in figures.items()}
    print(
        f"PostgreSQL, {args.count} events per measurement, {args.workers} concurrent workers,"
        f" median of {args.rounds} rounds, the head's trigger on and off"
    )
    for what in ("bare", "fee"):
        on, off = medians[f"{what} on"], medians[f"{what} off"]
        print(f"  {what:4}: with trigger {on:8.1f} /s, without {off:8.1f} /s, ratio {on / off:.2f}")
    if timing["calls"]:
        per_call = 1000 * float(timing["ms"]) / int(timing["calls"])
        print(f"  the trigger ran {timing['calls']} times, {per_call:.1f} µs each (its own time)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--admin-url",
        default=os.environ.get(
            "LINJU_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
        help="a PostgreSQL database to connect to while creating the bench database",
    )
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--head-trigger-ab",
        action="store_true",
        help="measure the ledger head's constraint trigger: each round with it and without",
    )
    asyncio.run(main(parser.parse_args()))
