"""Pages for people with an account: log in and out, passwords, and the admin's pages.

Controllers are thin: each form goes through `platform.web.Page.submit`, which calls one use
case and either redirects (303) or shows the form again with the problems in the visitor's
language (422, or 429 when throttled).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from litestar import Request, Response, get, post
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from linju.platform.accounts import audit, guards, invitations, login, services, sessions
from linju.platform.accounts.places import places
from linju.platform.csrf import config_of
from linju.platform.errors import problem_response, wants_problem_document
from linju.platform.i18n import current_locale, gettext
from linju.platform.kernel.errors import N_, ValidationErrors
from linju.platform.settings import get_settings
from linju.platform.web import Page, SubmittedForm, safe_next, tell

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


def _drop_csrf_cookie(request: AnyRequest, response: Response[Any]) -> None:
    """At login and logout the CSRF token changes: the cookie is deleted, and the next page
    shown sets a new one, so a token seen before (in a page, or set by someone else) is refused
    after. Forms rendered from then on carry the new token."""
    config = config_of(request.app)
    if config is not None:
        response.delete_cookie(
            config.cookie_name, path=config.cookie_path, domain=config.cookie_domain
        )


@get("/login", name="login", tags=["accounts"], summary="The login form")
async def login_form(
    next_path: Annotated[str | None, QueryParameter(name="next", max_length=2000)] = None,
) -> Template:
    asked = next_path if next_path and safe_next(next_path) == next_path else ""
    return await Page("accounts/login.html", {"next": asked}).show()


async def _landing(account_id: int, asked: str) -> str:
    """The page a guarded route sent the visitor from (`next`, when a safe local path), or else
    their own home: /admin, /secretary or /committee, /account with several roles."""
    if asked and safe_next(asked) == asked:
        return asked
    user = await services.load_user(account_id)
    return user.home if user is not None else "/account"


@post("/login", tags=["accounts"], summary="Log in (a new session id every time)")
async def login_submit(request: AnyRequest) -> Response[Any]:
    async def log_in(form: SubmittedForm) -> Response[Any]:
        account_id = await login.authenticate(
            form.text("email"), form.text("password"), _client_address(request)
        )
        token = await sessions.start_session(
            account_id, replacing=request.cookies.get(sessions.SESSION_COOKIE)
        )
        response: Response[Any] = Redirect(
            path=await _landing(account_id, form.text("next")), status_code=303
        )
        _set_session_cookie(response, token)
        _drop_csrf_cookie(request, response)
        return response

    return await Page("accounts/login.html").submit(request, "login", log_in)


@post("/logout", tags=["accounts"], summary="Log out (the session is deleted)")
async def logout(request: AnyRequest) -> Response[Any]:
    token = request.cookies.get(sessions.SESSION_COOKIE)
    if token:
        await sessions.end_session(token)
    response: Response[Any] = Redirect(path="/", status_code=303)
    response.delete_cookie(sessions.SESSION_COOKIE, path="/")
    _drop_csrf_cookie(request, response)
    return response


def _account_page(request: AnyRequest) -> Page:
    return Page("accounts/account.html", {"user": guards.logged_in_user(request)})


@get(
    "/account",
    guards=[guards.require_login],
    tags=["accounts"],
    summary="The logged-in person's account and roles",
)
async def account_page(request: AnyRequest) -> Template:
    return await _account_page(request).show()


@post(
    "/account/password",
    guards=[guards.require_login],
    tags=["accounts"],
    summary="Change one's password (other sessions end)",
)
async def change_password(request: AnyRequest) -> Response[Any]:
    user = guards.logged_in_user(request)

    async def change(form: SubmittedForm) -> Response[Any]:
        await login.change_password(
            user.actor, user.id, form.text("current"), form.text("new"), _client_address(request)
        )
        # Every session ended, this one too: start a fresh one so the person stays logged in.
        token = await sessions.start_session(user.id)
        tell(request, N_("Your password was changed."))
        response: Response[Any] = Redirect(path="/account", status_code=303)
        _set_session_cookie(response, token)
        return response

    return await _account_page(request).submit(request, "password", change)


FORGOT = Page("accounts/forgot.html")


@get("/password/forgot", tags=["accounts"], summary="Ask for a password reset link")
async def forgot_form() -> Template:
    return await FORGOT.show()


@post("/password/forgot", tags=["accounts"], summary="Mail a reset link if the account exists")
async def forgot_submit(request: AnyRequest) -> Response[Any]:
    async def send(form: SubmittedForm) -> Response[Any]:
        await login.request_password_reset(
            form.text("email"), _client_address(request), current_locale.get()
        )
        return await FORGOT.show(sent=True)

    return await FORGOT.submit(request, "forgot", send)


def _reset_page(token: str, valid: bool = True) -> Page:
    return Page("accounts/reset.html", {"token": token, "valid": valid})


@get("/password/reset/{token:str}", tags=["accounts"], summary="Choose a new password")
async def reset_form(token: FromPath[str]) -> Template:
    valid = await login.token_is_valid(token)
    return await _reset_page(token, valid).show(200 if valid else 410)


@post("/password/reset/{token:str}", tags=["accounts"], summary="Set the new password")
async def reset_submit(request: AnyRequest, token: FromPath[str]) -> Response[Any]:
    async def reset(form: SubmittedForm) -> str:
        if form.text("new") != form.text("confirm"):
            raise ValidationErrors({"confirm": N_("The two passwords differ")})
        await login.reset_password(token, form.text("new"))
        tell(request, N_("Your new password is saved: log in with it."))
        return "/login"

    return await _reset_page(token).submit(request, "reset", reset)


# Admin pages ---------------------------------------------------------------------------------


async def _admin_context() -> dict[str, Any]:
    return {"communities": await places().communities(), "accounts": await services.list_accounts()}


ADMIN = Page("admin/index.html", _admin_context)


@get("/admin", guards=[guards.require_admin], tags=["admin"], summary="Communities and people")
async def admin_index() -> Template:
    return await ADMIN.show()


@post(
    "/admin/communities",
    guards=[guards.require_admin],
    tags=["admin"],
    summary="Create a community",
)
async def admin_create_community(request: AnyRequest) -> Response[Any]:
    user = guards.logged_in_user(request)

    async def create(form: SubmittedForm) -> str:
        await places().create_community(
            user.actor,
            form.text("slug").strip(),
            form.text("name"),
            form.text("district"),
            form.text("description"),
        )
        tell(request, N_("The community was created."))
        return "/admin"

    return await ADMIN.submit(request, "community", create)


def _role(value: str) -> services.Role:
    """Secretary, committee member or host finance: admins are made on the command line only."""
    try:
        role = services.Role(value)
    except ValueError:
        role = services.Role.ADMIN
    if role is services.Role.ADMIN:
        raise ValidationErrors({"role": N_("Choose secretary, committee member or host finance")})
    return role


@post(
    "/admin/invitations",
    guards=[guards.require_admin],
    tags=["admin"],
    summary="Invite a secretary or a committee member",
)
async def admin_invite(request: AnyRequest) -> Response[Any]:
    user = guards.logged_in_user(request)

    async def invite(form: SubmittedForm) -> str:
        new = services.NewAccount(
            email=form.text("email"),
            display_name=form.text("name"),
            role=_role(form.text("role")),
            community_slug=form.text("community") or None,
            project_slug=form.text("project") or None,
        )
        await invitations.invite(
            user.actor, new, current_locale.get(), add_seat=form.checked("add_seat")
        )
        tell(request, N_("The invitation was sent."))
        return "/admin"

    return await ADMIN.submit(request, "invite", invite)


HOLDS = {"yes": True, "no": False}


@post(
    "/admin/finance",
    guards=[guards.require_admin],
    tags=["admin"],
    summary="Give or take away the host finance role (official receipts, docs/adr/0030)",
)
async def admin_host_finance(request: AnyRequest) -> Response[Any]:
    user = guards.logged_in_user(request)

    def form_name(form: SubmittedForm) -> str:
        return f"finance-{form.text('account')}"

    async def change(form: SubmittedForm) -> str:
        holds = HOLDS.get(form.text("holds"))
        if holds is None:
            form.refuse("holds", N_("Choose to give or to take away the role"))
        changed = await services.set_host_finance(user.actor, form.text("email"), holds)
        if not changed:
            tell(request, N_("Nothing changed: the role was already so."))
        elif holds:
            tell(request, N_("%(email)s is now host finance."), email=form.text("email"))
        else:
            tell(request, N_("%(email)s is no longer host finance."), email=form.text("email"))
        return "/admin"

    # The form's fields are hidden: a refusal is said at the start of the form, not beside them.
    return await ADMIN.submit(request, form_name, change, fields={"email": "", "holds": ""})


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
# A password reset link's path is its key (platform.secret_paths: never logged).
SECRET_PATHS = (r"/password/reset/([^/]+)(?:/.*)?",)

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
    admin_host_finance,
    admin_audit,
]
