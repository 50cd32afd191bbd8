"""The OpenAPI schema tells the truth (docs/adr/0018-openapi.md).

Litestar builds the schema from the routes; `describe` finishes it, in one place, with what
Litestar cannot know:

- **Which routes.** The schema is the machine interface: the routes that answer errors as
  problem documents (`errors.MACHINE_PREFIXES`: the JSON API under `/api/`, with the ledger's
  JSONL and CSV exports, the providers' webhooks, `/healthz`). Pages for people are left out.
- **Every status an operation can answer**, each error as `application/problem+json` with the
  `Problem` schema. Some follow from the operation itself: any → 400 (an address with a NUL
  byte or broken UTF-8, refused at the edge by `middleware.url_guard_middleware`); a path
  parameter → 404 (no such thing) and 414 (a segment longer than any name); any parameter or
  body → 400 (malformed); a body → 413 (too large); the route's own guards → 401 (not logged
  in) and 403 (no role for this object); a write under `/api/` → 403 (a session cookie without
  the CSRF header) and 415 (a body that is not JSON), the app's rule for API writes
  (`accounts.guards.require_safe_api_writes`). The rest a route declares with
  `opt=api(problems={409: "when…"})`, beside its code.
- **Bodies a route reads itself** (to answer 422 with every field's problem rather than
  Litestar's 400), declared with `api(body=AStruct)` or a JSON Schema, and the request headers
  such a route reads (`api(headers=…)`, e.g. a webhook's signature).
- **Media types without parameters** (`text/csv`, not `text/csv; charset=utf-8`), and a string
  schema for what is not JSON (the ledger's JSONL and CSV).

Answers that are not problems (the health check's 503) are declared the Litestar way, with
`responses=`. The schema is served at `/schema/openapi.json` by `DescribedJsonRenderPlugin`.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec
from litestar import Litestar, Request
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.routes import HTTPRoute

from linju.platform.accounts.sessions import SESSION_COOKIE
from linju.platform.errors import MACHINE_PREFIXES, PROBLEM_MEDIA_TYPE
from linju.platform.kernel.inputs import INT64_MAX

OPT_KEY = "linju_api"
COMPONENTS_REF = "#/components/schemas/{name}"
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
SCHEMA_PATH = "/schema"
ERROR_FIRST_STATUS = 400

# Each member of a problem document the platform writes (platform/errors.py): RFC 9457's five,
# and the extensions `errors` (a form's fields and their messages, or Litestar's list of what
# failed validation) and `reasons` (every reason for a refusal).
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Problem",
    "description": "An RFC 9457 problem document (media type application/problem+json).",
    "required": ["type", "title", "status", "detail", "instance"],
    "properties": {
        "type": {"type": "string", "description": "Always about:blank: the status says it."},
        "title": {"type": "string", "description": "The status's phrase (Not Found)."},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string", "description": "What went wrong, in the visitor's language."},
        "instance": {"type": "string", "description": "The path that was asked for."},
        "errors": {
            "description": "The fields at fault, each with its message: a refused body's "
            "fields, or the parameter, header or body that failed validation.",
            "type": "object",
            "additionalProperties": {"type": "string"},
        },
        "reasons": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Every reason the action was refused.",
        },
    },
}

# What each status means when the route says nothing more.
DEFAULT_DESCRIPTIONS: dict[int, str] = {
    400: "A parameter or the body is malformed",
    401: "Nobody is logged in",
    403: "The account has no role for this object",
    404: "There is no such thing",
    409: "The object's current state does not allow it",
    413: "The body is too large",
    414: "A path segment is longer than any name",
    415: "The body is not JSON (Content-Type application/json)",
    422: "The input breaks a rule; `errors` names each field",
    503: "A service it needs cannot be reached; nothing was done, try again later",
}
# Refused at the edge, before routing (`middleware.url_guard_middleware`), on any route.
ADDRESS_UNREADABLE = "The address holds a NUL byte or is not UTF-8"
UNSAFE_API_WRITE = (
    "A session cookie authenticates the request and the X-CSRF-Token header does not carry the "
    "token of the linju_csrf cookie"
)
SESSION_SCHEME = "session"
SESSION_SECURITY = {
    "type": "apiKey",
    "in": "cookie",
    "name": SESSION_COOKIE,
    "description": "The session of a logged-in account (set by logging in on /login). A write "
    "under /api/ that sends it sends the token of the linju_csrf cookie in X-CSRF-Token too.",
}
BODY_METHODS = frozenset({"post", "put", "patch"})
WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})
API_PREFIX = "/api/"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass(frozen=True, slots=True)
class ApiDoc:
    """What a route tells the schema beyond its signature (see `api`)."""

    problems: Mapping[int, str] = field(default_factory=dict)
    body: type | Mapping[str, Any] | None = None
    body_media_type: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)


def api(
    *,
    problems: Mapping[int, str] | None = None,
    body: type | Mapping[str, Any] | None = None,
    body_media_type: str = "application/json",
    headers: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A route's `opt`: the problems it answers (status → when), the body it reads itself (a
    msgspec Struct or a JSON Schema) and the request headers it requires (name → meaning)."""
    doc = ApiDoc(dict(problems or {}), body, body_media_type, dict(headers or {}))
    return {OPT_KEY: doc}


def in_schema(path: str) -> bool:
    """The schema's one rule for routes: those that answer in problem documents."""
    return path.startswith(MACHINE_PREFIXES) and not path.startswith(SCHEMA_PATH)


def describe(schema: Mapping[str, Any], app: Litestar) -> dict[str, Any]:
    """Litestar's schema of `app`, finished: see the module's docstring."""
    described = copy.deepcopy(dict(schema))
    components = described.setdefault("components", {}).setdefault("schemas", {})
    _add_component(components, "Problem", PROBLEM_SCHEMA)
    described["components"]["securitySchemes"] = {SESSION_SCHEME: SESSION_SECURITY}
    handlers = _handlers(app)
    paths = described.get("paths", {})
    for path in list(paths):
        if not in_schema(path):
            del paths[path]
            continue
        for method, operation in paths[path].items():
            if method in METHODS:
                route = handlers.get((path, method))
                _describe_operation(path, method, operation, route, components)
    return described


def _handlers(app: Litestar) -> dict[tuple[str, str], tuple[ApiDoc, bool]]:
    """(path, method) → what the route declares and whether it has guards."""
    found: dict[tuple[str, str], tuple[ApiDoc, bool]] = {}
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for method, (handler, _) in route.route_handler_map.items():
            doc = handler.opt.get(OPT_KEY, ApiDoc())
            guarded = bool(handler.guards)  # the route's own, not the app's (CSRF, above)
            found[(route.path_format or "/", str(method).lower())] = (doc, guarded)
    return found


def _describe_operation(
    path: str,
    method: str,
    operation: dict[str, Any],
    route: tuple[ApiDoc, bool] | None,
    components: dict[str, Any],
) -> None:
    doc, guarded = route or (ApiDoc(), False)
    for name, meaning in doc.headers.items():
        operation.setdefault("parameters", []).append(
            {"name": name, "in": "header", "required": True, "schema": {"type": "string"}}
            | {"description": meaning}
        )
    if doc.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {doc.body_media_type: {"schema": _body_schema(doc.body, components)}},
        }
    has_body = "requestBody" in operation or method in BODY_METHODS
    parameters = operation.get("parameters", [])
    for parameter in parameters:
        _exact_integer_bounds(parameter.get("schema", {}))
    problems: dict[int, str] = {400: ADDRESS_UNREADABLE}
    if parameters or has_body:
        problems[400] = f"{DEFAULT_DESCRIPTIONS[400]}, or {ADDRESS_UNREADABLE[0].lower()}"
        problems[400] += ADDRESS_UNREADABLE[1:]
    if any(p.get("in") == "path" for p in parameters):
        problems[404] = DEFAULT_DESCRIPTIONS[404]
        problems[414] = DEFAULT_DESCRIPTIONS[414]
    if has_body:
        problems[413] = DEFAULT_DESCRIPTIONS[413]
    if guarded:
        problems[401] = DEFAULT_DESCRIPTIONS[401]
        problems[403] = DEFAULT_DESCRIPTIONS[403]
        operation["security"] = [{SESSION_SCHEME: []}]
    if method in WRITE_METHODS and path.startswith(API_PREFIX):
        problems[403] = (
            f"{problems[403]}; or: {UNSAFE_API_WRITE}" if 403 in problems else (UNSAFE_API_WRITE)
        )
        problems[415] = DEFAULT_DESCRIPTIONS[415]
    for status, when in doc.problems.items():
        problems[status] = when or DEFAULT_DESCRIPTIONS.get(status, "")

    responses: dict[str, Any] = operation.setdefault("responses", {})
    for code in list(responses):
        if _is_error(code) and not _declared_by_route(responses[code]):
            del responses[code]  # Litestar's guess: a JSON body that is not what we answer
    for answer in responses.values():
        _plain_media_types(answer)
        for header in answer.get("headers", {}).values():
            if "schema" not in header and "content" not in header:
                header["schema"] = {"type": "string"}
    for status, description in sorted(problems.items()):
        responses[str(status)] = {
            "description": description,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": dict(PROBLEM_REF)}},
        }
    operation["responses"] = dict(sorted(responses.items()))


def _exact_integer_bounds(schema: dict[str, Any]) -> None:
    """Litestar writes an integer parameter's bounds as floats: `le=INT64_MAX` becomes
    9.223372036854776e+18, which is 2**63 and not a bound a client can send. Write them as the
    integers the edge checks (platform/kernel/inputs.py)."""
    if schema.get("type") != "integer":
        return
    for key in ("minimum", "maximum"):
        bound = schema.get(key)
        if isinstance(bound, float):
            schema[key] = max(-INT64_MAX - 1, min(INT64_MAX, int(bound)))


def _is_error(status: str) -> bool:
    return status.isdigit() and int(status) >= ERROR_FIRST_STATUS


def _declared_by_route(answer: Mapping[str, Any]) -> bool:
    """An error answer the route declared itself (`responses=`), not Litestar's default for a
    ValidationException (`{status_code, detail, extra}`)."""
    for media in answer.get("content", {}).values():
        properties = media.get("schema", {}).get("properties", {})
        if {"status_code", "detail", "extra"} <= set(properties):
            return False
    return True


def _plain_media_types(answer: dict[str, Any]) -> None:
    """Media types as keys without parameters; a string schema for what is not JSON."""
    content = answer.get("content")
    if not content:
        return
    plain: dict[str, Any] = {}
    for media_type, media in content.items():
        bare = media_type.split(";", 1)[0].strip()
        if not _is_json(bare) and not media.get("schema"):
            media = {**media, "schema": {"type": "string"}}
        plain[bare] = media
    answer["content"] = plain


def _is_json(media_type: str) -> bool:
    return media_type == "application/json" or media_type.endswith("+json")


def _body_schema(body: type | Mapping[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    if isinstance(body, Mapping):
        return dict(body)
    (reference,), found = msgspec.json.schema_components([body], ref_template=COMPONENTS_REF)
    for name, schema in found.items():
        _add_component(components, name, schema)
    return dict(reference)


def _add_component(components: dict[str, Any], name: str, schema: Mapping[str, Any]) -> None:
    schema = dict(schema)
    if isinstance(schema.get("description"), str):  # a docstring, as msgspec takes it
        schema["description"] = inspect.cleandoc(schema["description"])
    existing = components.get(name)
    if existing is not None and existing != schema:
        raise RuntimeError(f"two different schemas are named {name} in the OpenAPI schema")
    components[name] = schema


def operations(schema: Mapping[str, Any]) -> Iterable[tuple[str, str, dict[str, Any]]]:
    """Every (path, method, operation) of a schema."""
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


class DescribedJsonRenderPlugin(JsonRenderPlugin):
    """Serves `describe(app's schema)` at /schema/openapi.json, built once per app."""

    def __init__(self) -> None:
        super().__init__()
        self._described: dict[str, Any] | None = None

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        if self._described is None:
            self._described = describe(openapi_schema, request.app)
        return self.render_json(request, self._described)
