"""The one way tests drive the app over HTTP: the real app, its lifespan run, in the test's loop.

`app_client()` builds the app now (so it sees the current settings), enters its lifespan (the
same `Litestar.lifespan()` the ASGI lifespan protocol enters: on PostgreSQL it opens the
connection pool) and hands back an HTTP client that talks to it in process. The `client`
fixture of tests/conftest.py is this, on an empty database; variants (another gateway, a bigger
pool opened first, writes made before the app starts) use the fixture or this function.

The app runs on the test's own event loop, not in a thread of its own as Litestar's
AsyncTestClient runs it: a connection pool belongs to the loop that opened it, so only then can
a test read and write the database directly between requests on both engines.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

import httpx
from litestar import Litestar

from linju.platform.app import create_app

BASE_URL = "http://testserver.local"  # tests/conftest.py sets LINJU_BASE_URL to it


class AppClient(httpx.AsyncClient):
    """An httpx client of one running app (`app`), which follows redirects unless told not to."""

    def __init__(self, app: Litestar) -> None:
        super().__init__(
            transport=httpx.ASGITransport(app=cast(Any, app)),
            base_url=BASE_URL,
            headers={"user-agent": "testclient"},
            follow_redirects=True,
        )
        self.app = app


@asynccontextmanager
async def app_client() -> AsyncIterator[AppClient]:
    """A client of a freshly built app whose lifespan runs for as long as the client is open."""
    app = create_app()
    async with _lifespan_running(app), AppClient(app) as client:
        yield client


@asynccontextmanager
async def _lifespan_running(app: Litestar) -> AsyncIterator[None]:
    """The app's lifespan, entered and left by a task of its own on this loop.

    An ASGI server runs the lifespan in one task from start to end; so must a test, because
    pytest-asyncio sets an async fixture up and tears it down in different tasks, and the
    lifespan's cancel scopes may only be left by the task that entered them.
    """
    started = asyncio.Event()
    stop = asyncio.Event()

    async def run() -> None:
        async with app.lifespan():
            started.set()
            await stop.wait()

    lifespan = asyncio.create_task(run())
    startup = asyncio.create_task(started.wait())
    await asyncio.wait({lifespan, startup}, return_when=asyncio.FIRST_COMPLETED)
    if not started.is_set():
        startup.cancel()
        await lifespan  # raises what failed at startup
        raise RuntimeError("the app's lifespan ended before its startup completed")
    try:
        yield
    finally:
        stop.set()
        await lifespan
