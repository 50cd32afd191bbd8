"""The host charity's admin page, and the footer's host on every page (ADR 0027).

Thin: the form is read and saved by `services.host`; a refused form comes back with each
message beside its field (422) and nothing saved.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.enums import ScopeType
from litestar.response import Template
from litestar.types import ASGIApp, Receive, Scope, Send

from linju.platform.accounts import guards
from linju.platform.web import Page, SubmittedForm
from linju.projects.core.read import host_details
from linju.projects.core.services import host as host_service

AnyRequest = Request[Any, Any, Any]
# Requests whose answers are no page: they never show the footer, so they never read the host.
_NO_PAGE = ("/static/", "/api/", "/webhooks/", "/healthz", "/schema")


def host_middleware(app: ASGIApp) -> ASGIApp:
    """Put the host charity (or None) in `scope["host"]` for every page: base.html's footer
    names it and its credit code."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP and not scope.get("path", "").startswith(_NO_PAGE):
            scope["host"] = await host_details()  # type: ignore[typeddict-unknown-key]
        await app(scope, receive, send)

    return middleware


def _host_page() -> Page:
    async def context() -> dict[str, Any]:
        details = await host_details()
        return {"host_initial": host_service.host_form_values(details), "saved_host": details}

    return Page("admin/host.html", context)


@get("/admin/host", guards=[guards.require_admin], tags=["admin"], summary="The host charity")
async def host_form() -> Template:
    return await _host_page().show()


@post("/admin/host", guards=[guards.require_admin], tags=["admin"], summary="Save the host")
async def host_submit(request: AnyRequest) -> Response[Any]:
    user = guards.logged_in_user(request)

    async def save(form: SubmittedForm) -> str:
        details = host_service.host_from_form(
            {name: form.text(name) for name in host_service.HOST_FIELDS}
        )
        await host_service.save_host(user.actor, details)
        return "/admin/host?saved=1"

    return await _host_page().submit(request, "host", save)


ROUTES: list[Any] = [host_form, host_submit]
