"""Who may call a route: the session middleware and the guards (plain functions).

`session_middleware` puts the logged-in `CurrentUser` (or None) in `scope["user"]` for every
request, so a handler reads `request.user` and a template `request.user`. Guards check the role
AND the object in the path: a secretary of 绿景苑 gets 403 on another community's project.

- anonymous on a guarded route → `LoginRequired`: a redirect to /login for pages, a 401 problem
  document under /api;
- logged in without the role for this object → 403 (PermissionDeniedException);
- an object that does not exist → 404.

`require_safe_api_writes` is the app's own guard (every route): an unsafe request under /api
sends a JSON body (else 415), and one that a session cookie authenticates sends the CSRF token
in the `X-CSRF-Token` header too (else 403): a page of another site can make a browser send the
cookie, never that header (docs/adr/0020-private-receipts-and-api-csrf.md).
"""

from __future__ import annotations

from http.cookies import SimpleCookie
from secrets import compare_digest
from typing import Any

from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException, NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware.csrf import CSRF_SECRET_LENGTH, generate_csrf_hash
from litestar.status_codes import HTTP_415_UNSUPPORTED_MEDIA_TYPE
from litestar.types import ASGIApp, Receive, Scope, Send

from linju.platform.accounts.places import places
from linju.platform.accounts.services import CurrentUser
from linju.platform.accounts.sessions import SESSION_COOKIE, user_for_token
from linju.platform.csrf import config_of
from linju.platform.i18n import gettext

Connection = ASGIConnection[Any, Any, Any, Any]


class LoginRequired(NotAuthorizedException):
    """Nobody is logged in; pages redirect to the login form, the API answers 401."""


def session_token(scope: Scope) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            cookies: SimpleCookie = SimpleCookie()
            try:
                cookies.load(value.decode("latin-1"))
            except Exception:
                return None
            if SESSION_COOKIE in cookies:
                return cookies[SESSION_COOKIE].value
    return None


def session_middleware(app: ASGIApp) -> ASGIApp:
    """Load the session's user into `scope["user"]` (None when nobody is logged in)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP and not scope.get("path", "").startswith("/static/"):
            scope["user"] = await user_for_token(session_token(scope))
        await app(scope, receive, send)

    return middleware


def current_user(connection: Connection) -> CurrentUser | None:
    """The logged-in user, or None; set by `session_middleware`."""
    user = connection.scope.get("user")
    return user if isinstance(user, CurrentUser) else None


def logged_in_user(connection: Connection) -> CurrentUser:
    """The logged-in user of a route guarded by `require_login` (or a stricter guard)."""
    user = current_user(connection)
    if user is None:
        raise LoginRequired()
    return user


async def project_ids(slug: str) -> tuple[int, int]:
    """(project id, community id) of the project named by a path, or 404."""
    return await places().project_ids(slug)


async def require_login(connection: Connection, _: BaseRouteHandler) -> None:
    logged_in_user(connection)


async def require_admin(connection: Connection, _: BaseRouteHandler) -> None:
    if not logged_in_user(connection).is_admin:
        raise PermissionDeniedException()


async def require_host_finance(connection: Connection, _: BaseRouteHandler) -> None:
    """The host charity's finance staff (docs/adr/0030): they issue official receipts."""
    if not logged_in_user(connection).is_host_finance:
        raise PermissionDeniedException()


async def require_secretary_of_project(connection: Connection, _: BaseRouteHandler) -> None:
    """The project in the path (`{slug}`) belongs to one of the user's communities."""
    user = logged_in_user(connection)
    _project, community = await project_ids(connection.path_params["slug"])
    if not user.is_secretary_of(community):
        raise PermissionDeniedException()


async def require_secretary_or_admin_of_project(
    connection: Connection, _: BaseRouteHandler
) -> None:
    """A platform admin, or the secretary of the community of the project in the path."""
    user = logged_in_user(connection)
    _project, community = await project_ids(connection.path_params["slug"])
    if not (user.is_admin or user.is_secretary_of(community)):
        raise PermissionDeniedException()


async def require_committee_member_of_project(connection: Connection, _: BaseRouteHandler) -> None:
    """The user holds a seat on the committee of the project in the path (`{slug}`)."""
    user = logged_in_user(connection)
    project, _community = await project_ids(connection.path_params["slug"])
    if not user.is_committee_member_of(project):
        raise PermissionDeniedException()


async def require_steward_of_project(connection: Connection, _: BaseRouteHandler) -> None:
    """The project's secretary or one of its committee members (both see unconfirmed records)."""
    user = logged_in_user(connection)
    project, community = await project_ids(connection.path_params["slug"])
    if not (user.is_secretary_of(community) or user.is_committee_member_of(project)):
        raise PermissionDeniedException()


async def require_secretary_of_community(connection: Connection, _: BaseRouteHandler) -> None:
    """The community in the path (`{community}`, a slug) is one of the user's."""
    user = logged_in_user(connection)
    community_id = await places().community_id(connection.path_params["community"])
    if not user.is_secretary_of(community_id):
        raise PermissionDeniedException()


UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
API_PREFIX = "/api/"


def sends_json(content_type: str | None) -> bool:
    """`application/json`, or a `+json` type, whatever its parameters (`; charset=utf-8`)."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


def _signed_secret(token: str, secret: str) -> str | None:
    """The random part of a CSRF token the app issued (signed with its key), or None."""
    random_part, signature = token[:CSRF_SECRET_LENGTH], token[CSRF_SECRET_LENGTH:]
    if len(random_part) < CSRF_SECRET_LENGTH or not signature:
        return None
    expected = generate_csrf_hash(token=random_part, secret=secret)
    return random_part if compare_digest(signature.encode(), expected.encode()) else None


def csrf_header_matches(connection: Connection) -> bool:
    """The CSRF header holds the token of the CSRF cookie, both issued by this app (double
    submit, as Litestar checks a form's `_csrf_token`)."""
    config = config_of(connection.app)
    if config is None:
        return False
    sent = connection.headers.get(config.header_name) or ""
    cookie = connection.cookies.get(config.cookie_name) or ""
    sent_secret = _signed_secret(sent, config.secret)
    cookie_secret = _signed_secret(cookie, config.secret)
    if sent_secret is None or cookie_secret is None:
        return False
    return compare_digest(sent_secret.encode(), cookie_secret.encode())


async def require_safe_api_writes(connection: Connection, _: BaseRouteHandler) -> None:
    """Under /api, an unsafe request authenticated by the session cookie carries the CSRF
    header (403 otherwise), and every unsafe request declares a JSON body (415 otherwise: a
    form of another site can post `text/plain` without asking, never `application/json`)."""
    if connection.scope.get("method") not in UNSAFE_METHODS:
        return
    if not connection.scope.get("path", "").startswith(API_PREFIX):
        return
    if current_user(connection) is not None and not csrf_header_matches(connection):
        raise PermissionDeniedException(
            gettext("Send the CSRF token of the linju_csrf cookie in the X-CSRF-Token header")
        )
    if not sends_json(connection.headers.get("content-type")):
        raise HTTPException(
            status_code=HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            detail=gettext("Send the body as JSON (Content-Type: application/json)"),
        )
