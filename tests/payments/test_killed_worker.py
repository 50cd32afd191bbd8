"""A worker process killed (SIGKILL) after it applied a confirmation but before its commit.

The child process applies a real sandbox confirmation through `services.apply_events` inside a
transaction it keeps open, says so, and is killed by the parent: nothing it wrote may survive.
The provider then redelivers the event to the webhook, and it posts exactly once.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import textwrap

import httpx
import pytest

from .helpers import balance, donation_row, entries, sandbox_event, signed

pytestmark = pytest.mark.usefixtures("demo")
SLUG = "tongqu-leyuan"

CHILD = textwrap.dedent(
    """
    import asyncio, json, sys

    from linju.platform.db import use_linju_piccolo_conf

    use_linju_piccolo_conf()

    from linju.payments.sandbox import events_from_payload
    from linju.payments.services import apply_events
    from linju.platform.db import write_transaction


    async def main() -> None:
        events = events_from_payload(json.loads(sys.stdin.readline()))
        async with write_transaction():
            applied = await apply_events("sandbox", events)
            print(json.dumps([a.outcome for a in applied]), flush=True)
            await asyncio.sleep(600)  # killed here, before the commit


    asyncio.run(main())
    """
)


async def test_a_killed_worker_leaves_nothing_and_redelivery_posts_once(
    client: httpx.AsyncClient,
) -> None:
    created = (
        await client.post(
            f"/api/v1/projects/{SLUG}/donations",
            json={"amount": {"amount": 12_300, "currency": "CNY"}, "display_name": "小赵"},
        )
    ).json()
    payload = await sandbox_event(created["checkout_url"], "paid")
    before_entries = await entries(SLUG)
    before = await balance(SLUG)

    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CHILD,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=dict(os.environ),
    )
    try:
        assert child.stdin is not None
        assert child.stdout is not None
        child.stdin.write((json.dumps(payload) + "\n").encode())
        await child.stdin.drain()
        said = await asyncio.wait_for(child.stdout.readline(), timeout=60)
        assert said, "the worker died before applying the event"
        assert json.loads(said) == ["applied", "applied"]
    finally:
        child.send_signal(signal.SIGKILL)
        await asyncio.wait_for(child.wait(), timeout=30)
    assert child.returncode == -signal.SIGKILL

    assert await entries(SLUG) == before_entries
    assert await balance(SLUG) == before
    assert (await donation_row(created["id"]))["status"] == "pending"

    body, headers = signed(payload)
    first = await client.post("/webhooks/sandbox", content=body, headers=headers)
    assert first.status_code == 200
    assert [e["outcome"] for e in first.json()["events"]] == ["applied", "applied"]
    body, headers = signed(payload)
    again = await client.post("/webhooks/sandbox", content=body, headers=headers)
    assert [e["outcome"] for e in again.json()["events"]] == ["duplicate", "duplicate"]
    mine = [e["kind"] for e in await entries(SLUG) if e["public_ref"] == created["id"]]
    assert sorted(mine) == ["donation", "fee"]
    assert await balance(SLUG) == before + 12_300 - 74
