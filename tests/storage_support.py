"""A real S3 API server for the suite: moto's server, one per test process, started when needed.

On the PostgreSQL run every upload goes to a bucket on it: tests/conftest.py puts
`S3_ENVIRONMENT` into the environment before any setting is read, so the app in process and the
`linju serve` subprocesses of the browser tests store photos, evidence, invoices, redacted copies
and completion reports there. The SQLite run keeps the local folder. tests/platform/test_storage.py
runs the storage's behaviour against both in every run.

The server is started on first use (`s3_server`): on the PostgreSQL run before any test that is
not pure, so `pytest -m pure` never pays for it. Its port has to be in the environment before
that, so it is reserved when this module is imported: a socket bound with SO_REUSEADDR and never
listening holds it, so no other `bind(("127.0.0.1", 0))` of the machine is handed it, while
moto's server (which also sets SO_REUSEADDR) can still bind it; the reservation is let go once
the server answers. A plugin of tests/conftest.py (`pytest_plugins`).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.process_support import wait_until_answers

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
BUCKET = f"linju-test-{uuid.uuid4().hex[:12]}-{WORKER}".lower()
PREFIX = "uploads"  # the app's key prefix in the bucket on the PostgreSQL run
REGION = "us-east-1"
ACCESS_KEY_ID = "linju-test"
SECRET_ACCESS_KEY = "linju-test-secret"

_reservation = socket.socket()
_reservation.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
_reservation.bind(("127.0.0.1", 0))
PORT = int(_reservation.getsockname()[1])
ENDPOINT = f"http://127.0.0.1:{PORT}"

# What the PostgreSQL run's environment says (tests/conftest.py), and every name it sets.
S3_ENVIRONMENT = {
    "LINJU_STORAGE_URL": f"s3://{BUCKET}/{PREFIX}",
    "LINJU_S3_ENDPOINT_URL": ENDPOINT,
    "LINJU_S3_REGION": REGION,
    "LINJU_S3_ACCESS_KEY_ID": ACCESS_KEY_ID,
    "LINJU_S3_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
}


def uploads_on_s3() -> bool:
    """Whether this run's app stores its uploads in the bucket (the PostgreSQL run)."""
    return os.environ.get("LINJU_STORAGE_URL") == S3_ENVIRONMENT["LINJU_STORAGE_URL"]


def s3_client() -> Any:
    """boto3's client for the server: an S3 client that is not ours, to look at the bucket."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=ENDPOINT,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=SECRET_ACCESS_KEY,
    )


def _start(log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(PORT)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_answers(f"{ENDPOINT}/moto-api/", process, log_path, "moto's S3 server")
    except RuntimeError:
        process.kill()
        raise
    _reservation.close()
    s3_client().create_bucket(Bucket=BUCKET)
    return process


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """moto's S3 server with this process's empty bucket `BUCKET`, for the whole run; its
    endpoint. Stopped at the end of the run."""
    log_path = Path(tempfile.gettempdir()) / f"linju-moto-{PORT}.log"
    process = _start(log_path)
    try:
        yield ENDPOINT
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log_path.unlink(missing_ok=True)


@pytest.fixture(autouse=True)
def _uploads_server(request: pytest.FixtureRequest) -> None:
    """On the PostgreSQL run, the bucket is there before any test that may store a file (every
    test but a pure one; the marker is set at collection, tests/conftest.py)."""
    if uploads_on_s3() and request.node.get_closest_marker("pure") is None:
        request.getfixturevalue("s3_server")


async def stored_keys(prefix: str = "") -> list[str]:
    """The keys in the app's storage (folder or bucket) under `prefix`, sorted."""
    from linju.platform.storage import get_storage

    return sorted([key async for key in get_storage().keys(prefix)])


async def empty_storage() -> None:
    """Remove every object from the app's storage (it outlives each test, like the var folder)."""
    from linju.platform.storage import get_storage

    storage = get_storage()
    for key in await stored_keys():
        await storage.delete(key)
