"""The shell's own routes: the health check, the language switch and the display mode's
switch (standard or elder, docs/adr/0031), each remembered in a cookie.

Each switch's link carries the page's path (`next`). After a refused form that path is the form's
action, a POST-only route: the switch goes to the nearest path above it that answers a GET (the
form's page, `/p/x/donate` -> `/p/x`), never to a 405 (docs/adr/0023).
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Litestar, Request, Response, get
from litestar.exceptions import MethodNotAllowedException, NotFoundException
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from linju.platform.db import database_is_reachable
from linju.platform.display import MODE_COOKIE, normalise_mode
from linju.platform.i18n import LOCALE_COOKIE, normalise_locale
from linju.platform.settings import get_settings
from linju.platform.web import safe_next

ONE_YEAR_SECONDS = 365 * 24 * 3600


@get(
    "/healthz",
    tags=["operations"],
    summary="Liveness and database reachability",
    responses={
        HTTP_503_SERVICE_UNAVAILABLE: ResponseSpec(
            dict[str, str],
            generate_examples=False,
            description='The database cannot be reached: {"status": "error", "database": "error"}',
        )
    },
)
async def healthz() -> Response[dict[str, str]]:
    if await database_is_reachable():
        return Response({"status": "ok", "database": "ok"}, status_code=HTTP_200_OK)
    return Response(
        {"status": "error", "database": "error"}, status_code=HTTP_503_SERVICE_UNAVAILABLE
    )


def _answers_get(app: Litestar, path: str) -> bool:
    try:
        app.asgi_router.handle_routing(path, "GET")
    except (NotFoundException, MethodNotAllowedException):
        return False
    return True


def gettable_page(app: Litestar, path: str) -> str:
    """`path` (query kept) if a GET there finds a route, else the nearest parent path that does."""
    bare = path.partition("?")[0]
    if _answers_get(app, bare):
        return path
    while bare not in ("", "/"):
        bare = bare.rstrip("/").rpartition("/")[0] or "/"
        if _answers_get(app, bare):
            return bare
    return "/"


def _remember(
    request: Request[Any, Any, Any], cookie: str, value: str, next_path: str | None
) -> Redirect:
    """Back to the page the visitor came from (`next`, only a path on this site, the nearest
    that answers a GET), remembering their choice in a long-lived cookie."""
    target = gettable_page(request.app, safe_next(next_path))
    response = Redirect(path=target, status_code=303)
    response.set_cookie(
        cookie,
        value,
        max_age=ONE_YEAR_SECONDS,
        httponly=True,
        samesite="lax",
        secure=get_settings().secure_cookies,
    )
    return response


@get("/lang/{code:str}", tags=["pages"], summary="Choose the language (remembered in a cookie)")
async def choose_language(
    request: Request[Any, Any, Any],
    code: FromPath[str],
    next_path: Annotated[str | None, QueryParameter(name="next", max_length=2000)] = None,
) -> Redirect:
    locale = normalise_locale(code, get_settings().default_locale)
    return _remember(request, LOCALE_COOKIE, locale, next_path)


@get(
    "/mode/{code:str}",
    tags=["pages"],
    summary="Choose the elder mode (长辈模式) or the standard one (remembered in a cookie)",
)
async def choose_display_mode(
    request: Request[Any, Any, Any],
    code: FromPath[str],
    next_path: Annotated[str | None, QueryParameter(name="next", max_length=2000)] = None,
) -> Redirect:
    return _remember(request, MODE_COOKIE, normalise_mode(code), next_path)


ROUTES: list[Any] = [healthz, choose_language, choose_display_mode]
