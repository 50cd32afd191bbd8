"""The whole transparency log, end to end, with real processes: `linju serve` (and on
PostgreSQL a `linju worker`), two `linju witness serve`. A resident donates through the
sandbox; the entry is integrated and cosigned by both witnesses; the downloaded proof checks
offline with the log key and both witness keys; the monitor agrees. Then two attackers:

(a) with the database only: one old entry's memo rewritten, the project's later entries
    re-chained so its export verifies alone. The monitor names the entry; the integrator
    refuses the next entry, whose prev continues the rewritten chain.
(b) with the database and the log key: the log's tables emptied and the tree rebuilt over the
    rewritten entries by the product's own integrator and signer. Both witnesses refuse the new
    checkpoint (409/422: it does not extend what they cosigned), and the monitor reports a fork.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import asyncpg
import httpx

from linju.projects.ledger.log.note import ED25519, new_signer
from linju.projects.ledger.log.tables import LogCosignature, LogRefusal, LogWitness
from tests.browser_fixtures import _free_port, serving
from tests.forms import submit
from tests.platform.test_cli import run_linju
from tests.projects.ledger.ledger_support import new_project
from tests.projects.ledger.log.log_support import rewrite_history

LINJU = str(Path(sys.executable).parent / "linju")
ORIGIN = "e2e.linju.example/log"
LOG_TABLES = (
    "log_cosignature",
    "log_checkpoint",
    "log_leaf",
    "log_tile",
    "log_cursor",
    "log_witness",
    "log_refusal",
)


@contextmanager
def witness_process(tmp: Path, name: str, log_vkey: str) -> Iterator[tuple[str, str]]:
    """A witness on a free port: its submission prefix and its verifier key."""
    made = run_linju("witness", "keygen", "--name", name, "--out", str(tmp / f"{name}.key"))
    assert made.returncode == 0, made.stderr
    vkey = made.stdout.strip()
    port = _free_port()
    log_path = tmp / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [LINJU, "witness", "serve", "--key", str(tmp / f"{name}.key"), "--log", log_vkey,
             "--port", str(port), "--state", str(tmp / f"{name}.db")],
            stdout=log, stderr=subprocess.STDOUT, cwd=tmp,
        )  # fmt: skip
        prefix = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120  # a busy machine starts a process slowly
            while True:
                try:
                    if (
                        httpx.post(prefix + "/add-checkpoint", content=b"", timeout=1).status_code
                        == 400
                    ):
                        break
                except httpx.HTTPError:
                    pass
                assert process.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.05)
            yield prefix, vkey
        finally:
            process.terminate()
            process.wait(timeout=10)


@contextmanager
def worker(env: dict[str, str]) -> Iterator[None]:
    """On PostgreSQL `linju serve` runs no jobs: a worker beside it, as in production."""
    if not os.environ["DATABASE_URL"].startswith("postgresql"):
        yield
        return
    process = subprocess.Popen([LINJU, "worker"], env={**os.environ, **env},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        yield
    finally:
        process.terminate()
        process.wait(timeout=20)


async def until(what: str, check, within: float = 30.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + within
    while True:
        value = await check()
        if value:
            return value
        assert time.monotonic() < deadline, f"waited {within} s for {what}"
        await asyncio.sleep(0.2)


async def donate(client: httpx.AsyncClient, slug: str, fen: int, name: str) -> None:
    created = await client.post(
        f"/api/v1/projects/{slug}/donations",
        json={"amount": {"amount": fen, "currency": "CNY"}, "display_name": name},
    )
    assert created.status_code == 201, created.text
    checkout = httpx.URL(created.json()["checkout_url"]).path
    paid = await submit(client, checkout, checkout, press="succeed")
    assert paid.status_code in (302, 303), paid.text[:300]


async def wipe_the_log() -> None:
    """The attacker with the database: the log's tables emptied, past their triggers."""
    url = os.environ["DATABASE_URL"]
    if url.startswith("postgresql"):
        connection = await asyncpg.connect(url)
        try:
            await connection.execute("SET session_replication_role = replica")
            await connection.execute(f"TRUNCATE {', '.join(LOG_TABLES)}")
        finally:
            await connection.close()
        return
    with closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as connection, connection:
        for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name LIKE 'log_%'"
        ).fetchall():
            connection.execute(f'DROP TRIGGER "{name}"')
        for table in LOG_TABLES:
            connection.execute(f"DELETE FROM {table}")


async def test_a_witnessed_proof_and_two_attackers_caught(db: str, tmp_path: Path) -> None:
    slug = await new_project("log-e2e")
    signer = new_signer(ORIGIN, ED25519, os.urandom(32))
    log_vkey = signer.verifier.vkey()
    key_env = {"LINJU_LOG_ORIGIN": ORIGIN, "LINJU_LOG_KEY": signer.skey()}
    with (
        witness_process(tmp_path, "w1.example", log_vkey) as (prefix1, vkey1),
        witness_process(tmp_path, "w2.example", log_vkey) as (prefix2, vkey2),
    ):
        env = {**key_env, "LINJU_WITNESSES": f"{prefix1} {vkey1}; {prefix2} {vkey2}"}
        with serving(None, 1, **env) as base, worker(env):
            async with httpx.AsyncClient(base_url=base, timeout=30) as client:
                assert (await client.get("/log/key")).text == log_vkey + "\n"
                started = time.monotonic()
                await donate(client, slug, 8_800, "王阿姨")

                async def proof() -> str | None:
                    answer = await client.get(f"/api/v1/projects/{slug}/ledger/1/proof")
                    return answer.text if answer.status_code == 200 else None

                text = await until("the proof", proof)
                assert time.monotonic() - started < 20
                path = tmp_path / "gift.tlog-proof"
                path.write_text(text, encoding="utf-8")
                checked = run_linju(
                    "log", "verify-proof", str(path), "--log-key", log_vkey,
                    "--witness", vkey1, "--witness", vkey2,
                )  # fmt: skip
                assert checked.returncode == 0, checked.stdout + checked.stderr
                assert f"OK {slug} #1 donation" in checked.stdout
                assert "witnesses: w1.example, w2.example" in checked.stdout
                checkpoint = (await client.get("/log/checkpoint")).text
                assert checkpoint.count("— w1.example ") == 1
                assert checkpoint.count("— w2.example ") == 1

                state = tmp_path / "monitor.json"
                monitored = run_linju("log", "monitor", base, "--log-key", log_vkey,
                                      "--state", str(state))  # fmt: skip
                assert monitored.returncode == 0, monitored.stdout + monitored.stderr

                # (a) the database only
                await donate(client, slug, 1_000, "张三")
                await until("the second gift in the log", lambda: _cosigned_size(4))
                await rewrite_history(slug, 1, "李四")
                caught = run_linju("log", "monitor", base, "--log-key", log_vkey,
                                   "--state", str(state))  # fmt: skip
                assert caught.returncode == 1, caught.stdout + caught.stderr
                assert f"FAULT rewritten entry: {slug} #1" in caught.stdout
                await donate(client, slug, 500, "赵六")
                refused = await until("the refusal", lambda: LogRefusal.select().first())
                assert refused["seq"] == 5

                # (b) the database and the log key: the product's own integrator and signer
                await wipe_the_log()
                rebuilt = run_linju("log", "integrate", env=env)
                assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr

                async def both_refused() -> bool:
                    rows = await LogWitness.select(LogWitness.last_error)
                    return len(rows) == 2 and all(
                        r["last_error"].startswith(("409", "422")) for r in rows
                    )

                await until("both witnesses' refusals", both_refused, within=40)
                assert await LogCosignature.count() == 0
                forked = run_linju("log", "monitor", base, "--log-key", log_vkey,
                                   "--state", str(state))  # fmt: skip
                assert forked.returncode == 1, forked.stdout + forked.stderr
                assert "FAULT fork" in forked.stdout
    for name in ("w1.example", "w2.example"):  # each witness still holds the honest tree
        with closing(sqlite3.connect(tmp_path / f"{name}.db")) as state_db:
            assert state_db.execute("SELECT size FROM checkpoint").fetchone()[0] == 4


async def _cosigned_size(size: int) -> bool:
    from linju.projects.ledger.log.tables import LogCheckpoint

    rows = await LogCheckpoint.select(LogCheckpoint.id).where(LogCheckpoint.size >= size)
    if not rows:
        return False
    ids = [r["id"] for r in rows]
    count: int = await LogCosignature.count().where(LogCosignature.checkpoint.is_in(ids))
    return count >= 2


async def test_the_monitor_names_a_bad_signature_and_bad_usage(
    live_server: str, tmp_path: Path
) -> None:
    slug = await new_project("log-monitor")
    from linju.projects.ledger.log.services import integrate
    from tests.projects.ledger.ledger_support import donate as append_gift

    await append_gift(slug, 100, "m0")
    await integrate()
    async with httpx.AsyncClient(base_url=live_server) as client:
        vkey = (await client.get("/log/key")).text.strip()
    state = tmp_path / "state.json"
    good = run_linju("log", "monitor", live_server, "--log-key", vkey, "--state", str(state))
    assert good.returncode == 0, good.stdout + good.stderr
    assert "OK: size 1, 1 new leaves, 1 projects match the log" in good.stdout
    other = new_signer("testserver.local/log", ED25519, bytes(32)).verifier.vkey()
    bad = run_linju("log", "monitor", live_server, "--log-key", other, "--state", str(state))
    assert bad.returncode == 1
    assert bad.stdout.startswith("FAULT bad signature")
    usage = run_linju("log", "monitor", "ftp://x", "--log-key", vkey, "--state", str(state))
    assert usage.returncode == 2
    assert len(usage.stderr.strip().splitlines()) == 1
