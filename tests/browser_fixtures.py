"""Browser tests: Debian's Chromium, driven by Playwright's async API, against `linju serve`.

The server is the real command in a subprocess, on this run's database, so the browser sees
exactly what a resident's phone would. Never a downloaded browser: `executable_path` points at
the Debian package, which `.ci/run` installs when it is missing.

A plugin of tests/conftest.py (`pytest_plugins`), so a browser test lives beside the area it
tests and imports `PHONE` and `artifact` from here; its fixtures mark it `browser`.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, Response, ViewportSize, async_playwright

from tests.process_support import wait_until_answers

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "var" / "test-artifacts"
PHONE: ViewportSize = {"width": 375, "height": 812}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(base_url: str | None = None, workers: int = 1, **env: str) -> Iterator[str]:
    """`linju serve` on a free port of this machine until the block ends; its address.

    `base_url` is the public address the app is told (LINJU_BASE_URL), its own by default:
    several servers behind one address are told the same. `env` adds settings.
    """
    port = _free_port()
    address = f"http://127.0.0.1:{port}"
    linju = str(Path(sys.executable).parent / "linju")
    log_path = Path(os.environ["LINJU_VAR_DIR"]) / f"serve-{port}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [linju, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
            # As on a fresh clone: on SQLite `linju serve` runs the jobs in-process.
            env={
                **os.environ,
                "LINJU_BASE_URL": base_url or address,
                "LINJU_RUN_JOBS_IN_SERVE": "true",
                **env,
            },
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until_answers(f"{address}/healthz", process, log_path, "linju serve")
            yield address
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture
def live_server(db: str) -> Iterator[str]:
    """`linju serve` on a free port, stopped after the test."""
    with serving() as address:
        yield address


@pytest.fixture
def chromium_path() -> str:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: apt-get install -y chromium (.ci/run does)")
    return CHROMIUM


@pytest.fixture
async def browser(chromium_path: str) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_FLAGS
        )
        try:
            yield launched
        finally:
            await launched.close()


def artifact(name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    engine = os.environ.get("LINJU_TEST_DATABASE", "sqlite")
    return ARTIFACTS / f"{engine}-{name}"


async def submit_on(page: Page, selector: str) -> Response:
    """Press the submit button `selector`; the answer to the POST, once its page has loaded.

    Waits for the navigation the form causes (through any redirect), not only for the POST's
    answer: a page read between the two is the old document being torn down.
    """
    posted = page.expect_response(lambda r: r.request.method == "POST")
    async with page.expect_navigation(), posted as answer:
        await page.click(selector)
    return await answer.value
