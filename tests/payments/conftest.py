"""Payment tests talk to the real application in the test's own event loop.

Unlike the shared `client` (which runs the app's lifespan, and on PostgreSQL its connection
pool, on a loop of its own), this client lets a test read the database between requests on
both engines: the app runs without a pool, each query on its own connection.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from linju.platform.app import create_app
from tests.http.conftest import demo

__all__ = ["client", "demo"]


@pytest.fixture
async def client(db: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as c:
        yield c
