"""On SQLite, `linju serve --workers 2` runs the jobs itself: a fresh clone needs no second
process. Each job runs once (claims are atomic; that one process holds the runner's lock is
test_runner.py's proof)."""

from __future__ import annotations

import asyncio
import email
import os
from pathlib import Path

import httpx
import pytest

from linju.platform.accounts.tables import SentMail
from linju.platform.jobs import queue
from tests.accounts_support import make_account, post_form
from tests.browser_fixtures import serving


async def test_serve_with_two_workers_runs_a_queued_mail_once(db: str, engine_name: str) -> None:
    if engine_name != "sqlite":
        pytest.skip("on PostgreSQL `linju worker` runs the jobs (test_two_processes.py)")
    await make_account("a@example.cn")
    folder = Path(os.environ["LINJU_VAR_DIR"]) / "mail"
    for old in folder.glob("*.eml"):
        old.unlink()
    with serving(workers=2) as address:
        async with httpx.AsyncClient(base_url=address) as client:
            for _ in range(3):  # three requests, likely served by both processes
                asked = await post_form(
                    client, "/password/forgot", "/password/forgot", {"email": "a@example.cn"}
                )
                assert asked.status_code == 200
            for _ in range(200):
                if await SentMail.count() == 3 and not await queue.list_jobs():
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(1)  # room for a second runner's copy, were there one
    assert await SentMail.count() == 3
    assert await queue.list_jobs() == []
    ids = [email.message_from_bytes(p.read_bytes())["Message-ID"] for p in folder.glob("*.eml")]
    assert len(ids) == 3
    assert len(set(ids)) == 3
