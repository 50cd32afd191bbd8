"""What the benchmarks share: the throw-away PostgreSQL database, a server started and waited
for, and the clean-up after a run (bench/ledger.py, bench/log.py, bench/pages.py,
bench/donations.py). Timing lives in the scripts; nothing here measures."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path


async def admin(admin_url: str, sql: str) -> None:
    """One statement on the administrative connection (CREATE or DROP DATABASE)."""
    import asyncpg

    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(
    command: list[str], port: int, log: Path, wait_seconds: float = 90
) -> subprocess.Popen[bytes]:
    """Start a server and wait until its /healthz answers; its stderr goes to `log`."""
    import httpx

    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=sink, env=os.environ.copy()
        )
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code < 500:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.terminate()
    tail = log.read_text("utf-8", errors="replace").strip().splitlines()[-5:]
    raise SystemExit(f"bench: {' '.join(command)} did not start: " + " / ".join(tail))


def clean_up(
    servers: Iterable[subprocess.Popen[bytes]],
    admin_url: str,
    pg_name: str | None,
    workdir: Path,
) -> None:
    """Stop the servers, drop the run's PostgreSQL database (if any) and remove its folder."""
    for server in servers:
        server.terminate()
        server.wait(timeout=30)
    if pg_name is not None:
        asyncio.run(admin(admin_url, f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))
    for item in sorted(workdir.rglob("*"), reverse=True):
        item.unlink() if item.is_file() or item.is_symlink() else item.rmdir()
    workdir.rmdir()
