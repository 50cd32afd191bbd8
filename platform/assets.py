"""Static files: content-hashed names and a fast path in front of everything else (ADR 0035).

At start-up every file under `platform/static/` is read once into memory and named by its
content (`linju.css` is also `linju.3f2a9c1b.css`); templates link the hashed name through
`static_url("linju.css")`, so a browser or a CDN may keep it for a year: a changed file is a new
name. The fast path answers `GET`/`HEAD /static/<name>` before the request log, the locale, the
address guard, the session, the host and Litestar itself (no cookie read, no database), inside
the security headers only. Anything it does not know (another method, an unknown or hostile
name) goes on through the whole chain, which answers it as it answers any other address.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from linju.platform.resources import package_dir

PREFIX = "/static/"
HASH_LENGTH = 8  # hex digits of the content's SHA-256 in a file's name
IMMUTABLE = b"public, max-age=31536000, immutable"
# The plain name (and a hashed name of an older build) is the current file, kept briefly: pages
# cached elsewhere may still name it, and it changes with the next deploy.
SHORT = b"public, max-age=300"
_HASHED = re.compile(r"^(?P<stem>.+)\.[0-9a-f]{" + str(HASH_LENGTH) + r"}(?P<suffix>\.[^./]+)$")


@dataclass(frozen=True, slots=True)
class StaticFile:
    body: bytes
    content_type: bytes
    etag: bytes
    hashed_name: str


def _content_type(name: str) -> bytes:
    guessed = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if guessed.startswith("text/"):
        guessed += "; charset=utf-8"
    return guessed.encode("latin-1")


def hashed_name(name: str, body: bytes) -> str:
    """`linju.css` → `linju.<8 hex digits of SHA-256>.css` (a name without a suffix: at the end)."""
    digest = hashlib.sha256(body).hexdigest()[:HASH_LENGTH]
    path = Path(name)
    if not path.suffix:
        return f"{name}.{digest}"
    return str(path.with_name(f"{path.stem}.{digest}{path.suffix}"))


class StaticFiles:
    """The files of one folder, read once: their hashed names and the responses for them."""

    def __init__(self, folder: Path) -> None:
        self.files: dict[str, StaticFile] = {}
        for path in sorted(folder.rglob("*")):
            if not path.is_file() or path.name.startswith("."):
                continue
            name = path.relative_to(folder).as_posix()
            body = path.read_bytes()
            digest = hashlib.sha256(body).hexdigest()
            self.files[name] = StaticFile(
                body=body,
                content_type=_content_type(name),
                etag=f'"{digest[:16]}"'.encode("latin-1"),
                hashed_name=hashed_name(name, body),
            )
        # The address of each answer: the hashed name for a year, the plain one briefly.
        self.routes: dict[str, tuple[StaticFile, bytes]] = {}
        for name, file in self.files.items():
            self.routes[PREFIX + file.hashed_name] = (file, IMMUTABLE)
            self.routes[PREFIX + name] = (file, SHORT)

    def url(self, name: str) -> str:
        """The address of `name` (a path under the static folder) with its content's hash.

        An unknown name raises KeyError: a page naming a file that is not there fails its test.
        """
        return PREFIX + self.files[name].hashed_name

    def find(self, path: str) -> tuple[StaticFile, bytes] | None:
        """The file and its caching for a request's (decoded) path, or None.

        Only the exact names read at start-up match, so no path (`..`, encoded slashes, NUL)
        can reach anything else. A hashed name of another build is the current file, briefly.
        """
        found = self.routes.get(path)
        if found is not None:
            return found
        match = _HASHED.match(path[len(PREFIX) :]) if path.startswith(PREFIX) else None
        if match is None:
            return None
        file = self.files.get(match["stem"] + match["suffix"])
        return (file, SHORT) if file is not None else None

    async def respond(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a GET for a known file (HEAD is turned into GET, and its body dropped, by the
        security headers' middleware around this): 200, or 304 to a matching If-None-Match."""
        found = self.find(scope["path"])
        assert found is not None  # the fast path asked first
        file, cache_control = found
        headers = [
            (b"content-type", file.content_type),
            (b"cache-control", cache_control),
            (b"etag", file.etag),
        ]
        if _matches(scope, file.etag):
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        headers.append((b"content-length", str(len(file.body)).encode("latin-1")))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": file.body, "more_body": False})


def _matches(scope: Scope, etag: bytes) -> bool:
    for key, value in scope.get("headers", ()):
        if key == b"if-none-match":
            tags = {tag.strip().removeprefix(b"W/") for tag in value.split(b",")}
            return etag in tags or b"*" in tags
    return False


@lru_cache(maxsize=1)
def static_files() -> StaticFiles:
    """The platform's static files, read on first use (the app reads them as it is made)."""
    return StaticFiles(package_dir("linju.platform") / "static")


def static_url(name: str) -> str:
    """Templates: `{{ static_url("linju.css") }}` → `/static/linju.<hash>.css`."""
    return static_files().url(name)


def static_fast_path(
    files: StaticFiles, secured: Callable[[ASGIApp], ASGIApp]
) -> Callable[[ASGIApp], ASGIApp]:
    """Outermost: a GET or HEAD of a known static file is answered by `files` wrapped only in
    `secured` (the security headers); every other request goes on to `app`."""
    answer = secured(files.respond)

    def wrap(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if (
                scope["type"] == ScopeType.HTTP
                and scope["path"].startswith(PREFIX)
                and scope["method"] in ("GET", "HEAD")
                and files.find(scope["path"]) is not None
            ):
                await answer(scope, receive, send)
            else:
                await app(scope, receive, send)

        return middleware

    return wrap
