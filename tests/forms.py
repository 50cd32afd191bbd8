"""Submit a form as the page renders it, the way a browser without JavaScript would.

`submit(client, page, form=...)` GETs the page, finds the <form> (by its action or its id), reads
every field it holds with the standard library's HTML parser (inputs with their default values,
the hidden CSRF token, ticked boxes and radios, each select's selected option, textareas), lets
the test change some of them (`fields={...}`) and attach files (`files={...}`), and posts it as
the form says: URL-encoded, or multipart when its enctype asks for it, with every file input sent
(empty when no file was chosen). A field the page does not render cannot be changed: a mismatch
between a template and its handler fails the test instead of being papered over by a hand-written
body.

`assert_form_refused(response, *messages)` checks what a refused form must answer: the page as
HTML with a 4xx status, an error summary at the top whose links each lead to a field on the page,
and the messages.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

FileValue = tuple[str, bytes, str]  # file name, content, content type
NO_FILE: FileValue = ("", b"", "application/octet-stream")
BUTTON_TYPES = {"submit", "image"}
NOT_SENT_INPUTS = {"reset", "button"}


@dataclass
class Control:
    """One field of a form as the page renders it."""

    tag: str  # input, select, textarea, button
    type: str
    name: str
    value: str = ""
    checked: bool = False
    options: list[tuple[str, bool]] = field(default_factory=list)  # select: (value, selected)
    disabled: bool = False


@dataclass
class Form:
    """A <form> of a page: where it goes, how it is encoded, and its fields in page order."""

    action: str
    method: str
    enctype: str
    id: str
    controls: list[Control] = field(default_factory=list)

    @property
    def multipart(self) -> bool:
        return self.enctype.lower() == "multipart/form-data"

    def names(self) -> set[str]:
        return {c.name for c in self.controls if c.name}

    def submission(
        self,
        fields: Mapping[str, str | bool] | None = None,
        files: Mapping[str, FileValue | list[FileValue]] | None = None,
        press: str | None = None,
    ) -> tuple[list[tuple[str, str]], list[tuple[str, FileValue]]]:
        """The (name, value) pairs and files a browser would send after the changes."""
        changes = dict(fields or {})
        chosen_files = dict(files or {})
        unknown = (set(changes) | set(chosen_files)) - self.names()
        assert not unknown, f"the form {self.action} has no field {sorted(unknown)}"
        data: list[tuple[str, str]] = []
        uploads: list[tuple[str, FileValue]] = []
        buttons = [c for c in self.controls if c.tag == "button" or c.type in BUTTON_TYPES]
        pressed = _pressed_button(buttons, press)
        for control in self.controls:
            if control.disabled or not control.name:
                continue
            if control.tag == "button" or control.type in BUTTON_TYPES:
                if control is pressed:
                    data.append((control.name, control.value))
                continue
            if control.type in NOT_SENT_INPUTS:
                continue
            if control.type == "file":
                assert control.name not in changes, f"{control.name} is a file input: use files="
                chosen = chosen_files.get(control.name, NO_FILE)
                for item in chosen if isinstance(chosen, list) else [chosen]:
                    uploads.append((control.name, item))
                continue
            value = self._value(control, changes)
            if value is not None:
                data.append((control.name, value))
        return data, uploads

    def _value(self, control: Control, changes: Mapping[str, str | bool]) -> str | None:
        change = changes.get(control.name)
        if control.type in ("checkbox", "radio"):
            if control.name in changes:
                if control.type == "checkbox":
                    on = change is True or (isinstance(change, str) and change == control.value)
                else:
                    choices = {c.value for c in self.controls if c.name == control.name}
                    assert change in choices, f"{control.name} has no choice {change!r}: {choices}"
                    on = change == control.value
            else:
                on = control.checked
            return control.value if on else None
        if control.tag == "select":
            values = [value for value, _ in control.options]
            if control.name in changes:
                assert change in values, f"{control.name} has no option {change!r}: {values}"
                return str(change)
            selected = [value for value, chosen in control.options if chosen]
            return selected[0] if selected else (values[0] if values else None)
        if control.name in changes:
            assert isinstance(change, str), f"{control.name} takes text"
            return change
        return control.value


def _pressed_button(buttons: list[Control], press: str | None) -> Control | None:
    """The button that submits: the one named or valued `press`, else the first."""
    submits = [b for b in buttons if b.type in BUTTON_TYPES and not b.disabled]
    if press is None:
        return submits[0] if submits else None
    matching = [b for b in submits if press in (b.value, b.name)]
    assert matching, f"no submit button {press!r}: {[(b.name, b.value) for b in submits]}"
    return matching[0]


class _PageParser(HTMLParser):
    """Every <form> of a page with its fields, and every element id (for the summary's links)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.ids: set[str] = set()
        self._form: Form | None = None
        self._textarea: Control | None = None
        self._select: Control | None = None
        self._option: list[Any] | None = None  # [value or None, selected, text]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value if value is not None else "" for key, value in attrs}
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "form":
            self._form = Form(
                action=a.get("action", ""),
                method=a.get("method", "get").lower(),
                enctype=a.get("enctype", "application/x-www-form-urlencoded"),
                id=a.get("id", ""),
            )
            self.forms.append(self._form)
            return
        if self._form is None:
            return
        disabled = "disabled" in a
        if tag == "input":
            kind = a.get("type", "text").lower()
            default = "on" if kind in ("checkbox", "radio") else ""
            self._form.controls.append(
                Control("input", kind, a.get("name", ""), a.get("value", default),
                        "checked" in a, disabled=disabled)
            )  # fmt: skip
        elif tag == "button":
            kind = a.get("type", "submit").lower()
            self._form.controls.append(
                Control("button", kind, a.get("name", ""), a.get("value", ""), disabled=disabled)
            )
        elif tag == "textarea":
            self._textarea = Control("textarea", "textarea", a.get("name", ""), disabled=disabled)
            self._form.controls.append(self._textarea)
        elif tag == "select":
            self._select = Control("select", "select", a.get("name", ""), disabled=disabled)
            self._form.controls.append(self._select)
        elif tag == "option" and self._select is not None:
            self._option = [a.get("value"), "selected" in a, ""]

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea.value += data
        elif self._option is not None:
            self._option[2] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._textarea is not None:
            # A browser drops the newline right after <textarea>.
            if self._textarea.value.startswith("\n"):
                self._textarea.value = self._textarea.value[1:]
            self._textarea = None
        elif tag in ("option", "select") and self._option is not None and self._select is not None:
            value, selected, text = self._option
            self._select.options.append((value if value is not None else text.strip(), selected))
            self._option = None
        if tag == "select":
            self._select = None
        elif tag == "form":
            self._form = None


def parse_page(html: str) -> _PageParser:
    parser = _PageParser()
    parser.feed(html)
    parser.close()
    return parser


def find_form(html: str, form: str) -> Form:
    """The page's form whose action (path, or path ending) or id is `form`; exactly one."""
    forms = parse_page(html).forms
    found = [f for f in forms if form in (f.action, f.id) or f.action.endswith(form)]
    assert len(found) == 1, f"{len(found)} forms match {form!r}: {[f.action for f in forms]}"
    return found[0]


async def submit(
    client: Any,
    page: str,
    form: str,
    fields: Mapping[str, str | bool] | None = None,
    files: Mapping[str, FileValue | list[FileValue]] | None = None,
    *,
    press: str | None = None,
    follow_redirects: bool = False,
) -> Any:
    """GET `page`, fill in its `form` as rendered with `fields` and `files`, and post it."""
    shown = await client.get(page)
    assert shown.status_code == 200, f"GET {page}: {shown.status_code}"
    return await submit_shown(
        client, shown.text, form, fields, files, page=page, press=press,
        follow_redirects=follow_redirects,
    )  # fmt: skip


async def submit_shown(
    client: Any,
    html: str,
    form: str,
    fields: Mapping[str, str | bool] | None = None,
    files: Mapping[str, FileValue | list[FileValue]] | None = None,
    *,
    page: str = "/",
    press: str | None = None,
    follow_redirects: bool = False,
) -> Any:
    """The same for a page already in hand (say, the one a refused form came back on)."""
    found = find_form(html, form)
    assert found.method == "post", f"the form {form!r} is not posted"
    data, uploads = found.submission(fields, files, press)
    action = urlsplit(urljoin(f"http://x{page}", found.action or page))
    target = action.path + (f"?{action.query}" if action.query else "")
    body: dict[str, list[str]] = {}
    for name, value in data:
        body.setdefault(name, []).append(value)
    if found.multipart:
        return await client.post(
            target,
            data=body,
            files=uploads or [("", NO_FILE)],
            follow_redirects=follow_redirects,
        )
    assert not uploads, f"the form {form!r} is not multipart: it cannot send files"
    return await client.post(target, data=body, follow_redirects=follow_redirects)


SUMMARY = re.compile(r'<div class="error-summary"[^>]*>(.*?)</div>', re.S)
LINK = re.compile(r'href="#([^"]+)"')


def assert_form_refused(response: Any, *messages: str, status: int | None = None) -> None:
    """A refused form: the page again as HTML (4xx) with the error summary at the top, every link
    of which leads to an element of the page, and the messages."""
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:500])
    if status is not None:
        assert response.status_code == status, response.status_code
    content_type = response.headers["content-type"]
    assert content_type.startswith("text/html"), content_type
    html = response.text
    summary = SUMMARY.search(html)
    assert summary, "no error summary on the page"
    assert html.index('<div class="error-summary"') < html.index("<h1"), "summary not at the top"
    ids = parse_page(html).ids
    for target in LINK.findall(summary.group(1)):
        assert target in ids, f"the summary links to #{target}, which is not on the page"
    for message in messages:
        assert message in html, f"{message!r} is not on the page"


async def confirm_shown(
    client: Any,
    shown: Any,
    fields: Mapping[str, str | bool] | None = None,
    files: Mapping[str, FileValue | list[FileValue]] | None = None,
    *,
    page: str = "/",
) -> Any:
    """Press the confirm button of an irreversible action's confirmation page (ADR 0024): the
    page's one form that carries the hidden `confirmed`, posted as rendered (with `fields` and
    `files` filled in, when the page holds the action's form itself)."""
    assert shown.status_code == 200, (shown.status_code, shown.text[:500])
    forms = [f for f in parse_page(shown.text).forms if "confirmed" in f.names()]
    assert len(forms) == 1, f"{len(forms)} confirmation forms on the page"
    assert 'data-testid="confirm-what"' in shown.text, "not a confirmation page"
    return await submit_shown(client, shown.text, forms[0].id, fields, files, page=page)


VOID_TAGS = {"area", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


class _ElementsParser(HTMLParser):
    """Every element with an id: its attributes and its text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.attrs: dict[str, dict[str, str]] = {}
        self.texts: dict[str, str] = {}
        self._open: list[tuple[str, str | None]] = []  # (tag, id) of the elements open

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value if value is not None else "" for key, value in attrs}
        if "id" in a:
            self.attrs[a["id"]] = a
            self.texts.setdefault(a["id"], "")
        if tag not in VOID_TAGS:
            self._open.append((tag, a.get("id")))

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            opened, _ = self._open.pop()
            if opened == tag:
                break

    def handle_data(self, data: str) -> None:
        for _, element in self._open:
            if element is not None:
                self.texts[element] += data


def error_beside(html: str, field_id: str) -> str:
    """The message shown beside a field (or a group's fieldset), as assistive technology reaches
    it: the element `field_id` is aria-invalid and described (aria-describedby) by a message of
    the class field-error on the page, whose text is returned (a hint it is described by too is
    left out)."""
    parser = _ElementsParser()
    parser.feed(html)
    parser.close()
    assert field_id in parser.attrs, f"no element #{field_id} on the page"
    field_attrs = parser.attrs[field_id]
    assert field_attrs.get("aria-invalid") == "true", f"#{field_id} is not aria-invalid"
    described = field_attrs.get("aria-describedby", "").split()
    errors = [
        name
        for name in described
        if "field-error" in parser.attrs.get(name, {}).get("class", "").split()
    ]
    assert len(errors) == 1, f"#{field_id} is described by {described}, not by one message"
    return " ".join(parser.texts[errors[0]].split())
