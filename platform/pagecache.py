"""The public pages residents share, cached: ETag, 304, a CDN's few seconds, and one render for
a burst of readers (docs/adr/0036-page-cache-and-origin-check.md).

`PageCache` (one per app, in `app.state["page_cache"]`) sits inside the locale middleware (the
visitor's language and display mode are set) and before the session, the host and Litestar. For
a `GET` (or `HEAD`) of one of the cached pages (the composition root names them: home, a
community's page, a project's page) from a visitor who carries no private cookie (a staff
session, a household's session, a flash message), it builds the page's key from everything
the page depends on:

- the path and query string, the locale and the display mode (`i18n.current_locale`,
  `display.current_mode`, docs/adr/0031);
- the payment gateway (the sandbox banner), the build (templates, stylesheets, catalogs, code);
- the time, in steps of `TIME_STEP_SECONDS`, and the communities' local date (days left,
  answers late, hearings open or closed);
- the content version (`platform.content_version`): one number the database moves in the same
  transaction as any change to a table a page can show (donations, the ledger and its head,
  updates, the wall, in-kind and offline gifts, spending, disclosures, needs, supports,
  hearings, the host, the projects and communities themselves).

The key's digest is the page's strong ETag; a matching `If-None-Match` is answered `304`
without rendering. Otherwise the rendered page is served from an in-process LRU (by key, for at
most `TTL_SECONDS`); on a miss, one request per key renders it while the others wait for it
(an asyncio lock per key). A response is kept only when it is a `200` that sets no cookie.
Public responses say `Cache-Control: public, max-age=5, stale-while-revalidate=30` and
`Vary: Cookie` (the language and mode are cookies); a cached page's response to a visitor with
a private cookie says `private, no-cache` and is never kept.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import os
import re
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from linju.platform import content_version, display, i18n
from linju.platform.kernel import clock
from linju.platform.resources import package_dir
from linju.platform.settings import get_settings

PUBLIC_CACHE_CONTROL = b"public, max-age=5, stale-while-revalidate=30"
PRIVATE_CACHE_CONTROL = b"private, no-cache"
VARY = b"Cookie"
STATE_KEY = "page_cache"
TIME_STEP_SECONDS = 10
TTL_SECONDS = 10.0
MAX_ENTRIES = 512


@dataclass(frozen=True, slots=True)
class Rendered:
    status: int
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes
    kept_until: float = 0.0

    @property
    def cacheable(self) -> bool:
        return self.status == 200 and not any(name == b"set-cookie" for name, _ in self.headers)


def private_cookie(cookie_header: str | None, private: Iterable[str]) -> bool:
    """The request carries one of the `private` cookies (or cookies that cannot be read)."""
    if not cookie_header:
        return False
    cookies: SimpleCookie = SimpleCookie()
    try:
        cookies.load(cookie_header)
    except CookieError:
        return True
    return any(name in cookies for name in private)


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """`If-None-Match` names `etag` (weak comparison, as RFC 9110 asks of it) or is `*`."""
    if not if_none_match:
        return False
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == etag:
            return True
    return False


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


class PageCache:
    """The cache and its single flight, for one app; `renders` counts the pages it rendered."""

    def __init__(
        self,
        *,
        pages: Iterable[str],
        private_cookies: Iterable[str],
        build: str,
        max_entries: int = MAX_ENTRIES,
    ) -> None:
        self.app: ASGIApp | None = None
        self.pages = re.compile("|".join(f"(?:{page})" for page in pages))
        self.private_cookies = frozenset(private_cookies)
        self.build = build
        # The content version, read once for the requests asking together (`content_version`).
        self.reader = content_version.Reader()
        self.max_entries = max_entries
        self.renders = 0
        self._entries: OrderedDict[str, Rendered] = OrderedDict()
        self._flights: dict[str, tuple[asyncio.Lock, list[int]]] = {}

    def wrap(self, app: ASGIApp) -> PageCache:
        """Put the cache in front of `app` (the session, the host and Litestar)."""
        self.app = app
        return self

    async def key(self, scope: Scope) -> str | None:
        """The page's key (its ETag), or None when the content version cannot be read."""
        try:
            version = await self.reader()
        except Exception:  # no version row yet (a database not migrated): nothing is cached
            return None
        if version is None:
            return None
        now = clock.utc_now()
        parts = (
            scope.get("path", ""),
            scope.get("query_string", b"").decode("latin-1"),
            i18n.current_locale.get(),
            display.current_mode.get(),
            get_settings().payment_gateway,
            self.build,
            str(int(now.timestamp()) // TIME_STEP_SECONDS),
            clock.community_date(now).isoformat(),
            str(version),
        )
        digest = hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()[:32]
        return f'"{digest}"'

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.app is not None, "PageCache.wrap(app) first"
        if (
            scope["type"] != ScopeType.HTTP
            or scope.get("method") != "GET"
            or not self.pages.fullmatch(scope.get("path", ""))
        ):
            await self.app(scope, receive, send)
            return
        if private_cookie(_header(scope, b"cookie"), self.private_cookies):
            await self.app(scope, receive, _private(send))
            return
        key = await self.key(scope)
        if key is None:
            await self.app(scope, receive, send)
            return
        public = [
            (b"etag", key.encode("latin-1")),
            (b"cache-control", PUBLIC_CACHE_CONTROL),
            (b"vary", VARY),
        ]
        if etag_matches(_header(scope, b"if-none-match"), key):
            await send({"type": "http.response.start", "status": 304, "headers": public})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        page = await self._page(key, scope, receive)
        headers = [*page.headers, *public] if page.cacheable else list(page.headers)
        await send({"type": "http.response.start", "status": page.status, "headers": headers})
        await send({"type": "http.response.body", "body": page.body, "more_body": False})

    def _fresh(self, key: str) -> Rendered | None:
        page = self._entries.get(key)
        if page is None:
            return None
        if page.kept_until < time.monotonic():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return page

    async def _page(self, key: str, scope: Scope, receive: Receive) -> Rendered:
        """The page for `key`: kept, or rendered once however many ask for it at the same time."""
        page = self._fresh(key)
        if page is not None:
            return page
        lock, waiting = self._flights.setdefault(key, (asyncio.Lock(), [0]))
        waiting[0] += 1
        try:
            async with lock:
                page = self._fresh(key)
                if page is not None:
                    return page
                page = await self._render(scope, receive)
                if page.cacheable:
                    self._keep(key, page)
                return page
        finally:
            waiting[0] -= 1
            if not waiting[0]:
                self._flights.pop(key, None)

    def _keep(self, key: str, page: Rendered) -> None:
        self._entries[key] = Rendered(
            page.status, page.headers, page.body, time.monotonic() + TTL_SECONDS
        )
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    async def _render(self, scope: Scope, receive: Receive) -> Rendered:
        started: dict[str, Any] = {}
        body: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                started.update(message)
            elif message["type"] == "http.response.body":
                body.append(message.get("body", b""))

        assert self.app is not None
        await self.app(scope, receive, capture)
        self.renders += 1
        headers = tuple((bytes(name), bytes(value)) for name, value in started.get("headers", []))
        return Rendered(int(started.get("status", 500)), headers, b"".join(body))


def _private(send: Send) -> Send:
    """Say that a cached page's answer to a visitor with a private cookie is theirs alone."""

    async def send_private(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            if not any(name.lower() == b"cache-control" for name, _ in headers):
                headers.append((b"cache-control", PRIVATE_CACHE_CONTROL))
            headers.append((b"vary", VARY))
            message = {**message, "headers": headers}
        await send(message)

    return send_private


# The build: what the running code renders pages with. A deploy may name it (LINJU_BUILD, e.g.
# the commit); otherwise it is the digest of the code folders' files that shape a page.
BUILD_ENV = "LINJU_BUILD"
_BUILD_PACKAGES = ("linju.platform", "linju.projects", "linju.payments", "linju.templates")
_BUILD_SUFFIXES = frozenset({".py", ".html", ".css", ".po", ".mo", ".svg", ".png", ".ico"})


def current_build() -> str:
    """LINJU_BUILD when set, else the digest of the installed code (computed once)."""
    return os.environ.get(BUILD_ENV) or _code_digest()


@functools.cache
def _code_digest() -> str:
    digest = hashlib.sha256()
    for package in _BUILD_PACKAGES:
        root = package_dir(package)
        for path in sorted(root.rglob("*")):
            if path.suffix in _BUILD_SUFFIXES and path.is_file():
                digest.update(f"{package}/{path.relative_to(root)}".encode("utf-8", "replace"))
                digest.update(b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]
