"""Payment tests talk to the real application in the test's own event loop.

Unlike the shared `client` (which runs the app's lifespan, and on PostgreSQL its connection
pool, on a loop of its own), this client lets a test read the database between requests on
both engines: the app runs without a pool, each query on its own connection.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

import httpx
import pytest

from linju.platform.app import create_app
from tests.http.conftest import demo

__all__ = ["client", "demo"]


@asynccontextmanager
async def app_client() -> AsyncIterator[httpx.AsyncClient]:
    """A client of a freshly built app (built now, so it sees the current settings)."""
    transport = httpx.ASGITransport(app=cast(Any, create_app()))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as c:
        yield c


@pytest.fixture
async def client(db: str) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client() as c:
        yield c
