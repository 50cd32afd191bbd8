"""PostgreSQL under real concurrency: many confirmations, each delivered three times at once."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import httpx
import pytest
from piccolo.engine.postgres import PostgresEngine

from linju.payments import services
from linju.payments.sandbox import SandboxOutcome, finish_session, sandbox_fee, session_payload
from linju.platform.db import get_engine
from linju.projects.donations.rules import DonationInput
from tests.client_support import app_client

from .helpers import balance, entries, signed

pytestmark = [pytest.mark.postgres_only, pytest.mark.usefixtures("demo")]
SLUG = "tongqu-leyuan"
DONATIONS = 500
WORKERS = 20
DELIVERIES = 3


async def test_500_confirmations_by_20_workers_three_times_each_post_exactly_once() -> None:
    engine = get_engine()
    assert isinstance(engine, PostgresEngine)
    await engine.start_connection_pool(min_size=WORKERS, max_size=WORKERS + 2)
    try:
        payloads: list[dict[str, Any]] = []
        expected = 0
        for i in range(DONATIONS):
            fen = 100 + i * 7
            started = await services.begin_donation(
                SLUG, DonationInput(fen, "CNY", f"居民{i}", False, "", "")
            )
            session = await finish_session(
                started.checkout_url.rsplit("/", 1)[1], SandboxOutcome.SUCCEED
            )
            assert session is not None
            payloads.append(session_payload(session))
            expected += fen - sandbox_fee(fen)
        before = await balance(SLUG)
        donations_before = len(await entries(SLUG, "donation"))

        deliveries = [p for p in payloads for _ in range(DELIVERIES)]
        random.Random(5).shuffle(deliveries)
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        for payload in deliveries:
            queue.put_nowait(payload)
        statuses: list[int] = []

        async def worker(client: httpx.AsyncClient) -> None:
            while not queue.empty():
                body, headers = signed(queue.get_nowait())
                answer = await client.post("/webhooks/sandbox", content=body, headers=headers)
                statuses.append(answer.status_code)

        async with app_client() as client:
            await asyncio.gather(*[worker(client) for _ in range(WORKERS)])

        assert statuses == [200] * (DONATIONS * DELIVERIES)
        donation_entries = await entries(SLUG, "donation")
        assert len(donation_entries) - donations_before == DONATIONS
        refs = [e["public_ref"] for e in donation_entries]
        assert len(set(refs)) == len(refs)
        ours = {p["data"]["donation_id"] for p in payloads}
        assert sorted(r for r in refs if r in ours) == sorted(ours)
        fees = [e["public_ref"] for e in await entries(SLUG, "fee") if e["public_ref"] in ours]
        assert sorted(fees) == sorted(ours)
        assert await balance(SLUG) == before + expected
        seqs = [e["seq"] for e in await entries(SLUG)]
        assert seqs == list(range(1, len(seqs) + 1))  # no gap, no duplicate
    finally:
        await engine.close_connection_pool()
