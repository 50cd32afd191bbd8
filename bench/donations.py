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
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, cast

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


async def _admin(admin_url: str, sql: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def _project(slug: str) -> None:
    from linju.projects.rules import BudgetLinePlan, CommitteeRole, CommitteeSeat
    from linju.projects.services.communities import create_community
    from linju.projects.services.projects import ProjectDraft, create_project, publish
    from linju.projects.tables import Community

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


async def bare_appends(count: int, workers: int) -> float:
    from linju.projects import ledger
    from linju.projects.ledger_format import EntryKind

    await _project("bench-ledger")

    async def append(i: int) -> None:
        await ledger.append(
            "bench-ledger",
            ledger.LedgerEvent(
                kind=EntryKind.DONATION,
                memo=f"居民{i}",
                ref=f"don_bench{i}",
                postings=(
                    ledger.Posting("fund:bench-ledger", 100 + i),
                    ledger.Posting("donors:online", -(100 + i)),
                ),
                idempotency_key=f"donation:bench{i}",
            ),
        )

    return count / await _run_workers(list(range(count)), workers, append)


async def webhook_confirmations(count: int, workers: int, with_fee: bool) -> float:
    import httpx

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

    slug = "bench-donations" if with_fee else "bench-donations-nofee"
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
    import json

    transport = httpx.ASGITransport(app=cast(Any, create_app()))
    async with httpx.AsyncClient(transport=transport, base_url="http://bench.local") as client:

        async def deliver(payload: dict[str, Any]) -> None:
            body = json.dumps(payload).encode()
            headers = {SIGNATURE_HEADER: signatures.sign(body, secret)}
            answer = await client.post("/webhooks/sandbox", content=body, headers=headers)
            if answer.status_code != 200:
                raise RuntimeError(f"webhook answered {answer.status_code}: {answer.text}")

        return count / await _run_workers(payloads, workers, deliver)


async def main(args: argparse.Namespace) -> None:
    admin_url: str = args.admin_url
    name = f"linju_bench_{uuid.uuid4().hex[:10]}"
    base, _, _ = admin_url.rpartition("/")
    await _admin(admin_url, f'CREATE DATABASE "{name}"')
    try:
        _configure(f"{base}/{name}")
        sys.path.insert(0, str(ROOT))
        from linju.platform.db import close_pool, start_pool
        from linju.platform.migrate import apply_migrations

        await apply_migrations()
        await start_pool(max_size=args.workers + 2)
        try:
            appends = await bare_appends(args.count, args.workers)
            confirmations = await webhook_confirmations(args.count, args.workers, True)
            without_fee = await webhook_confirmations(args.count, args.workers, False)
        finally:
            await close_pool()
        print(f"PostgreSQL, {args.count} events, {args.workers} concurrent workers")
        print(f"  bare ledger appends (1 entry each):          {appends:8.1f} /s")
        print(
            f"  confirmations via webhook, with fee (2 entries): {confirmations:8.1f} /s"
            f"  ratio {confirmations / appends:.2f}"
        )
        print(
            f"  confirmations via webhook, no fee (1 entry):     {without_fee:8.1f} /s"
            f"  ratio {without_fee / appends:.2f}"
        )
    finally:
        await _admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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
    asyncio.run(main(parser.parse_args()))
