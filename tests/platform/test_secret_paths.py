"""Addresses that carry a secret (a donor's receipt, a password reset link, a sandbox checkout)
are logged without it: in the request log and in the unexpected-error log
(platform/secret_paths.py)."""

from __future__ import annotations

import logging
import re

import pytest
from litestar import get
from litestar.params import FromPath

from linju.platform.app import create_app, wire
from linju.platform.secret_paths import REDACTED, loggable
from tests.client_support import AppClient

KEY = "Kq7secretKEY0123456789abcdef"


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        (f"/donations/{KEY}", f"/donations/{REDACTED}"),
        (f"/donations/{KEY}/official-receipt.pdf", f"/donations/{REDACTED}/official-receipt.pdf"),
        (f"/api/v1/donations/{KEY}", f"/api/v1/donations/{REDACTED}"),
        (f"/password/reset/{KEY}", f"/password/reset/{REDACTED}"),
        (f"/sandbox/checkout/{KEY}", f"/sandbox/checkout/{REDACTED}"),
        ("/p/tongqu-leyuan/donations", "/p/tongqu-leyuan/donations"),
        ("/p/tongqu-leyuan", "/p/tongqu-leyuan"),
        ("/donations", "/donations"),
    ],
)
def test_a_secret_in_an_address_is_replaced(path: str, logged: str) -> None:
    wire()
    assert loggable(path) == logged


def test_every_route_keyed_by_a_token_or_a_session_is_covered() -> None:
    """A new route whose path parameter is a token or a session must be registered too."""
    keyed = []
    for route in create_app().routes:
        names = re.findall(r"\{(\w+)(?::\w+)?\}", route.path)
        if not any("token" in name or "session" in name for name in names):
            continue
        sample = re.sub(r"\{\w+(?::\w+)?\}", KEY, route.path)
        assert KEY not in loggable(sample), route.path
        keyed.append(route.path)
    assert len(keyed) >= 5  # the receipt, its API, its official receipt (page, PDF), reset, sandbox


@pytest.mark.usefixtures("demo")
async def test_the_logs_never_hold_the_key(
    client: AppClient, caplog: pytest.LogCaptureFixture
) -> None:
    @get("/donations/{token:str}/boom", sync_to_thread=False)
    def boom(token: FromPath[str]) -> str:
        raise RuntimeError("unexpected")

    client.app.register(boom)
    caplog.set_level(logging.INFO, logger="linju")
    for path in (f"/donations/{KEY}", f"/password/reset/{KEY}", f"/sandbox/checkout/{KEY}"):
        answer = await client.get(path)
        assert answer.status_code < 500, path
    assert (await client.get(f"/donations/{KEY}/boom")).status_code == 500
    logged = [r for r in caplog.records if r.name == "linju.request"]
    assert [r.path for r in logged] == [  # type: ignore[attr-defined]
        f"/donations/{REDACTED}",
        f"/password/reset/{REDACTED}",
        f"/sandbox/checkout/{REDACTED}",
        f"/donations/{REDACTED}/boom",
    ]
    assert any("unhandled error" in r.getMessage() for r in caplog.records)
    ours = [r for r in caplog.records if r.name.startswith("linju")]  # not the test's client
    formatter = logging.Formatter()
    for record in ours:
        assert KEY not in record.getMessage()
        assert KEY not in str(vars(record))
        if record.exc_info:
            assert KEY not in formatter.formatException(record.exc_info)
