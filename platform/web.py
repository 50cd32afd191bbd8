"""What every area's routes share for people's forms: one way to read a form, run its action and
answer, and safe redirects.

A form lives on a `Page` (a template and what it shows). `Page.show()` renders it; `Page.submit()`
reads the posted form (URL-encoded or multipart), runs the caller's action and answers with the
caller's redirect (a path: 303) or response. When the action raises a `DomainError` (a refused
rule, `ValidationErrors` naming fields, a conflict), the same page is shown again as HTML, with
the error's status (422 for bad input, 409, 404, 429...), the values as sent, an error summary at
the top of the page linking to each field, and each message beside its field. Templates draw
forms with the macros of `templates/partials/forms.html`, which take a `FormState`
(`form_state("name")` in a template) so that ids, values and messages always agree.

Controllers stay thin by leaving the plumbing here (docs/adr/0011-house-plan.md).

Forms are read one way too (`EdgeRequest`, the app's request class, so Litestar's CSRF check
reads them the same way): a URL-encoded body's broken UTF-8 becomes lone surrogates, which
`SubmittedForm` then finds with NUL bytes; the page answers with the form again and the message
beside the field, and the action never runs (docs/adr/0017-hostile-input.md).
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NoReturn, TypeVar
from urllib.parse import parse_qsl

from litestar import MediaType, Request, Response
from litestar.datastructures import FormMultiDict, UploadFile
from litestar.enums import RequestEncodingType
from litestar.middleware.session.client_side import CookieBackendConfig
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from litestar.types import Empty
from litestar.utils.scope.state import ScopeState

from linju.platform.i18n import gettext
from linju.platform.kernel.errors import N_, DomainError, ValidationErrors
from linju.platform.kernel.inputs import (
    UNREADABLE_TEXT,
    InputRefused,
    calendar_day,
    read_json,
    readable,
    unreadable,
)

CSRF_FIELD = "_csrf_token"
T = TypeVar("T")
FLASH_COOKIE = "linju_flash"
FLASH_SECONDS = 300
CONFIRMED_FIELD = "confirmed"


def flash_cookie(secret_key: str, *, secure: bool) -> CookieBackendConfig:
    """The cookie that carries what an action did to the page its redirect lands on (ADR 0024).

    Litestar's client-side session (AES-GCM, so the browser can neither read nor forge it), used
    for nothing else: set on the redirect, emptied (and so deleted) by the next page that shows
    it, and worth nothing after `FLASH_SECONDS`. The API and webhooks never touch it.
    """
    key = hashlib.sha256(b"linju flash cookie\0" + secret_key.encode("utf-8")).digest()
    return CookieBackendConfig(
        secret=key,
        key=FLASH_COOKIE,
        max_age=FLASH_SECONDS,
        secure=secure,
        httponly=True,
        samesite="lax",
        exclude=["^/api/", "^/webhooks/", "^/static/", "^/healthz"],
    )


def tell(request: Request[Any, Any, Any], message: str, **params: Any) -> None:
    """Say in words, on the page the redirect lands on, what the person's action did: one line
    in their language (a message id and its parameters), shown once by base.html."""
    flash(request, gettext(message, **params), category="done")


def safe_next(next_path: str | None) -> str:
    """Only paths on this site: never an open redirect to another host."""
    if not next_path or not next_path.startswith("/") or next_path.startswith("//"):
        return "/"
    if "\\" in next_path or any(ord(ch) < 32 for ch in next_path):
        return "/"
    return next_path


def confirmed(form: SubmittedForm) -> bool:
    """Whether the form came from an irreversible action's confirmation page (ADR 0024): only
    that page renders the hidden `confirmed=yes`; without it the action does nothing but show
    its confirmation page."""
    return form.text(CONFIRMED_FIELD) == "yes"


@dataclass(frozen=True, slots=True)
class Confirmation:
    """An irreversible action's confirmation page (`templates/partials/confirm.html`): where its
    button posts, the page "back" returns to, and what the original form carried, posted again
    unchanged as hidden fields."""

    action: str
    back: str
    carried: Mapping[str, str] = field(default_factory=dict)


def form_errors(exc: DomainError) -> dict[str, str]:
    """A domain error as translated messages per field ("" for the form as a whole)."""
    if isinstance(exc, ValidationErrors):
        return {name: gettext(message) for name, message in exc.problems.items()}
    return {"": gettext(exc.message, **exc.params)}


@dataclass(frozen=True, slots=True)
class FormState:
    """One form of a page as its template draws it: the values to fill in, the problems to show.

    `name` tells a page's forms apart and makes their ids: `form-<name>` for the form,
    `f-<name>-<field>` for a field (what the error summary links to), `e-<name>-<field>` for the
    message beside it.
    """

    name: str
    values: Mapping[str, Any] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)  # a field's name → its message
    messages: tuple[str, ...] = ()  # about the form as a whole, e.g. every reason for a refusal
    links: Mapping[str, str] = field(default_factory=dict)  # a message → where it is fixed

    @property
    def form_id(self) -> str:
        return f"form-{self.name}"

    def id(self, name: str) -> str:
        return f"f-{self.name}-{name}"

    def error_id(self, name: str) -> str:
        return f"e-{self.name}-{name}"

    def value(self, name: str) -> str:
        value = self.values.get(name)
        return "" if value is None else str(value)

    def error(self, name: str) -> str:
        return self.errors.get(name, "")

    @property
    def failed(self) -> bool:
        return bool(self.errors or self.messages)

    def summary(self) -> list[tuple[str, str]]:
        """(anchor, message) for the error summary: the form's own messages first (no anchor),
        then each field's, linking to the field."""
        return [("", m) for m in self.messages] + [(self.id(n), m) for n, m in self.errors.items()]


class EdgeRequest(Request[Any, Any, Any]):
    """The app's request: forms are read strictly, never into a 500.

    A URL-encoded body is decoded as UTF-8 with its broken bytes kept as lone surrogates (Litestar
    would turn them into U+FFFD silently), so `SubmittedForm` names the field that held them; a
    multipart part that is not text in its declared charset (browsers never send one) is a 400.
    """

    async def form(self) -> FormMultiDict:
        content_type, _ = self.content_type
        state = ScopeState.from_scope(self.scope)
        if content_type == RequestEncodingType.URL_ENCODED and state.form is Empty:
            state.form = _url_encoded(await self.body())
        try:
            return await super().form()
        except (UnicodeDecodeError, LookupError):
            raise UnreadableForm(N_("The form holds a part that cannot be read as text")) from None


class UnreadableForm(DomainError):
    """A form the browser could not have sent: answered 400 (the error page, or a problem)."""

    status = 400
    title = "Bad Request"


def _url_encoded(body: bytes) -> dict[str, Any]:
    pairs = parse_qsl(
        body.decode("latin-1"), keep_blank_values=True, encoding="utf-8", errors="surrogateescape"
    )
    fields: dict[str, list[str]] = {}
    for key, value in pairs:
        fields.setdefault(key, []).append(value)
    return {key: values if len(values) > 1 else values[0] for key, values in fields.items()}


class SubmittedForm:
    """A form as the browser sent it: text fields by name, uploaded files by name.

    `parsed` reads a field that must be something (an amount, a date) and notes a problem when it
    is not; `raise_problems` then refuses the form with every problem noted at once. A field (or
    a file's name) holding a NUL or a broken character is noted as a problem as the form is read,
    and kept without them, so that nothing unreadable is ever stored or shown again.
    """

    def __init__(self, data: Mapping[str, Any]) -> None:
        getall = getattr(data, "getall", None)
        self.problems: dict[str, str] = {}
        self._items: dict[str, list[Any]] = {}
        for key in data:
            values = list(getall(key)) if getall else _as_list(data[key])
            name = readable(key)
            if name != key:
                self.problems.setdefault(name, UNREADABLE_TEXT)
            self._items[name] = [self._readable(name, value) for value in values]

    def _readable(self, name: str, value: Any) -> Any:
        if isinstance(value, str) and unreadable(value):
            self.problems.setdefault(name, UNREADABLE_TEXT)
            return readable(value)
        if isinstance(value, UploadFile) and value.filename and unreadable(value.filename):
            self.problems.setdefault(name, UNREADABLE_TEXT)
            value.filename = readable(value.filename)
        return value

    @property
    def names(self) -> set[str]:
        """Every field the browser sent (an empty file input too; not an unticked box)."""
        return set(self._items) - {CSRF_FIELD}

    def text(self, name: str) -> str:
        """The field's (first) text value, "" when absent or a file."""
        return next((v for v in self._items.get(name, ()) if isinstance(v, str)), "")

    def checked(self, name: str) -> bool:
        return bool(self.text(name))

    def files(self, name: str) -> list[UploadFile]:
        """The files chosen in a file input (none when it was left empty)."""
        return [v for v in self._items.get(name, ()) if isinstance(v, UploadFile) and v.filename]

    def parsed(self, name: str, parse: Callable[[str], T], problem: str, default: T) -> T:
        """The field read by `parse`; when it raises ValueError, `problem` (a message id) is noted
        for the field and `default` stands in until `raise_problems`. A rule of the edge's own
        (`InputRefused`: digits that are not 0-9, a number or a day out of range) says what is
        wrong more precisely, and its message is noted instead."""
        try:
            return parse(self.text(name))
        except InputRefused as exc:
            self.problems.setdefault(name, problem if exc.params else exc.message)
            return default
        except ValueError:
            self.problems.setdefault(name, problem)
            return default

    def raise_problems(self) -> None:
        """ValidationErrors with every problem noted, if any."""
        if self.problems:
            raise ValidationErrors(dict(self.problems))

    def refuse(self, name: str, problem: str) -> NoReturn:
        """Note `problem` for the field and refuse the form with every problem noted."""
        self.problems.setdefault(name, problem)
        raise ValidationErrors(dict(self.problems))

    def texts(self) -> dict[str, str]:
        """Every text field, to fill the form in again (never the CSRF token)."""
        return {
            name: self.text(name)
            for name, values in self._items.items()
            if name != CSRF_FIELD and any(isinstance(v, str) for v in values)
        }


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def iso_date(text: str) -> date:
    """A day as an `<input type="date">` sends it (2026-05-01), from 2000 to 2100; InputRefused
    (a ValueError) otherwise: the one rule for days (`kernel.inputs.calendar_day`)."""
    return calendar_day(text)


async def json_body(request: Request[Any, Any, Any]) -> Any:
    """An API request's JSON body by the edge's one JSON rule (`kernel.inputs.read_json`: strict
    UTF-8, bounded depth, 64-bit integers, no NUL or lone surrogate); ValidationErrors (422)
    naming `body` otherwise."""
    try:
        return read_json(await request.body())
    except InputRefused as exc:
        raise ValidationErrors({"body": exc.message}) from None


FormAction = Callable[[SubmittedForm], Awaitable["Response[Any] | str"]]


def failed_form(
    name: str,
    exc: DomainError,
    submitted: SubmittedForm,
    fields: Mapping[str, str] | None = None,
    links: Mapping[str, str] | None = None,
) -> FormState:
    """The form again after `exc`: its values as sent and each message where it belongs.

    A service names problems in its own words; `fields` maps them to the form's field names
    (`{"ends_at": "ends_on"}`). A problem about no field the form sent is about the whole form;
    `links` (a message id → an address) makes such a message a link to where it is fixed, on
    another page (a refused publication's reasons → the draft's fields, ADR 0038).
    """
    aliases = fields or {}
    errors: dict[str, str] = {}
    messages: list[str] = []
    for key, message in form_errors(exc).items():
        target = aliases.get(key, key)
        if target and target in submitted.names:
            errors.setdefault(target, message)
        else:
            messages.append(message)
    messages.extend(gettext(reason) for reason in getattr(exc, "reasons", ()) or ())
    where = {gettext(message): href for message, href in (links or {}).items()}
    return FormState(name, submitted.texts(), errors, tuple(messages), where)


def render(template: str, context: Mapping[str, Any], status: int = 200) -> Template:
    """A page as HTML, whatever the route handler's annotation would have guessed."""
    return Template(template, context=dict(context), status_code=status, media_type=MediaType.HTML)


ContextBuilder = Callable[[], Awaitable[Mapping[str, Any]]]


@dataclass(frozen=True, slots=True)
class Page:
    """A page with forms: its template and what it shows (built again for every answer)."""

    template: str
    context: ContextBuilder | Mapping[str, Any] = field(default_factory=dict)

    async def _context(self) -> dict[str, Any]:
        if callable(self.context):
            return dict(await self.context())
        return dict(self.context)

    async def show(self, status: int = 200, **extra: Any) -> Template:
        return render(self.template, {**await self._context(), **extra}, status)

    async def refusal(
        self, form: str, exc: DomainError, *, links: Mapping[str, str] | None = None
    ) -> Template:
        """The page with `exc` shown on its form `form`, as a refused submission shows it: for a
        GET that checks before it asks (a confirmation page, ADR 0024). `links`: see
        `failed_form`."""
        state = failed_form(form, exc, SubmittedForm({}), links=links)
        return await self.show(exc.status, failed_form=state)

    async def submit(
        self,
        request: Request[Any, Any, Any],
        form: str | Callable[[SubmittedForm], str],
        action: FormAction,
        *,
        fields: Mapping[str, str] | None = None,
    ) -> Response[Any]:
        """Read the posted form and run `action` on it.

        The action returns a path to redirect to (303) or a response of its own. When it raises a
        `DomainError`, the page is shown again with the error's status and the failed form (named
        `form`, or named from what was sent) in the context as `failed_form`.
        """
        submitted = SubmittedForm(await request.form())
        try:
            submitted.raise_problems()  # unreadable text: refused before the action runs
            outcome = await action(submitted)
        except DomainError as exc:
            name = form(submitted) if callable(form) else form
            return await self.show(
                exc.status, failed_form=failed_form(name, exc, submitted, fields)
            )
        if isinstance(outcome, str):
            return Redirect(path=outcome, status_code=303)
        return outcome
