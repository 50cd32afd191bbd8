"""HTTP tests talk to the real application (routes, middleware, lifespan) in process."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from litestar.testing import AsyncTestClient

from linju.platform.app import create_app


@pytest.fixture
async def client(db: str) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    async with AsyncTestClient(app=create_app(), base_url="http://testserver.local") as test_client:
        yield test_client


@pytest.fixture
async def demo(db: str) -> None:
    from linju.projects.demo import load_demo

    assert await load_demo()
