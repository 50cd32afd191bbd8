"""Forms' CSRF protection: Litestar's double-submit token, except where no cookie carries any
authority (docs/adr/0036-page-cache-and-origin-check.md).

`PageCsrfMiddleware` is Litestar's `CSRFMiddleware` (the token in a `linju_csrf` cookie and in
each form) with two exceptions for a visitor who carries no private cookie (no staff session,
no household session; the composition root names them):

- a `GET` of a cached public page (`platform.pagecache`) gets no token and no cookie, so every
  visitor's copy of the page is the same bytes and a CDN or the in-process cache may keep it;
- a `POST` of an anonymous form on such a page (the donate form) is checked by where it comes
  from instead: refused (403) when `Sec-Fetch-Site` says `cross-site`, or, without that header,
  when `Origin` names another origin (or `null`); allowed when both are absent (such a request
  is no browser's, or an old one's, and it carries no authority to act for anybody anyway).

Every other form (every staff form, a household's forms, login, and the donate form of a
visitor who is logged in or has a household session) keeps the token. The config is kept in
`app.state` (`config_of`) for the API's header check (`accounts.guards`) and for login and
logout, which drop the cookie.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from litestar.config.csrf import CSRFConfig
from litestar.enums import ScopeType
from litestar.exceptions import PermissionDeniedException
from litestar.middleware.csrf import CSRFMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from linju.platform.i18n import gettext
from linju.platform.kernel.errors import N_
from linju.platform.pagecache import private_cookie

STATE_KEY = "csrf_config"
SAFE_SITES = frozenset({"same-origin", "same-site", "none"})
CROSS_SITE = N_(
    "This form was sent from another site. Open the page on this site and send the form again."
)


def config_of(app: Any) -> CSRFConfig | None:
    """The app's forms' CSRF config (None in an app built without it)."""
    config = app.state.get(STATE_KEY)
    return config if isinstance(config, CSRFConfig) else None


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def origin_of(url: str) -> str:
    """`scheme://host[:port]` of an absolute URL, lower-cased."""
    parts = urlsplit(url.strip())
    return f"{parts.scheme}://{parts.netloc}".lower()


def from_another_site(scope: Scope, own_origins: Iterable[str]) -> bool:
    """Whether a browser says this request comes from a page of another site."""
    site = _header(scope, b"sec-fetch-site")
    if site is not None:
        return site.strip().lower() not in SAFE_SITES
    origin = _header(scope, b"origin")
    if origin is None:
        return False
    host = (_header(scope, b"host") or "").strip().lower()
    allowed = {origin_of(o) for o in own_origins}
    if host:
        allowed |= {f"http://{host}", f"https://{host}"}
    return origin.strip().lower() not in allowed


class PageCsrfMiddleware(CSRFMiddleware):
    """Litestar's CSRF check, with the cached pages' and anonymous forms' exceptions above."""

    def __init__(
        self,
        app: ASGIApp,
        config: CSRFConfig,
        *,
        cached_pages: Iterable[str] = (),
        anonymous_forms: Iterable[str] = (),
        private_cookies: Iterable[str] = (),
        own_origins: Iterable[str] = (),
    ) -> None:
        super().__init__(app, config)
        self.cached_pages = re.compile("|".join(f"(?:{p})" for p in cached_pages) or "(?!)")
        self.anonymous_forms = re.compile("|".join(f"(?:{p})" for p in anonymous_forms) or "(?!)")
        self.private_cookies = frozenset(private_cookies)
        self.own_origins = tuple(own_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP and not private_cookie(
            _header(scope, b"cookie"), self.private_cookies
        ):
            path, method = scope.get("path", ""), scope.get("method")
            if method in ("GET", "HEAD") and self.cached_pages.fullmatch(path):
                await self.app(scope, receive, send)
                return
            if method == "POST" and self.anonymous_forms.fullmatch(path):
                if from_another_site(scope, self.own_origins):
                    raise PermissionDeniedException(gettext(CROSS_SITE))
                await self.app(scope, receive, send)
                return
        await super().__call__(scope, receive, send)
