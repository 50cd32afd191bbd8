"""Hostile input, thrown at every form, address and JSON body the app has: never a 5xx.

Each kind of bad input (docs/adr/0017-hostile-input.md) is refused at the edge by one rule and
answered with a clear 4xx: a problem document under /api/ and /webhooks/, the page with the form
again (the message beside the field) for a form, and nothing is written. The forms are found on
the pages as each role sees them and posted as rendered (tests/forms.py), with one field
poisoned at a time; the addresses are every route of the app, each parameter poisoned in turn.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from piccolo.conf.apps import Finder
from PIL import Image

from linju.payments import signatures
from linju.payments.sandbox import SIGNATURE_HEADER as SANDBOX_SIGNATURE
from linju.payments.stripe_gateway import SIGNATURE_HEADER as STRIPE_SIGNATURE
from linju.platform.accounts.tables import Account
from linju.platform.app import create_app
from linju.platform.errors import MACHINE_PREFIXES
from linju.platform.kernel.inputs import (
    INT64_MAX,
    InputRefused,
    calendar_day,
    read_json,
    unix_moment,
    whole_number,
)
from linju.platform.kernel.money import InvalidYuan, parse_yuan
from tests.accounts_support import csrf_token, in_app, log_in, log_out
from tests.fakes.stripe_fixtures import WEBHOOK_SECRET as STRIPE_SECRET
from tests.forms import Form, confirm_shown, parse_page, submit
from tests.projects.spending.spending_support import PDF_BYTES, png_bytes
from tests.projects.stewardship.stewardship_support import People, make_people
from tests.storage_support import stored_keys

SANDBOX_SECRET = "test-sandbox-webhook-secret-" + "y" * 16  # tests/conftest.py sets it
SLUG = "tongqu-leyuan"
PROBLEM = "application/problem+json"
HTML = "text/html"

# What a poisoned field holds; PLACEHOLDER is replaced in the encoded body by the raw bytes.
PLACEHOLDER = "QQPOISONQQ"
NUL = "nul"
BROKEN_UTF8 = "broken-utf8"  # what a lone surrogate is on the wire: a UTF-8 encoded surrogate
RAW = {
    NUL: (b"a%00b", b"a\x00b"),  # (URL-encoded form, multipart part)
    BROKEN_UTF8: (b"a%ED%A0%80b%FF", b"a\xed\xa0\x80b\xff"),
}
NUMBERS = {
    "superscript": "²",
    "fullwidth": "１２",
    "arabic-indic": "٣٠",
    "5000 digits": "9" * 5000,
    "past int64": "99999999999999999999",
    "negative past int64": "-99999999999999999999",
}
DAYS = {"year 1": "0001-01-01", "year 9999": "9999-12-31", "fullwidth": "２０２６-０５-０１"}
# Fields that hold a number (amounts in yuan, hours, a ratio, ids); the others are free text.
NUMERIC_FIELDS = {
    "amount",
    "goal",
    "cap",
    "ratio",
    "labour_hours",
    "estimated_value",
    "custom_amount",
    "amount_choice",
    "budget_line",
    "subject_id",
}
SKIPPED_FIELDS = {"_csrf_token"}


# --- the rules themselves ------------------------------------------------------------------


@pytest.mark.parametrize("text", ["²", "１２", "٣", "1²", "", " ", "-1", "+1", "1.0", "1e3"])
def test_whole_numbers_are_ascii_digits(text: str) -> None:
    with pytest.raises(InputRefused):
        whole_number(text)


def test_whole_numbers_fit_64_bits_and_5000_digits_cost_nothing() -> None:
    assert whole_number(" 0042 ") == 42
    assert whole_number(str(INT64_MAX)) == INT64_MAX
    for text in (str(INT64_MAX + 1), "9" * 5000, "99999999999999999999"):
        with pytest.raises(InputRefused):
            whole_number(text)
    with pytest.raises(InputRefused):
        whole_number("5", high=4)


@pytest.mark.parametrize(
    "text",
    ["0001-01-01", "9999-12-31", "1999-12-31", "2101-01-01", "２０２６-０５-０１", "2026-5-1"],
)
def test_days_are_ascii_and_between_2000_and_2100(text: str) -> None:
    with pytest.raises(InputRefused):
        calendar_day(text)
    assert str(calendar_day(" 2026-05-01 ")) == "2026-05-01"


@pytest.mark.parametrize("value", [1e20, 10**20, -(10**20), 1.7e9, True, "1700000000", None, 0])
def test_provider_moments_are_whole_seconds_between_2000_and_2100(value: Any) -> None:
    with pytest.raises(InputRefused):
        unix_moment(value)
    assert unix_moment(1_700_000_000).year == 2023


@pytest.mark.parametrize(
    "body",
    [
        b'{"a": "x\\u0000y"}',
        b'{"a\\u0000": 1}',
        b'{"a": "\\ud800"}',
        b'{"a": "\xed\xa0\x80"}',
        b'{"a": "\xff"}',
        b'{"a": ' + b"9" * 5000 + b"}",
        b'{"a": 99999999999999999999}',
        b'{"a": 1e400}',
        b"[" * 10_000 + b"]" * 10_000,
        b"[" * 40 + b"]" * 40,
        b"",
        b"{",
    ],
)
def test_json_is_strict_bounded_and_readable(body: bytes) -> None:
    with pytest.raises(InputRefused):
        read_json(body)


def test_fullwidth_yuan_are_refused_by_the_one_amount_rule() -> None:
    for text in ("１２", "²", "٣٠", "9" * 5000):
        with pytest.raises(InvalidYuan):
            parse_yuan(text)


# --- the database: nothing written ---------------------------------------------------------


def _tables() -> list[str]:
    return sorted(table._meta.tablename for table in Finder().get_table_classes())


async def row_counts() -> dict[str, int]:
    """Rows per table of the app, in one query."""
    sql = " UNION ALL ".join(f"SELECT '{t}' AS t, COUNT(*) AS n FROM \"{t}\"" for t in _tables())
    return {row["t"]: int(row["n"]) for row in await Account.raw(sql)}


# --- forms ---------------------------------------------------------------------------------


def _forms(html: str) -> list[Form]:
    return [f for f in parse_page(html).forms if f.method == "post"]


def _form_name(form: Form) -> str:
    return form.id.removeprefix("form-")


def _encode(
    form: Form, page: str, poisoned: str, value: str | None, raw: tuple[bytes, bytes] | None
) -> tuple[str, bytes, str]:
    """The form as a browser would post it, `poisoned` holding `value` (or the raw bytes)."""
    data, uploads = form.submission()
    sent = PLACEHOLDER if raw else value
    pairs = [(name, sent if name == poisoned else v) for name, v in data]
    if poisoned not in {name for name, _ in data}:
        pairs.append((poisoned, sent or ""))
    action = urlsplit(urljoin(f"http://x{page}", form.action or page))
    target = action.path + (f"?{action.query}" if action.query else "")
    if form.multipart:
        files = uploads or [("", ("", b"", "application/octet-stream"))]
        request = httpx.Request("POST", "http://x" + target, data=_multi(pairs), files=files)
    else:
        request = httpx.Request("POST", "http://x" + target, data=_multi(pairs))
    body = request.read()
    if raw:
        body = body.replace(PLACEHOLDER.encode(), raw[1] if form.multipart else raw[0])
    return target, body, request.headers["content-type"]


def _multi(pairs: list[tuple[str, str | None]]) -> dict[str, list[str]]:
    body: dict[str, list[str]] = {}
    for name, value in pairs:
        body.setdefault(name, []).append(value or "")
    return body


def _poisons(form: Form) -> Iterator[tuple[str, str, str | None, tuple[bytes, bytes] | None]]:
    """(field, kind, value, raw bytes) for every field of the form and every kind of poison."""
    fields = []
    for control in form.controls:
        if control.disabled or not control.name or control.name in SKIPPED_FIELDS:
            continue
        if control.type in ("file", "submit", "button", "image", "reset"):
            continue
        if control.name not in fields:
            fields.append(control.name)
    for name in fields:
        for kind, raw in RAW.items():
            yield name, kind, None, raw
        control = next(c for c in form.controls if c.name == name)
        if name in NUMERIC_FIELDS:
            for kind, value in NUMBERS.items():
                yield name, kind, value, None
        if control.type == "date":
            for kind, value in DAYS.items():
                yield name, kind, value, None


async def _post_poisoned(client: Any, page: str, key: tuple[str, str]) -> list[str]:
    """Post every poisoned variant of the form `key` (action, id) of `page`; the failures."""
    failures: list[str] = []
    shown = await client.get(page)
    assert shown.status_code == 200, (page, shown.status_code)
    form = next(f for f in _forms(shown.text) if (f.action, f.id) == key)
    for field, kind, value, raw in _poisons(form):
        shown = await client.get(page)
        matching = [f for f in _forms(shown.text) if (f.action, f.id) == key]
        if not matching:  # an accepted post changed the page (say, a gift was confirmed)
            break
        target, body, content_type = _encode(matching[0], page, field, value, raw)
        before = await in_app(client, row_counts)
        answer = await client.post(
            target, content=body, headers={"content-type": content_type}, follow_redirects=False
        )
        label = f"{page} {key[0]} {field}={kind}: {answer.status_code}"
        if answer.status_code >= 500:
            failures.append(label + " (5xx)")
            continue
        if answer.status_code < 400:
            failures.append(label + " (accepted)")
            continue
        if not answer.headers["content-type"].startswith(HTML):
            failures.append(label + f" ({answer.headers['content-type']})")
            continue
        after = await in_app(client, row_counts)
        if after != before:
            changed = {t: (before[t], after[t]) for t in after if after[t] != before.get(t)}
            failures.append(label + f" (rows written: {changed})")
            continue
        if raw is not None and form.multipart and kind == BROKEN_UTF8:
            # a multipart part that is not UTF-8 (no browser sends one): the error page, 400
            if answer.status_code != 400 or "表单中有无法作为文本读取的部分" not in answer.text:
                failures.append(label + " (not the 400 page for an unreadable part)")
        elif raw is not None:
            # refused by SubmittedForm: the form again, the message beside the field
            if "error-summary" not in answer.text:
                failures.append(label + " (no error summary)")
            elif _visible(form, field) and f'id="e-{_form_name(form)}-{field}"' not in answer.text:
                failures.append(label + " (no message beside the field)")
    return failures


def _visible(form: Form, field: str) -> bool:
    control = next(c for c in form.controls if c.name == field)
    return control.type not in ("hidden", "radio", "checkbox") and bool(form.id)


async def _propose_expenditure(client: Any) -> None:
    """As the secretary: close fundraising and propose one expenditure, through the pages."""
    spending = f"/p/{SLUG}/spending"
    for action, fields, files in (
        (f"{spending}/fundraising-closed", {}, {}),
        (
            f"{spending}/expenditures",
            {"payee": "青山游乐设备厂", "purpose": "跷跷板两台", "amount": "100", "label": "发票"},
            {
                "invoice": ("发票.pdf", PDF_BYTES, "application/pdf"),
                "invoice_public": ("发票-公开.png", png_bytes(), "image/png"),
            },
        ),
    ):
        answer = await submit(client, spending, action, fields, files)
        if action.endswith("/fundraising-closed"):  # closing is confirmed on its page first
            answer = await confirm_shown(client, answer, page=spending)
        problems = re.findall(r'class="(?:field-error|form-messages)[^>]*>(.*?)<', answer.text)
        assert answer.status_code in (200, 303), (action, answer.status_code, problems)


async def _refund_page(client: Any) -> str:
    listing = await client.get(f"/p/{SLUG}/donations")
    found = re.search(r'href="(/p/[^"]+/donations/[^"]+/refund)"', listing.text)
    assert found, "no refund link on the donations page"
    return found.group(1)


@pytest.fixture
async def people(demo: None, client: Any) -> People:
    return await make_people(client)


async def _as(client: Any, account: int | None) -> None:
    log_out(client)
    if account is not None:
        await log_in(client, account)


async def test_every_form_refuses_every_poisoned_field_and_writes_nothing(
    client: Any, people: People
) -> None:
    await _as(client, people.secretary)
    await _propose_expenditure(client)
    await _as(client, None)
    started = await client.post(
        "/api/v1/projects/yuelanshi/donations",
        json={"amount": {"amount": 1000, "currency": "CNY"}},
        follow_redirects=False,
    )
    assert started.status_code == 201, started.text
    checkout = urlsplit(started.json()["checkout_url"]).path
    await _as(client, people.admin)
    refund = await _refund_page(client)
    visits: list[tuple[int | None, list[str]]] = [
        (None, ["/login", "/password/forgot", "/p/yuelanshi", checkout]),
        (people.admin, ["/admin", "/account", refund]),
        (
            people.secretary,
            ["/secretary/c/lvjingyuan/new", f"/p/{SLUG}/manage", f"/p/{SLUG}/spending"],
        ),
        (people.member, ["/committee"]),
    ]
    failures: list[str] = []
    seen: set[tuple[str, str]] = set()
    for account, pages in visits:
        await _as(client, account)
        for page in pages:
            shown = await client.get(page)
            assert shown.status_code == 200, (page, shown.status_code)
            for form in _forms(shown.text):
                key = (form.action, form.id)
                if key in seen or form.action.endswith("/logout"):
                    continue
                seen.add(key)
                failures += await _post_poisoned(client, page, key)
    assert len(seen) >= 12, sorted(seen)
    assert not failures, "\n".join(failures)


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 120, 200)).save(out, format="JPEG")
    return out.getvalue()


async def test_two_photos_the_second_truncated_store_neither(client: Any, people: People) -> None:
    """Done before this item (projects/core/files.py): checked here through the page."""
    await _as(client, people.secretary)
    manage = f"/p/{SLUG}/manage"
    keys = await in_app(client, stored_keys)
    before = await in_app(client, row_counts)
    photos = [("a.jpg", _jpeg(), "image/jpeg"), ("b.jpg", _jpeg()[:-200], "image/jpeg")]
    answer = await submit(
        client, manage, f"{manage}/updates", {"body": "架空层地垫已铺好"}, {"photos": photos}
    )
    assert 400 <= answer.status_code < 500, answer.status_code
    assert answer.headers["content-type"].startswith(HTML)
    assert await in_app(client, stored_keys) == keys
    assert await in_app(client, row_counts) == before


# --- addresses: paths and query strings -----------------------------------------------------


def test_every_int_parameter_of_every_route_is_bounded_where_litestar_parses_it() -> None:
    """Every `int` path or query parameter carries `le` within 64 bits (Litestar refuses more
    with a 400 as it parses the parameter), and a path declares it `{name:str}`: Litestar's
    router reads `{name:int}` with `int()`, which takes full-width digits and any size.
    Declare one as `{pledge:str}` with `pledge: Annotated[int, Parameter(ge=1, le=INT64_MAX)]`."""
    app = create_app()
    unbounded = []
    for route in app.routes:
        if ":int}" in route.path:
            unbounded.append(f"{route.path}: declare the path parameter as :str")
        for handler in getattr(route, "route_handlers", []):
            for name, field in handler.parsed_fn_signature.parameters.items():
                kinds = [field, *(field.inner_types if field.is_optional else [])]
                if not any(kind.annotation is int for kind in kinds):
                    continue
                bound = getattr(field.kwarg_definition, "le", None)
                if bound is None or bound > INT64_MAX:
                    unbounded.append(f"{route.path}: {name} has no le <= INT64_MAX")
    assert not unbounded, "\n".join(sorted(set(unbounded)))


BAD_SEGMENTS = {
    "nul": "a%00b",
    "broken utf-8": "a%ED%A0%80b",
    "lone byte": "a%FFb",
    "past int64": "99999999999999999999",
    "5000 digits": "9" * 5000,
    "fullwidth": "%EF%BC%91",
    "superscript": "%C2%B2",
}
BAD_QUERY_VALUES = {
    "nul": "a%00b",
    "broken utf-8": "%ED%A0%80",
    "past int64": "99999999999999999999",
    "negative past int64": "-99999999999999999999",
    "5000 digits": "9" * 5000,
    "fullwidth": "%EF%BC%91",
    "superscript": "%C2%B2",
}
QUERY_NAMES = ("after", "before", "limit", "page", "community", "status", "next", "requested")
GOOD_VALUES = {"slug": SLUG, "community": "lvjingyuan", "seq": "1", "code": "en"}


def _get_routes(app: Any) -> list[str]:
    paths = []
    for route in app.routes:
        methods = set().union(*(h.http_methods for h in getattr(route, "route_handlers", [])))
        if "GET" in methods and not route.path.startswith("/schema"):
            paths.append(route.path)
    return sorted(set(paths))


def _fill(template: str, poisoned: str | None, bad: str) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        return bad if name == poisoned else GOOD_VALUES.get(name, "x")

    return re.sub(r"\{(\w+)(?::\w+)?\}", value, template)


def _answer_fits(path: str, answer: Any) -> str | None:
    """What is wrong with the answer to a bad address, or None."""
    if answer.status_code >= 500:
        return "5xx"
    content_type = answer.headers.get("content-type", "")
    if answer.status_code >= 400:
        wanted = PROBLEM if path.startswith(MACHINE_PREFIXES) else HTML
        if path.startswith("/static/"):
            return None  # the static files' own 404
        if not content_type.startswith(wanted):
            return f"content type {content_type}"
    return None


async def test_every_address_refuses_bad_segments_and_queries(client: Any, people: People) -> None:
    await _as(client, people.admin)
    failures = []
    routes = _get_routes(client.app)
    assert any("{seq" in r for r in routes)
    for template in routes:
        names = re.findall(r"\{(\w+)", template) or [None]
        for name in names:
            for kind, bad in BAD_SEGMENTS.items():
                if name is None:
                    continue
                path = _fill(template, name, bad)
                answer = await client.get(path, follow_redirects=False)
                problem = _answer_fits(path, answer)
                if problem:
                    failures.append(f"GET {path[:80]} ({kind}): {answer.status_code} {problem}")
        base = _fill(template, None, "")
        for kind, bad in BAD_QUERY_VALUES.items():
            query = "&".join(f"{q}={bad}" for q in QUERY_NAMES)
            answer = await client.get(f"{base}?{query}", follow_redirects=False)
            problem = _answer_fits(base, answer)
            if problem:
                failures.append(f"GET {base}?… ({kind}): {answer.status_code} {problem}")
    assert not failures, "\n".join(failures)


async def test_a_form_posted_to_a_bad_id_is_refused_and_writes_nothing(
    client: Any, people: People
) -> None:
    """POST routes with an id in the path: the id is read where Litestar parses it (after the
    CSRF check and the guard), so a logged-in member's well-formed form reaches it."""
    await _as(client, people.member)
    token = csrf_token((await client.get("/account")).text)
    failures = []
    for kind, bad in BAD_SEGMENTS.items():
        before = await in_app(client, row_counts)
        answer = await client.post(
            f"/p/{SLUG}/committee/pledges/{bad}",
            data={"_csrf_token": token, "decision": "confirm", "reason": "好"},
            follow_redirects=False,
        )
        label = f"{kind}: {answer.status_code}"
        if not 400 <= answer.status_code < 500:
            failures.append(label)
        elif not answer.headers["content-type"].startswith(HTML):
            failures.append(label + " " + answer.headers["content-type"])
        elif await in_app(client, row_counts) != before:
            failures.append(label + " rows written")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(
    ("path", "statuses"),
    [
        (f"/api/v1/projects/{SLUG}/ledger/99999999999999999999", {400, 404}),
        (f"/api/v1/projects/{SLUG}/ledger/%EF%BC%91", {400, 404}),
        (f"/api/v1/projects/{SLUG}/ledger?after=99999999999999999999", {400}),
        (f"/api/v1/projects/{SLUG}/ledger?after=" + "9" * 5000, {400}),
        ("/api/v1/projects/tong%00qu/ledger", {400}),
        ("/api/v1/projects?community=a%00b", {400}),
        ("/api/v1/projects?community=a%ED%A0%80b", {400}),
        ("/api/v1/projects/a%FF", {400}),
    ],
)
async def test_api_addresses_answer_a_problem(
    client: Any, demo: None, path: str, statuses: set[int]
) -> None:
    answer = await client.get(path)
    assert answer.status_code in statuses, (answer.status_code, answer.text[:300])
    assert answer.headers["content-type"].startswith(PROBLEM)
    assert answer.json()["status"] == answer.status_code


@pytest.mark.parametrize(
    "path",
    [
        "/p/tong%00qu",
        "/donations/a%00",
        "/p/a%ED%A0%80b",
        f"/p/{SLUG}/ledger?before=99999999999999999999",
        "/login?next=/a%00b",
        "/static/a%00b.css",
    ],
)
async def test_page_addresses_answer_an_error_page(client: Any, demo: None, path: str) -> None:
    answer = await client.get(path)
    assert answer.status_code == 400, (answer.status_code, answer.text[:300])
    assert answer.headers["content-type"].startswith(HTML)
    assert "<html" in answer.text


async def test_a_poisoned_address_on_a_form_post_writes_nothing(
    client: Any, people: People
) -> None:
    await _as(client, None)
    before = await in_app(client, row_counts)
    answer = await client.post(f"/p/{SLUG}%00/donate", data={"custom_amount": "10"})
    assert answer.status_code == 400
    assert await in_app(client, row_counts) == before


# --- JSON bodies ----------------------------------------------------------------------------

AMOUNT = {"amount": 1000, "currency": "CNY"}
BAD_JSON = {
    "nul in a string": json.dumps({"amount": AMOUNT, "display_name": "a\u0000b"}).encode(),
    "nul in a key": b'{"amount": {"amount": 1000, "currency": "CNY"}, "a\\u0000": 1}',
    "lone surrogate": b'{"amount": {"amount": 1000, "currency": "CNY"}, "message": "\\ud800"}',
    "broken utf-8": b'{"amount": {"amount": 1000, "currency": "CNY"}, "message": "\xed\xa0\x80"}',
    "5000 digits": b'{"amount": {"amount": ' + b"9" * 5000 + b', "currency": "CNY"}}',
    "past int64": b'{"amount": {"amount": 99999999999999999999, "currency": "CNY"}}',
    "1e400": b'{"amount": {"amount": 1e400, "currency": "CNY"}}',
    "10,000 deep": b'{"amount": ' + b"[" * 10_000 + b"]" * 10_000 + b"}",
    "100 deep": b'{"message": ' + b"[" * 100 + b"]" * 100 + b"}",
}


async def test_json_bodies_answer_a_problem_and_write_nothing(client: Any, people: People) -> None:
    await _as(client, people.admin)
    refund_page = await _refund_page(client)
    donation = refund_page.split("/")[-2]
    failures = []
    for url in (
        f"/api/v1/projects/{SLUG}/donations",
        f"/api/v1/projects/{SLUG}/donations/{donation}/refunds",
    ):
        for kind, body in BAD_JSON.items():
            before = await in_app(client, row_counts)
            headers = {"content-type": "application/json", **_api_csrf(client)}
            answer = await client.post(url, content=body, headers=headers)
            label = f"POST {url} ({kind}): {answer.status_code}"
            if not 400 <= answer.status_code < 500:
                failures.append(label)
            elif not answer.headers["content-type"].startswith(PROBLEM):
                failures.append(label + " " + answer.headers["content-type"])
            elif await in_app(client, row_counts) != before:
                failures.append(label + " rows written")
    assert not failures, "\n".join(failures)


def _api_csrf(client: Any) -> dict[str, str]:
    """An API write with a session cookie sends the CSRF cookie's token in a header."""
    token = client.cookies.get("linju_csrf")
    return {"x-csrf-token": token} if token else {}


# --- webhooks: signed, and still refused ----------------------------------------------------


def _sandbox_event(created: Any = 1_700_000_000, **data: Any) -> dict[str, Any]:
    return {
        "id": "sbxevt_x",
        "type": "checkout.completed",
        "created": created,
        "data": {
            "session": "sbx_x",
            "donation_id": "don_x",
            "amount": {"amount": 1000, "currency": "CNY"},
            **data,
        },
    }


def _stripe_event(created: Any = 1_700_000_000, **session: Any) -> dict[str, Any]:
    return {
        "id": "evt_x",
        "type": "checkout.session.completed",
        "created": created,
        "data": {
            "object": {
                "id": "cs_x",
                "client_reference_id": "don_x",
                "amount_total": 1000,
                "currency": "cny",
                "payment_status": "paid",
                **session,
            }
        },
    }


BAD_CREATED = [1e20, -1e20, 10**20, "1e20", 1.5e9, 2**62, -1, True, None, [1], {"a": 1}]


def _bodies(event: Any) -> Iterator[tuple[str, bytes]]:
    for created in BAD_CREATED:
        yield f"created={created!r}", json.dumps(event(created=created)).encode()
    yield (
        "created 5000 digits",
        json.dumps(event())
        .encode()
        .replace(b'"created": 1700000000', b'"created": ' + b"9" * 5000),
    )
    yield "nul in an id", json.dumps(event()).encode().replace(b"don_x", b"don\\u0000x")
    yield "surrogate in an id", json.dumps(event()).encode().replace(b"don_x", b"don\\udc80x")
    yield "broken utf-8", json.dumps(event()).encode().replace(b"don_x", b"don\xffx")
    yield (
        "10,000 deep",
        json.dumps(event())
        .encode()
        .replace(b'"created"', b'"deep": ' + b"[" * 10_000 + b"]" * 10_000 + b', "created"'),
    )


async def _throw_webhooks(
    client: Any, url: str, header: str, secret: str, event: Any, extra: Iterator[tuple[str, bytes]]
) -> list[str]:
    failures = []
    for kind, body in [*_bodies(event), *extra]:
        before = await in_app(client, row_counts)
        headers = {"content-type": "application/json", header: signatures.sign(body, secret)}
        answer = await client.post(url, content=body, headers=headers)
        label = f"{url} ({kind}): {answer.status_code}"
        if answer.status_code != 400:
            failures.append(label + " " + answer.text[:200])
        elif not answer.headers["content-type"].startswith(PROBLEM):
            failures.append(label + " " + answer.headers["content-type"])
        elif await in_app(client, row_counts) != before:
            failures.append(label + " rows written")
    return failures


async def test_signed_sandbox_webhooks_with_absurd_values_are_refused(
    client: Any, demo: None
) -> None:
    huge_fee = {"fee": {"amount": 2**62, "currency": "CNY"}}
    extra = iter(
        [
            ("a fee of 2**62", json.dumps(_sandbox_event(**huge_fee)).encode()),
            ("a long id", json.dumps(_sandbox_event(donation_id="d" * 10_000)).encode()),
        ]
    )
    failures = await _throw_webhooks(
        client, "/webhooks/sandbox", SANDBOX_SIGNATURE, SANDBOX_SECRET, _sandbox_event, extra
    )
    assert not failures, "\n".join(failures)


async def test_signed_stripe_webhooks_with_absurd_values_are_refused(
    fake_stripe: Any, stripe_client: Any
) -> None:
    extra = iter(
        [
            ("an amount past int64", json.dumps(_stripe_event(amount_total=10**20)).encode()),
            ("an amount of 2**62", json.dumps(_stripe_event(amount_total=2**62)).encode()),
        ]
    )
    failures = await _throw_webhooks(
        stripe_client, "/webhooks/stripe", STRIPE_SIGNATURE, STRIPE_SECRET, _stripe_event, extra
    )
    assert not failures, "\n".join(failures)
