"""The shell's own routes: the health check and the language switch."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Response, get
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from linju.platform.db import database_is_reachable
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


@get("/lang/{code:str}", tags=["pages"], summary="Choose the language (remembered in a cookie)")
async def choose_language(
    code: FromPath[str],
    next_path: Annotated[str | None, QueryParameter(name="next", max_length=2000)] = None,
) -> Redirect:
    locale = normalise_locale(code, get_settings().default_locale)
    response = Redirect(path=safe_next(next_path), status_code=303)
    response.set_cookie(
        LOCALE_COOKIE,
        locale,
        max_age=ONE_YEAR_SECONDS,
        httponly=True,
        samesite="lax",
        secure=get_settings().secure_cookies,
    )
    return response


ROUTES: list[Any] = [healthz, choose_language]
