"""The queue across processes: a process killed after its commit loses no job, one killed
before it leaves none; a worker killed mid-job has the job run again elsewhere; mail sent just
before a worker died goes again with the same Message-ID and is recorded once; several workers
run one job once."""

from __future__ import annotations

import asyncio
import email
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from linju.platform.accounts.tables import PasswordToken, SentMail
from linju.platform.jobs import queue
from linju.platform.jobs.registry import JobContext, JobKind, register
from linju.platform.jobs.worker import drain_jobs
from tests.accounts_support import make_account

LINJU = str(Path(sys.executable).parent / "linju")

# Runs the real use case's steps in a child process and dies at the chosen point.
RESET_THEN_DIE = textwrap.dedent(
    """
    import asyncio, os, sys
    from linju.platform.db import use_linju_piccolo_conf
    use_linju_piccolo_conf()
    from linju.platform.app import wire
    wire()
    from linju.platform.accounts.login import issue_password_token, queue_password_mail
    from linju.platform.accounts.tables import Account
    from linju.platform.db import write_transaction

    async def main(where: str) -> None:
        async with write_transaction():
            query = Account.select(Account.id).where(Account.email == "a@example.cn")
            account = await query.first()
            seed = await issue_password_token(account["id"], "reset")
            await queue_password_mail("a@example.cn", seed, "reset", "zh_CN")
            if where == "before-commit":
                os._exit(9)
        os._exit(9)

    asyncio.run(main(sys.argv[1]))
    """
)


def _die_at(where: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", RESET_THEN_DIE, where], capture_output=True, timeout=60
    )
    assert result.returncode == 9, result.stderr.decode()


def _mails(folder: Path) -> list[email.message.Message]:
    return [email.message_from_bytes(p.read_bytes()) for p in sorted(folder.glob("*.eml"))]


@pytest.fixture
def mail_dir() -> Path:
    folder = Path(os.environ["LINJU_VAR_DIR"]) / "mail"
    for old in folder.glob("*.eml"):
        old.unlink()
    return folder


async def test_a_process_killed_after_its_commit_loses_no_job(db: str, mail_dir: Path) -> None:
    await make_account("a@example.cn")
    await asyncio.to_thread(_die_at, "after-commit")
    assert await PasswordToken.count() == 1
    [job] = await queue.list_jobs()
    assert (job.name, job.status) == ("accounts.password_mail", "queued")
    await drain_jobs()
    [mail] = _mails(mail_dir)
    assert mail["To"] == "a@example.cn"
    assert "/password/reset/" in str(mail.get_payload(decode=True))
    assert await queue.list_jobs() == []


async def test_a_process_killed_before_its_commit_leaves_no_job(db: str, mail_dir: Path) -> None:
    await make_account("a@example.cn")
    await asyncio.to_thread(_die_at, "before-commit")
    assert await PasswordToken.count() == 0
    assert await queue.list_jobs() == []
    await drain_jobs()
    assert _mails(mail_dir) == []


class KillingSink:
    """An SMTP server that kills the worker as the first message arrives, before answering:
    the message has left the worker, which dies before it can record it."""

    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []
        self.victim: int | None = None
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.messages.append(email.message_from_bytes(envelope.content))
            if self.victim is not None and len(self.messages) == 1:
                os.kill(self.victim, signal.SIGKILL)
        return "250 OK"


@pytest.fixture
def smtp_sink() -> Iterator[tuple[KillingSink, int]]:
    sink = KillingSink()
    for _ in range(5):  # a free port may be taken by another process before the server binds it
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        controller = Controller(sink, hostname="127.0.0.1", port=port)
        try:
            controller.start()
            break
        except (OSError, RuntimeError):
            continue
    else:
        pytest.fail("no SMTP server could start")
    try:
        yield sink, port
    finally:
        controller.stop()


def _worker(port: int, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "LINJU_SMTP_URL": f"smtp://127.0.0.1:{port}"}
    return subprocess.Popen(
        [LINJU, "worker", "--stale-after", "1", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


async def test_mail_sent_before_a_worker_died_goes_again_with_the_same_message_id(
    db: str, smtp_sink: tuple[KillingSink, int]
) -> None:
    sink, port = smtp_sink
    await make_account("a@example.cn")
    await asyncio.to_thread(_die_at, "after-commit")

    first = _worker(port)
    sink.victim = first.pid
    assert await asyncio.to_thread(first.wait, 60) == -signal.SIGKILL
    assert len(sink.messages) == 1
    assert await SentMail.count() == 0  # it died before recording the send
    [job] = [j for j in await queue.list_jobs() if j.name == "accounts.password_mail"]
    assert job.status == "picked"  # and before finishing the job

    await asyncio.sleep(1.5)  # the dead worker's heartbeat goes stale
    second = _worker(port, "--drain")
    output, _ = await asyncio.to_thread(second.communicate, None, 60)
    assert second.returncode == 0, output.decode()
    assert len(sink.messages) == 2
    assert sink.messages[0]["Message-ID"] == sink.messages[1]["Message-ID"]
    assert sink.messages[0]["Message-ID"]
    [record] = await SentMail.select()
    assert record["message_id"] == sink.messages[0]["Message-ID"]
    assert [j for j in await queue.list_jobs() if j.name == "accounts.password_mail"] == []


RUNNING: set[int] = set()
OVERLAPS: list[int] = []
DONE: list[int] = []


async def _slow(args: dict[str, Any], ctx: JobContext) -> None:
    if ctx.job_id in RUNNING:
        OVERLAPS.append(ctx.job_id)
    RUNNING.add(ctx.job_id)
    await asyncio.sleep(0.05)
    RUNNING.discard(ctx.job_id)
    DONE.append(ctx.job_id)


async def test_several_workers_run_each_job_once(db: str) -> None:
    register(JobKind("test.slow", _slow))
    DONE.clear()
    OVERLAPS.clear()
    ids = [await queue.enqueue("test.slow", {"n": n}) or 0 for n in range(12)]
    await asyncio.gather(drain_jobs(), drain_jobs(), drain_jobs())
    assert OVERLAPS == []
    assert sorted(DONE) == sorted(ids)
    assert await queue.list_jobs() == []
