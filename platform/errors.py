"""Errors become answers at the edge: problem documents under /api and /webhooks, pages elsewhere.

Domain errors carry English message ids; they are translated here, in the visitor's locale.
Nothing a user does wrong may answer 500: unexpected exceptions are logged with their trace and
answered with the 500 page, without leaking the trace.
"""

from __future__ import annotations

import html
import logging
from http import HTTPStatus
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.utils.scope.state import ScopeState

from linju.platform.i18n import gettext
from linju.platform.kernel.errors import DomainError, ValidationErrors
from linju.platform.secret_paths import loggable
from linju.platform.templating import build_environment

logger = logging.getLogger("linju.errors")

PROBLEM_MEDIA_TYPE = "application/problem+json"
CSRF_COOKIE = "linju_csrf"  # the name platform/app.py gives Litestar's CSRF cookie
MACHINE_PREFIXES = ("/api/", "/webhooks/", "/healthz", "/schema")


def wants_problem_document(request: Request[Any, Any, Any]) -> bool:
    return request.url.path.startswith(MACHINE_PREFIXES)


def problem_response(
    request: Request[Any, Any, Any],
    status: int,
    detail: str,
    title: str | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[dict[str, Any]]:
    """An RFC 9457 problem document."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    if extra:
        body.update(extra)
    return Response(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _csrf_input(request: Request[Any, Any, Any]) -> str:
    """The hidden CSRF input of the header's logout form, as Litestar renders it for a page.

    A request no route matched never passed Litestar's CSRF middleware, so its token is the
    `linju_csrf` cookie's, which is what the middleware would have used.
    """
    token = ScopeState.from_scope(request.scope).csrf_token
    if not isinstance(token, str) or not token:
        token = request.cookies.get(CSRF_COOKIE, "")
    return f'<input type="hidden" name="_csrf_token" value="{html.escape(token)}" />'


def error_page_html(
    status: int, message: str | None = None, request: Request[Any, Any, Any] | None = None
) -> str:
    """The error page's HTML in the visitor's language; 404 and 500 have pages of their own.

    With the request (every error Litestar hands us), the page has the site's whole header:
    the language switch back to the same address and who is logged in (docs/adr/0025). Without
    it (an address refused before routing), the header shows neither.
    """
    name = {404: "errors/404.html", 500: "errors/500.html"}.get(status, "errors/error.html")
    context: dict[str, Any] = {"status": status, "message": message}
    if request is not None:
        context.update(request=request, csrf_input=_csrf_input(request))
    return build_environment().get_template(name).render(**context)


def error_page(
    status: int, message: str | None = None, request: Request[Any, Any, Any] | None = None
) -> Response[str]:
    """The error page in the visitor's language, as a response."""
    return Response(
        error_page_html(status, message, request), status_code=status, media_type=MediaType.HTML
    )


def _validation_messages(exc: ValidationException) -> list[dict[str, Any]]:
    extra = exc.extra if isinstance(exc.extra, list) else []
    return [
        {"key": item.get("key"), "message": item.get("message"), "source": item.get("source")}
        for item in extra
        if isinstance(item, dict)
    ]


def _errors_by_field(messages: list[dict[str, Any]]) -> dict[str, str]:
    """The problem document's `errors` has one shape everywhere: each field at fault (a path or
    query parameter, a header, the body) and its message, as a refused form's fields have.
    Two messages about one field are joined; a message naming no field goes under its source."""
    errors: dict[str, str] = {}
    for item in messages:
        field = str(item.get("key") or item.get("source") or "request")
        message = str(item.get("message") or "")
        errors[field] = f"{errors[field]}; {message}" if field in errors else message
    return errors


def handle_domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    detail = gettext(exc.message, **exc.params)
    if wants_problem_document(request):
        extra: dict[str, Any] = {}
        if isinstance(exc, ValidationErrors):
            extra["errors"] = {field: gettext(msg) for field, msg in exc.problems.items()}
        reasons = getattr(exc, "reasons", None)
        if reasons:
            extra["reasons"] = [gettext(reason) for reason in reasons]
        return problem_response(request, exc.status, detail, extra=extra)
    return error_page(exc.status, detail, request)


def handle_validation_error(
    request: Request[Any, Any, Any], exc: ValidationException
) -> Response[Any]:
    messages = _validation_messages(exc)
    detail = "; ".join(
        f"{m['key']}: {m['message']}" if m.get("key") else str(m["message"]) for m in messages
    ) or str(exc.detail)
    if wants_problem_document(request):
        return problem_response(
            request, exc.status_code, detail, extra={"errors": _errors_by_field(messages)}
        )
    return error_page(
        exc.status_code,
        gettext("The request was not understood: %(detail)s", detail=detail),
        request,
    )


def handle_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    if status >= 500:
        return handle_unexpected(request, exc)
    detail = gettext("Page not found") if isinstance(exc, NotFoundException) else str(exc.detail)
    if wants_problem_document(request):
        return problem_response(request, status, detail, headers=exc.headers)
    response = error_page(status, detail, request)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    logger.exception(
        "unhandled error on %s %s",
        request.method,
        loggable(request.url.path),
        extra={"request_id": request.scope.get("state", {}).get("request_id")},
    )
    if wants_problem_document(request):
        return problem_response(request, 500, "Internal server error")
    return error_page(500, request=request)


EXCEPTION_HANDLERS: dict[Any, Any] = {
    DomainError: handle_domain_error,
    ValidationException: handle_validation_error,
    HTTPException: handle_http_exception,
    Exception: handle_unexpected,
}
