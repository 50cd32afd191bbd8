"""Waiting for a server the suite started in a child process (`linju serve`, moto's S3)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import httpx


def wait_until_answers(
    url: str, process: subprocess.Popen[bytes], log_path: Path, name: str, *, within: float = 30
) -> None:
    """Return once `url` answers 200; raise with the server's log if `process` exits first or
    `within` seconds pass (the caller stops the process)."""
    deadline = time.monotonic() + within
    while True:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{name} did not start:\n" + log_path.read_text())
        time.sleep(0.05)
