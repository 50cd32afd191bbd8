"""Pages for people with an account: log in and out, passwords, and the admin's pages.

Controllers are thin: they read the form, call one use case, and either redirect (303) or show
the form again with the problems in the visitor's language (422, or 429 when throttled).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, QueryParameter
from litestar.response import Redirect, Template

from linju.platform.accounts import audit, guards, invitations, login, services, sessions
from linju.platform.accounts.places import places
from linju.platform.errors import problem_response, wants_problem_document
from linju.platform.i18n import current_locale, gettext
from linju.platform.kernel.errors import N_, DomainError, ValidationErrors
from linju.platform.settings import get_settings
from linju.platform.web import form_errors, form_page, safe_next

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
AnyRequest = Request[Any, Any, Any]


def _client_address(request: AnyRequest) -> str:
    return request.client.host if request.client else "unknown"


def _set_session_cookie(response: Response[Any], token: str) -> None:
    response.set_cookie(
        sessions.SESSION_COOKIE,
        token,
        max_age=int(sessions.SESSION_LIFETIME.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=get_settings().secure_cookies,
    )


@get("/login", name="login", tags=["accounts"], summary="The login form")
async def login_form(
    next_path: Annotated[str | None, QueryParameter(name="next", max_length=2000)] = None,
) -> Template:
    return form_page("accounts/login.html", next=safe_next(next_path))


@post("/login", tags=["accounts"], summary="Log in (a new session id every time)")
async def login_submit(request: AnyRequest, data: Form) -> Response[Any]:
    email = data.get("email", "")
    next_path = safe_next(data.get("next"))
    try:
        account_id = await login.authenticate(
            email, data.get("password", ""), _client_address(request)
        )
    except DomainError as exc:
        status = 429 if isinstance(exc, login.LoginThrottled) else 422
        return form_page(
            "accounts/login.html",
            status,
            errors=form_errors(exc),
            values={"email": email[:254]},
            next=next_path,
        )
    token = await sessions.start_session(
        account_id, replacing=request.cookies.get(sessions.SESSION_COOKIE)
    )
    response: Response[Any] = Redirect(path=next_path, status_code=303)
    _set_session_cookie(response, token)
    return response


@post("/logout", tags=["accounts"], summary="Log out (the session is deleted)")
async def logout(request: AnyRequest) -> Response[Any]:
    token = request.cookies.get(sessions.SESSION_COOKIE)
    if token:
        await sessions.end_session(token)
    response: Response[Any] = Redirect(path="/", status_code=303)
    response.delete_cookie(sessions.SESSION_COOKIE, path="/")
    return response


@get(
    "/account",
    guards=[guards.require_login],
    tags=["accounts"],
    summary="The logged-in person's account and roles",
)
async def account_page(request: AnyRequest) -> Template:
    return form_page("accounts/account.html", user=guards.logged_in_user(request))


@post(
    "/account/password",
    guards=[guards.require_login],
    tags=["accounts"],
    summary="Change one's password (other sessions end)",
)
async def change_password(request: AnyRequest, data: Form) -> Response[Any]:
    user = guards.logged_in_user(request)
    try:
        await login.change_password(
            user.actor, user.id, data.get("current", ""), data.get("new", "")
        )
    except DomainError as exc:
        return form_page("accounts/account.html", 422, user=user, errors=form_errors(exc))
    # Every session ended, this one too: start a fresh one so the person stays logged in.
    token = await sessions.start_session(user.id)
    response: Response[Any] = Redirect(path="/account?changed=1", status_code=303)
    _set_session_cookie(response, token)
    return response


@get("/password/forgot", tags=["accounts"], summary="Ask for a password reset link")
async def forgot_form() -> Template:
    return form_page("accounts/forgot.html")


@post("/password/forgot", tags=["accounts"], summary="Mail a reset link if the account exists")
async def forgot_submit(data: Form) -> Template:
    await login.request_password_reset(data.get("email", ""), current_locale.get())
    return form_page("accounts/forgot.html", sent=True)


@get("/password/reset/{token:str}", tags=["accounts"], summary="Choose a new password")
async def reset_form(token: FromPath[str]) -> Template:
    valid = await login.token_is_valid(token)
    return form_page("accounts/reset.html", 200 if valid else 410, token=token, valid=valid)


@post("/password/reset/{token:str}", tags=["accounts"], summary="Set the new password")
async def reset_submit(token: FromPath[str], data: Form) -> Response[Any]:
    if data.get("new", "") != data.get("confirm", ""):
        errors = {"confirm": gettext("The two passwords differ")}
        return form_page("accounts/reset.html", 422, token=token, valid=True, errors=errors)
    try:
        await login.reset_password(token, data.get("new", ""))
    except DomainError as exc:
        return form_page(
            "accounts/reset.html", 422, token=token, valid=True, errors=form_errors(exc)
        )
    return Redirect(path="/login?reset=1", status_code=303)


# Admin pages ---------------------------------------------------------------------------------


async def _admin_page(status: int = 200, **context: Any) -> Template:
    return form_page(
        "admin/index.html",
        status,
        communities=await places().communities(),
        accounts=await services.list_accounts(),
        **context,
    )


@get("/admin", guards=[guards.require_admin], tags=["admin"], summary="Communities and people")
async def admin_index() -> Template:
    return await _admin_page()


@post(
    "/admin/communities",
    guards=[guards.require_admin],
    tags=["admin"],
    summary="Create a community",
)
async def admin_create_community(request: AnyRequest, data: Form) -> Response[Any]:
    user = guards.logged_in_user(request)
    try:
        await places().create_community(
            user.actor,
            data.get("slug", "").strip(),
            data.get("name", ""),
            data.get("district", ""),
            data.get("description", ""),
        )
    except DomainError as exc:
        return await _admin_page(422, community_errors=form_errors(exc), community_values=data)
    return Redirect(path="/admin", status_code=303)


@post(
    "/admin/invitations",
    guards=[guards.require_admin],
    tags=["admin"],
    summary="Invite a secretary or a committee member",
)
async def admin_invite(request: AnyRequest, data: Form) -> Response[Any]:
    user = guards.logged_in_user(request)
    role_value = data.get("role", "")
    try:
        role = services.Role(role_value)
    except ValueError:
        role = None
    try:
        if role is None or role is services.Role.ADMIN:
            raise ValidationErrors({"role": N_("Choose secretary or committee member")})
        await invitations.invite(
            user.actor,
            services.NewAccount(
                email=data.get("email", ""),
                display_name=data.get("name", ""),
                role=role,
                community_slug=data.get("community") or None,
                project_slug=data.get("project") or None,
            ),
            current_locale.get(),
        )
    except DomainError as exc:
        return await _admin_page(422, invite_errors=form_errors(exc), invite_values=data)
    return Redirect(path="/admin?invited=1", status_code=303)


@get("/admin/audit", guards=[guards.require_admin], tags=["admin"], summary="The audit log")
async def admin_audit(
    page: Annotated[int, QueryParameter(ge=1, le=100000)] = 1,
) -> Template:
    records = await audit.recent_audit(limit=100, offset=(page - 1) * 100)
    return Template("admin/audit.html", context={"records": records, "page": page})


def login_required_handler(request: AnyRequest, exc: guards.LoginRequired) -> Response[Any]:
    """Pages send the visitor to the login form and back; the API answers 401."""
    if wants_problem_document(request):
        return problem_response(request, 401, gettext("Log in first"))
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return Redirect(path=f"/login?next={quote(target, safe='')}", status_code=303)


EXCEPTION_HANDLERS: dict[Any, Any] = {guards.LoginRequired: login_required_handler}

ROUTES: list[Any] = [
    login_form,
    login_submit,
    logout,
    account_page,
    change_password,
    forgot_form,
    forgot_submit,
    reset_form,
    reset_submit,
    admin_index,
    admin_create_community,
    admin_invite,
    admin_audit,
]
