"""Stateless serving: two `linju serve` processes on one PostgreSQL and one S3 bucket behave as
one. A session made on one works on the other, a photo uploaded through one is served by the
other, a login throttle counts attempts on both, and a job queued through one is run once by
the workers."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from linju.platform.accounts.login import MAX_FAILURES_PER_ACCOUNT
from linju.platform.accounts.sessions import SESSION_COOKIE
from linju.platform.accounts.tables import SentMail
from linju.platform.jobs import queue
from linju.platform.storage import get_storage
from tests.accounts_support import PASSWORD, log_in_with_form, post_form
from tests.browser_fixtures import serving
from tests.forms import confirm_shown, submit
from tests.projects.stewardship.stewardship_support import make_people, png_bytes
from tests.projects.stewardship.test_secretary import good_draft
from tests.storage_support import stored_keys, uploads_on_s3

pytestmark = [pytest.mark.postgres_only, pytest.mark.usefixtures("demo")]

LINJU = str(Path(sys.executable).parent / "linju")


def _worker() -> subprocess.Popen[bytes]:
    return subprocess.Popen([LINJU, "worker"], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)


async def test_two_processes_share_sessions_uploads_throttles_and_jobs() -> None:
    assert uploads_on_s3()  # the PostgreSQL run keeps uploads in moto's bucket
    await make_people()
    with serving() as first, serving(base_url=first) as second:
        async with (
            httpx.AsyncClient(base_url=first) as one,
            httpx.AsyncClient(base_url=second) as other,
        ):
            # A session made through one process is a login on the other.
            assert (await log_in_with_form(one, "sec@example.cn")).status_code == 303
            other.cookies.set(SESSION_COOKIE, one.cookies[SESSION_COOKIE])
            answer = await other.get("/secretary", follow_redirects=False)
            assert answer.status_code == 200
            assert "sec" in answer.text

            # A photo uploaded through one is served by the other, from the bucket.
            page = "/secretary/c/lvjingyuan/new"
            cover = ("cover.png", png_bytes(400, 300), "image/png")
            created = await submit(other, page, page, good_draft(), files={"cover": cover})
            assert created.status_code == 303, created.text
            manage = "/p/reading-corner/manage"
            asked = await submit(other, manage, f"{manage}/publish")
            published = await confirm_shown(other, asked, page=manage)
            assert published.status_code == 303, published.text
            shown = await other.get("/p/reading-corner")
            match = re.search(r'class="cover" src="(/photos/[^"]+)"', shown.text)
            assert match, "the draft shows no cover"
            served = await one.get(match.group(1))
            assert served.status_code == 200
            assert served.headers["content-type"] == "image/jpeg"
            name = match.group(1).rsplit("/", 1)[1]
            [key] = [k for k in await stored_keys("photos") if k.endswith(name)]
            assert served.content == await get_storage().get(key)

            # Failed logins count across both processes.
            for attempt in range(MAX_FAILURES_PER_ACCOUNT):
                client = one if attempt % 2 else other
                wrong = await log_in_with_form(client, "m1@example.cn", "not the password")
                assert wrong.status_code == 422
            for client in (one, other):
                assert (
                    await log_in_with_form(client, "m1@example.cn", PASSWORD)
                ).status_code == 429

            # A job queued through one process is run once, by one of two workers (the demo's
            # own mails, its stewards' invitations, may be queued beside it).
            mail_job = "accounts.password_mail"
            before = {j.id for j in await queue.list_jobs() if j.name == mail_job}
            mail_dir = Path(os.environ["LINJU_VAR_DIR"]) / "mail"
            earlier = set(mail_dir.glob("*.eml"))  # other tests' mails, to m2 too
            asked = await post_form(
                one, "/password/forgot", "/password/forgot", {"email": "m2@example.cn"}
            )
            assert asked.status_code == 200
            [job] = [
                j for j in await queue.list_jobs() if j.name == mail_job and j.id not in before
            ]
            workers = [_worker(), _worker()]
            try:
                for _ in range(300):
                    if await SentMail.count() and not [
                        j for j in await queue.list_jobs() if j.id == job.id
                    ]:
                        break
                    await asyncio.sleep(0.1)
                await asyncio.sleep(1)  # time for a second run, were there one
            finally:
                for worker in workers:
                    worker.terminate()
                for worker in workers:
                    await asyncio.to_thread(worker.wait, 30)
            sent = await SentMail.select(SentMail.recipient)
            assert [row["recipient"] for row in sent].count("m2@example.cn") == 1
            mails = set(mail_dir.glob("*.eml")) - earlier
            assert sum("m2@example.cn" in p.read_text(errors="replace") for p in mails) == 1
