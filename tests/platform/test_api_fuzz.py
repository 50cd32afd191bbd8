"""A property-based fuzz of every operation of the OpenAPI schema (docs/adr/0018-openapi.md).

Schemathesis reads the schema the app serves and, for each operation, draws requests from it
with Hypothesis: valid ones (positive), ones that break the schema (negative), and valid ones
with one value made hostile (NUL, lone surrogates, invalid UTF-8, integers past 64 bits, other
scripts' digits, deep JSON, absurd signature timestamps); half of them with the path
parameters of real things (the demo's projects, communities, ledger entries, donations and a
receipt token), so the fuzz reaches past the 404s. Each answer must not be a 5xx, and its status,
content type and body must be what the schema says (schemathesis' checks), a problem document's
`status` the answer's own. Anonymous, and again as a platform admin (a session cookie with the
CSRF header, as a browser's script would send it).

Bounded and deterministic: derandomized, `EXAMPLES` per operation and mode. The app runs on the
test's loop (tests/client_support.py); Hypothesis drives it from a worker thread, each request
sent to the loop. A failure is collected, not raised at once (so nothing shrinks and one
operation's fault hides no other's), and the test fails at the end listing every one.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import json
from collections.abc import Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import httpx
import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core import NotSet
from schemathesis.errors import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from linju.payments import signatures
from linju.payments.sandbox import SIGNATURE_HEADER
from linju.projects.donations.tables import Donation
from linju.projects.ledger.tables import LedgerHead
from tests.accounts_support import log_in, make_account
from tests.client_support import BASE_URL, AppClient
from tests.payments.helpers import SANDBOX_SECRET

pytestmark = pytest.mark.fuzz

EXAMPLES = 30  # per operation and mode: about a minute per identity on either engine
POSITIVE = schemathesis.GenerationMode.POSITIVE
NEGATIVE = schemathesis.GenerationMode.NEGATIVE
HOSTILE = "hostile"  # a valid request with one value made hostile (below)
MODES: tuple[Any, ...] = (POSITIVE, NEGATIVE, HOSTILE)

# Hostile values, of the kinds that have broken web apps: NUL bytes, lone surrogates, integers
# past int64 (and past any size), other scripts' digits, absurd numbers and dates, huge text.
# `RAW%..` is sent as those bytes, not encoded: invalid UTF-8 in a URL.
RAW = "RAW%"
HOSTILE_URL_TEXT = [
    "\x00",
    "a\x00b",
    "\x7f\x1b[0m",
    "¹²³",
    "١٢٣",
    "１２３",
    "9223372036854775808",
    "-9223372036854775809",
    "99999999999999999999999999",
    "1" + "0" * 5000,
    "1e400",
    "NaN",
    "-0",
    " 1 ",
    "0001-01-01",
    "9999-12-31T23:59:59+14:00",
    f"{RAW}FF",
    f"{RAW}ED%A0%80",
    f"{RAW}C0%80",
    "..",
    "%",
    "x" * 5000,
]
HOSTILE_JSON: list[Any] = [
    "a\x00b",
    "\ud800",
    "x\udfff",
    2**63,
    -(2**63) - 1,
    10**30,
    10**1000,
    float("inf"),
    float("nan"),
    1e308,
    "¹²³",
    "9999-12-31T23:59:59Z",
    True,
    None,
    [],
    {},
    "x" * 100_000,
]
HOSTILE_BODIES = [
    b"[" * 100_000,
    b'{"a":' * 50_000,
    b"\xff\xfe\x00",
    b'"\\ud800"',
    b"NaN",
    b'{"amount": {"amount": 1e400, "currency": "CNY"}, "reason": "x"}',
    b'{"amount": {"amount": 18446744073709551616, "currency": "CNY"}, "reason": "x"}',
    b"",
]
HOSTILE_SIGNATURES = [
    "t=99999999999999999999,v1=00",
    "t=-99999999999999999999,v1=00",
    "t=1e400,v1=00",
    "t=¹²³,v1=00",
    "t=" + "9" * 5000 + ",v1=00",
    "t=\x00,v1=00",
]
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
SANDBOX_WEBHOOK = "/webhooks/sandbox"  # signed half the time, so its body is read
CSRF_COOKIE = "linju_csrf"
CSRF_HEADER = "X-CSRF-Token"
REQUEST_TIMEOUT = 60.0
T = TypeVar("T")


@dataclass
class Findings:
    """What the fuzz saw: each failure once (by operation, check and status), and the statuses."""

    failures: dict[tuple[str, str, int], str] = field(default_factory=dict)
    statuses: dict[str, set[int]] = field(default_factory=dict)
    unsendable: int = 0

    def report(self) -> str:
        return "\n\n".join(
            f"{operation} → {status}: {check}\n{detail}"
            for (operation, check, status), detail in sorted(self.failures.items())
        )


async def _real_path_parameters(
    client: AppClient, headers: Mapping[str, str]
) -> list[dict[str, str]]:
    """Rows of path parameters that name real things, so the fuzz gets past the 404s."""
    rows: list[dict[str, str]] = []
    communities = (await client.get("/api/v1/communities")).json()
    rows += [{"slug": community["slug"]} for community in communities]
    heads = await LedgerHead.select(LedgerHead.project.slug, LedgerHead.seq)
    for head in heads:
        slug, last = head["project.slug"], int(head["seq"])
        rows += [{"slug": slug, "seq": str(seq)} for seq in sorted({1, max(last, 1), last + 1})]
    needs = (await client.get("/api/v1/communities/lvjingyuan/needs")).json()
    rows += [{"need_id": str(need["id"])} for need in needs]  # residents' needs (ADR 0033)
    hearings = (await client.get("/api/v1/communities/lvjingyuan/hearings")).json()
    rows += [{"hearing_id": str(h["id"])} for h in hearings]  # hearings (ADR 0032)
    donations = await Donation.select(Donation.public_id, Donation.project.slug).limit(20)
    rows += [{"slug": d["project.slug"], "donation_id": d["public_id"]} for d in donations]
    # A donation started now gives its receipt's secret token, which only its donor sees.
    slug = next(row["slug"] for row in rows if "seq" in row)
    started = await client.post(
        f"/api/v1/projects/{slug}/donations",
        json={"amount": {"amount": 5000, "currency": "CNY"}, "anonymous": True},
        headers=dict(headers),
    )
    receipt_url = started.json().get("receipt_url") if started.status_code == 201 else None
    if receipt_url:
        rows.append({"slug": slug, "token": urlsplit(receipt_url).path.rsplit("/", 1)[-1]})
    return rows


def _parameter_sets(operation: Any, rows: Iterable[Mapping[str, str]]) -> list[dict[str, str]]:
    """The distinct real values for the operation's path parameters (none when it has none)."""
    names = [p.name for p in operation.path_parameters]
    if not names:
        return []
    found = {tuple(row[name] for name in names) for row in rows if all(n in row for n in names)}
    return [dict(zip(names, values, strict=True)) for values in sorted(found)]


@dataclass(frozen=True)
class Drawn:
    """A case to send, a body to send instead of its own (raw bytes), if any, and whether to
    sign it as the sandbox signs its webhooks (so that a webhook's body is read at all)."""

    case: Any
    raw_body: bytes | None = None
    signed: bool = False


def _strategy(operation: Any, mode: Any, real: list[dict[str, str]]) -> st.SearchStrategy[Drawn]:
    generation = POSITIVE if mode == HOSTILE else mode
    generated = operation.as_strategy(generation_mode=generation)
    if real:
        seeded = st.sampled_from(real).flatmap(
            lambda params: operation.as_strategy(generation_mode=generation, path_parameters=params)
        )
        generated = st.one_of(generated, seeded)
    drawn: st.SearchStrategy[Drawn] = (
        st.tuples(generated, st.data()).map(lambda pair: _make_hostile(*pair))
        if mode == HOSTILE
        else generated.map(Drawn)
    )
    if operation.path == SANDBOX_WEBHOOK:
        drawn = st.tuples(drawn, st.booleans()).map(
            lambda pair: dataclasses.replace(pair[0], signed=pair[1])
        )
    return drawn


def _make_hostile(case: Any, data: st.DataObject) -> Drawn:
    """The case with one value made hostile: a path or query parameter, a header, a JSON leaf of
    the body, or the whole body."""
    operation = case.operation
    places: list[tuple[str, Any]] = [("path", name) for name in case.path_parameters or {}]
    places += [("query", name) for name in sorted({p.name for p in operation.query})]
    places += [("header", p.name) for p in operation.headers]
    if not isinstance(case.body, NotSet):
        places += [("body", path) for path in _leaves(case.body)]
    if len(operation.body):
        places.append(("raw", None))
    if not places:
        return Drawn(case)
    where, name = data.draw(st.sampled_from(places), label="where")
    if where == "path":
        case.path_parameters[name] = data.draw(st.sampled_from(HOSTILE_URL_TEXT), label="value")
    elif where == "query":
        case.query = {**(case.query or {}), name: data.draw(st.sampled_from(HOSTILE_URL_TEXT))}
    elif where == "header":
        case.headers[name] = data.draw(st.sampled_from(HOSTILE_SIGNATURES), label="value")
    elif where == "body":
        value = data.draw(st.sampled_from(HOSTILE_JSON), label="value")
        case.body = _replaced(case.body, name, value)
    else:
        return Drawn(case, raw_body=data.draw(st.sampled_from(HOSTILE_BODIES), label="body"))
    return Drawn(case)


def _leaves(value: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path of every value in a JSON document, containers included."""
    found = [at]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _leaves(item, (*at, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _leaves(item, (*at, index))
    return found


def _replaced(document: Any, at: tuple[Any, ...], value: Any) -> Any:
    if not at:
        return value
    copied = copy.copy(document)
    copied[at[0]] = _replaced(document[at[0]], at[1:], value)
    return copied


def _text(value: str | bytes) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value


def _on_loop(loop: asyncio.AbstractEventLoop, make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    return asyncio.run_coroutine_threadsafe(make(), loop).result(timeout=REQUEST_TIMEOUT)


def _send(target: Target, drawn: Drawn) -> httpx.Response | None:
    """The case's request, encoded as schemathesis encodes it, sent to the app; None when it
    cannot be sent at all (a header no HTTP client would put on the wire)."""
    case = drawn.case
    try:
        kwargs = case.as_transport_kwargs(base_url=BASE_URL)
        prepared = requests.Request(
            method=kwargs["method"],
            url=kwargs["url"],
            headers={**kwargs.get("headers", {}), **target.headers},
            params=kwargs.get("params"),
            # json.dumps as Python writes it, NaN and Infinity included (requests refuses them)
            data=json.dumps(kwargs["json"]).encode() if "json" in kwargs else kwargs.get("data"),
            files=kwargs.get("files"),
            cookies=kwargs.get("cookies"),
        ).prepare()
        headers = {name: _text(value) for name, value in prepared.headers.items()}
        body = prepared.body
        assert body is None or isinstance(body, str | bytes), body
        if drawn.raw_body is not None:
            body = drawn.raw_body
            headers["Content-Type"] = "application/json"
            headers.pop("Content-Length", None)
        if drawn.signed:
            raw = body.encode() if isinstance(body, str) else body or b""
            headers[SIGNATURE_HEADER] = signatures.sign(raw, SANDBOX_SECRET)
        url = (prepared.url or BASE_URL).replace(quote(RAW), "%")
        request = target.client.build_request(
            prepared.method or "GET", url, headers=headers, content=body
        )
    except (ValueError, TypeError, UnicodeError, httpx.InvalidURL, requests.RequestException):
        return None

    async def send() -> httpx.Response:
        response = await target.client.send(request, follow_redirects=False)
        await response.aread()
        return response

    try:
        return _on_loop(target.loop, send)
    except (httpx.LocalProtocolError, httpx.UnsupportedProtocol, UnicodeEncodeError):
        return None


def _described(drawn: Drawn) -> str:
    case = drawn.case
    body = drawn.raw_body[:80] if drawn.raw_body is not None else repr(case.body)[:300]
    return f"path {case.path_parameters!r:.300} query {case.query!r:.300} body {body!r}"


def _problem_status_matches(response: httpx.Response) -> str | None:
    """A problem document's `status` is the answer's own status."""
    if response.status_code < 400:
        return None
    try:
        body = json.loads(response.content)
    except ValueError:
        return f"the {response.status_code} answer is not JSON: {response.content[:200]!r}"
    if not isinstance(body, dict) or body.get("status") != response.status_code:
        return f"the problem document says {body!r}"
    return None


@dataclass(frozen=True)
class Target:
    """Where the fuzz sends its requests: the app on the test's loop, with an identity's headers."""

    client: AppClient
    loop: asyncio.AbstractEventLoop
    headers: Mapping[str, str]


def _fuzz(target: Target, schema: dict[str, Any], rows: list[dict[str, str]]) -> Findings:
    """Every operation of `schema`, in both modes; runs in a worker thread."""
    findings = Findings()
    loaded = schemathesis.openapi.from_dict(schema)
    for result in loaded.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]  # an Err raises: the schema is broken
        for mode in MODES:
            _fuzz_operation(target, operation, mode, _parameter_sets(operation, rows), findings)
    return findings


def _fuzz_operation(
    target: Target, operation: Any, mode: Any, real: list[dict[str, str]], findings: Findings
) -> None:
    label = f"{operation.method.upper()} {operation.path}"
    seen = findings.statuses.setdefault(label, set())

    @hypothesis.settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis.given(drawn=_strategy(operation, mode, real))
    def fuzz(drawn: Drawn) -> None:
        case = drawn.case
        response = _send(target, drawn)
        if response is None:
            findings.unsendable += 1
            return
        seen.add(response.status_code)
        try:
            case.validate_response(response, checks=CHECKS)
        except FailureGroup as group:  # what failed, and how to reproduce it
            for failure in group.exceptions:
                key = (label, failure.title, response.status_code)
                findings.failures.setdefault(key, f"[{mode}] {_described(drawn)}\n{group}"[:3000])
        problem = _problem_status_matches(response)
        if problem:
            findings.failures.setdefault((label, "problem status", response.status_code), problem)

    try:
        fuzz()
    except hypothesis.errors.Unsatisfiable:
        assert mode == NEGATIVE, f"no request for {label}"  # nothing to break


async def _run(client: AppClient, headers: Mapping[str, str]) -> Findings:
    schema = (await client.get("/schema/openapi.json")).json()
    rows = await _real_path_parameters(client, headers)
    target = Target(client, asyncio.get_running_loop(), headers)
    return await asyncio.to_thread(_fuzz, target, schema, rows)


async def test_every_operation_answers_as_documented_to_anyone(
    demo: None, client: AppClient
) -> None:
    findings = await _run(client, headers={})
    assert not findings.failures, findings.report()
    assert any(200 in statuses for statuses in findings.statuses.values())


async def test_every_operation_answers_as_documented_to_an_admin(
    demo: None, client: AppClient
) -> None:
    await log_in(client, await make_account("fuzz-admin@example.cn", "admin"))
    await client.get("/")  # the page sets the CSRF cookie; a script sends it back as a header
    token = client.cookies.get(CSRF_COOKIE)
    assert token, "the page set no CSRF cookie"
    findings = await _run(client, headers={CSRF_HEADER: token})
    assert not findings.failures, findings.report()
    refunds = next(label for label in findings.statuses if label.endswith("/refunds"))
    assert findings.statuses[refunds] - {401, 403}, "the admin never got past the guard"
