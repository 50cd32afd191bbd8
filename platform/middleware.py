"""ASGI middleware: one structured log line per request with its id, the visitor's locale, the
security headers (with HEAD answered wherever GET is), and the address's guard (no NUL, no
broken UTF-8 in a path or a query string)."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from http import HTTPStatus
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import unquote_to_bytes

import orjson
from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPResponseStartEvent, Message, Receive, Scope, Send

from linju.platform import display, i18n
from linju.platform.errors import MACHINE_PREFIXES, PROBLEM_MEDIA_TYPE, error_page_html
from linju.platform.kernel.errors import N_
from linju.platform.kernel.inputs import readable, unreadable
from linju.platform.secret_paths import loggable

request_logger = logging.getLogger("linju.request")
REQUEST_ID_HEADER = b"x-request-id"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def request_log_middleware(app: ASGIApp) -> ASGIApp:
    """Give every request an id (kept from a proxy's X-Request-ID when it is sane) and log it."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        incoming = _header(scope, REQUEST_ID_HEADER)
        request_id = incoming if incoming and _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status_holder: dict[str, int] = {"status": 500}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER, request_id.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            request_logger.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": scope.get("method"),
                    "path": loggable(scope.get("path", "")),
                    "status": status_holder["status"],
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )

    return middleware


UNREADABLE_ADDRESS = N_(
    "The address holds characters that cannot be read (a NUL byte or broken UTF-8)"
)
ADDRESS_TOO_LONG = N_("The address is too long")
MAX_SEGMENT_BYTES = 255  # no name of ours is longer (a file's name cannot be, on most disks)


def _readable_bytes(encoded: bytes) -> bool:
    """Percent-decoded, `encoded` is UTF-8 without a NUL."""
    decoded = unquote_to_bytes(encoded)
    if b"\x00" in decoded:
        return False
    try:
        decoded.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def address_readable(scope: Scope) -> bool:
    """The request's path and query string decode to text with no NUL and no broken UTF-8.

    The path is judged from its raw bytes when the server gives them (servers decode the path
    leniently, turning a broken byte into U+FFFD), else from the decoded path.
    """
    raw_path = scope.get("raw_path")
    if isinstance(raw_path, bytes) and not _readable_bytes(raw_path):
        return False
    if unreadable(scope.get("path", "")):
        return False
    return _readable_bytes(scope.get("query_string", b""))


def address_too_long(scope: Scope) -> bool:
    """A segment of the path is longer than any name the app has."""
    parts = scope.get("path", "").split("/")
    return any(len(part.encode("utf-8", "replace")) > MAX_SEGMENT_BYTES for part in parts)


def url_guard_middleware(app: ASGIApp) -> ASGIApp:
    """Refuse, before anything is routed, a path or query string holding a NUL byte or broken
    UTF-8 (400), or a path segment longer than any name (414): a problem document under /api/
    and /webhooks/, the error page elsewhere (in the visitor's language: this runs inside the
    locale middleware)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        if not address_readable(scope):
            await _refuse(scope, send, 400, i18n.gettext(UNREADABLE_ADDRESS))
        elif address_too_long(scope):
            await _refuse(scope, send, 414, i18n.gettext(ADDRESS_TOO_LONG))
        else:
            await app(scope, receive, send)

    return middleware


async def _refuse(scope: Scope, send: Send, status: int, detail: str) -> None:
    """Answer the request with `status` before Litestar sees it."""
    path = scope.get("path", "")
    if path.startswith(MACHINE_PREFIXES):
        document = {
            "type": "about:blank",
            "title": HTTPStatus(status).phrase,
            "status": status,
            "detail": detail,
            "instance": readable(path)[:MAX_SEGMENT_BYTES],
        }
        body = json.dumps(document, ensure_ascii=False).encode("utf-8")
        media_type = PROBLEM_MEDIA_TYPE
    else:
        body = error_page_html(status, detail).encode("utf-8")
        media_type = "text/html; charset=utf-8"
    headers = [
        (b"content-type", media_type.encode("latin-1")),
        (b"content-length", str(len(body)).encode("latin-1")),
    ]
    start: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": status,
        "headers": headers,
    }
    await send(start)
    await send({"type": "http.response.body", "body": body, "more_body": False})


def content_security_policy(form_targets: tuple[str, ...] = ()) -> str:
    """No script at all, styles only from our stylesheets, no framing; forms may post to us and
    to the configured payment gateway's checkout (a form's redirect there is a form action)."""
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'none'",
            "style-src 'self'",
            "img-src 'self' data:",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            "form-action " + " ".join(("'self'", *form_targets)),
        )
    )


def security_headers_middleware(https: bool, form_targets: tuple[str, ...] = ()) -> Any:
    """Add the security headers to every response (a route's own, stricter policy wins), and
    answer HEAD wherever GET answers: the GET response's status and headers, no body."""
    headers = [
        (b"content-security-policy", content_security_policy(form_targets).encode("latin-1")),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
        (b"x-frame-options", b"DENY"),
    ]
    if https:
        headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))

    def wrap(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP:
                await app(scope, receive, send)
                return
            head = scope["method"] == "HEAD"
            if head:
                scope = {**scope, "method": "GET"}

            async def send_secured(message: Message) -> None:
                if message["type"] == "http.response.start":
                    present = {name.lower() for name, _ in message.get("headers", [])}
                    extra = [(name, value) for name, value in headers if name not in present]
                    message = {**message, "headers": [*message.get("headers", []), *extra]}
                elif head and message["type"] == "http.response.body":
                    message = {**message, "body": b""}
                await send(message)

            await app(scope, receive, send_secured)

        return middleware

    return wrap


def locale_middleware(default_locale: str) -> Any:
    """Set the request's locale and display mode (standard or elder, docs/adr/0031) from the
    visitor's remembered choices (two cookies), once per request."""

    def factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP:
                await app(scope, receive, send)
                return
            chosen = mode = None
            cookie_header = _header(scope, b"cookie")
            if cookie_header:
                cookies: SimpleCookie = SimpleCookie()
                try:
                    cookies.load(cookie_header)
                except Exception:
                    cookies = SimpleCookie()
                if i18n.LOCALE_COOKIE in cookies:
                    chosen = cookies[i18n.LOCALE_COOKIE].value
                if display.MODE_COOKIE in cookies:
                    mode = cookies[display.MODE_COOKIE].value
            token = i18n.current_locale.set(i18n.normalise_locale(chosen, default_locale))
            mode_token = display.current_mode.set(display.normalise_mode(mode))
            try:
                await app(scope, receive, send)
            finally:
                display.current_mode.reset(mode_token)
                i18n.current_locale.reset(token)

        return middleware

    return factory


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line, with the request fields when the record carries them."""

    FIELDS = ("request_id", "method", "path", "status", "duration_ms")

    def __init__(self) -> None:
        super().__init__()
        self._second = -1
        self._stamp = ""

    def _timestamp(self, record: logging.LogRecord) -> str:
        """The record's time to the second, formatted once a second (a line per request)."""
        second = int(record.created)
        if second != self._second:
            self._stamp = self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z")
            self._second = second
        return self._stamp

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": self._timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in self.FIELDS:
            if hasattr(record, field):
                payload[field] = getattr(record, field)
        if record.exc_info:
            payload["trace"] = self.formatException(record.exc_info)
        return orjson.dumps(payload, default=str).decode("utf-8")


def configure_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLogFormatter())
    root = logging.getLogger("linju")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
