"""The OpenAPI schema tells the truth (docs/adr/0018-openapi.md).

The schema at /schema/openapi.json describes the machine interface and nothing else; every
error an operation documents is a problem document; the ledger's exports declare their media
types; and every status each operation documents is provoked here, against the demo, and the
answer has that status, a content type the schema lists for it, and a body its schema accepts.
The fuzz (test_api_fuzz.py) checks the other way round: every answer it provokes is documented.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import schemathesis

from linju.platform.errors import MACHINE_PREFIXES
from linju.platform.openapi import operations
from linju.projects.donations.tables import Donation
from tests.accounts_support import log_in, log_out, make_account
from tests.client_support import AppClient
from tests.fakes.stripe_fixtures import WEBHOOK_SECRET
from tests.fakes.stripe_server import FakeStripe
from tests.payments.helpers import sandbox_event, signed

PROJECT = "tongqu-leyuan"  # the demo's, taking donations, in 绿景苑 (lvjingyuan)
COMPLETED = "wuding-huayuan"  # the demo's completed project: it takes no donations
OTHER_COMMUNITY = "hepingli"
PROBLEM = "application/problem+json"
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
NUL = "a%00b"
LONG = "x" * 300  # a path segment longer than any name
TOO_LARGE = 10_000_001  # one byte past Litestar's request_max_body_size
JSON = {"Content-Type": "application/json"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _donation(amount: int = 5000) -> dict[str, Any]:
    return {"amount": {"amount": amount, "currency": "CNY"}, "anonymous": True}


def _refund(amount: int = 100) -> dict[str, Any]:
    return {"amount": {"amount": amount, "currency": "CNY"}, "reason": "测试"}


@dataclass
class World:
    """The demo, and what a request needs to reach each refusal."""

    client: AppClient
    admin: int
    other_secretary: int
    confirmed: str  # a confirmed donation to PROJECT
    pending: str  # a pending one, with its checkout
    checkout_url: str
    token: str  # the pending donation's receipt token

    async def as_anyone(self) -> AppClient:
        log_out(self.client)
        return self.client

    async def as_admin(self) -> AppClient:
        await log_in(self.client, self.admin)
        return self.client

    async def as_other_secretary(self) -> AppClient:
        await log_in(self.client, self.other_secretary)
        return self.client

    def csrf(self) -> dict[str, str]:
        return {"X-CSRF-Token": self.client.cookies.get("linju_csrf") or ""}


Provoke = Callable[[World], Awaitable[httpx.Response]]
DONATIONS = "/api/v1/projects/{slug}/donations"
REFUNDS = "/api/v1/projects/{slug}/donations/{donation_id}/refunds"
STEWARD_DONATION = "/api/v1/projects/{slug}/donations/{donation_id}"


async def _post_donation(world: World, slug: str, **kwargs: Any) -> httpx.Response:
    client = await world.as_anyone()
    return await client.post(f"/api/v1/projects/{slug}/donations", **kwargs)


async def _post_refund(world: World, donation: str, **kwargs: Any) -> httpx.Response:
    client = await world.as_admin()
    headers = {**world.csrf(), **kwargs.pop("headers", {})}
    return await client.post(
        f"/api/v1/projects/{PROJECT}/donations/{donation}/refunds", headers=headers, **kwargs
    )


async def _sandbox_webhook(world: World, payload: dict[str, Any]) -> httpx.Response:
    body, headers = signed(payload)
    client = await world.as_anyone()
    return await client.post("/webhooks/sandbox", content=body, headers=headers)


async def _reported_otherwise(world: World, **data: Any) -> httpx.Response:
    """The sandbox's report of the pending donation's payment, with `data` changed."""
    event = await sandbox_event(world.checkout_url, "paid")
    event["data"].update(data)
    return await _sandbox_webhook(world, event)


async def _get(world: World, path: str, who: str = "anyone") -> httpx.Response:
    client = await {"anyone": world.as_anyone, "admin": world.as_admin}[who]()
    return await client.get(path)


def _gets(path: str, bad: str, missing: str, long: str) -> dict[int, Provoke]:
    """A public GET's 400 (a NUL in the address), 404 and 414."""
    return {
        400: lambda w: _get(w, bad),
        404: lambda w: _get(w, missing),
        414: lambda w: _get(w, long),
    }


# Every documented error of every operation, and the request that provokes it.
PROVOKE: dict[tuple[str, str], dict[int, Provoke]] = {
    ("get", "/healthz"): {400: lambda w: _get(w, f"/healthz?probe={NUL}")},
    ("get", "/api/v1/communities"): {400: lambda w: _get(w, f"/api/v1/communities?x={NUL}")},
    ("get", "/api/v1/communities/{slug}"): _gets(
        "/api/v1/communities/{slug}",
        f"/api/v1/communities/{NUL}",
        "/api/v1/communities/nowhere",
        f"/api/v1/communities/{LONG}",
    ),
    ("get", "/api/v1/projects"): {400: lambda w: _get(w, "/api/v1/projects?status=bogus")},
    ("get", "/api/v1/projects/{slug}"): _gets(
        "", f"/api/v1/projects/{NUL}", "/api/v1/projects/nothing", f"/api/v1/projects/{LONG}"
    ),
    ("get", "/api/v1/donations/{token}"): _gets(
        "", f"/api/v1/donations/{NUL}", "/api/v1/donations/rct_nothing", f"/api/v1/donations/{LONG}"
    ),
    ("get", STEWARD_DONATION): {
        400: lambda w: _get(w, f"/api/v1/projects/{PROJECT}/donations/{NUL}", "admin"),
        401: lambda w: _get(w, f"/api/v1/projects/{PROJECT}/donations/{w.confirmed}"),
        403: lambda w: _steward_get_as_other_secretary(w),
        404: lambda w: _get(w, f"/api/v1/projects/{PROJECT}/donations/don_nothing", "admin"),
        414: lambda w: _get(w, f"/api/v1/projects/{PROJECT}/donations/{LONG}", "admin"),
    },
    ("post", DONATIONS): {
        400: lambda w: _post_donation(w, NUL, json=_donation()),
        403: lambda w: _donation_with_a_session_but_no_csrf_header(w),
        404: lambda w: _post_donation(w, "nothing", json=_donation()),
        409: lambda w: _post_donation(w, COMPLETED, json=_donation()),
        413: lambda w: _post_donation(w, PROJECT, content=b" " * TOO_LARGE, headers=JSON),
        414: lambda w: _post_donation(w, LONG, json=_donation()),
        415: lambda w: _post_donation(w, PROJECT, content=b"amount=50", headers=FORM),
        422: lambda w: _post_donation(w, PROJECT, json=_donation(amount=1)),
        # 503: the provider is down (test_the_stripe_statuses_are_what_the_schema_says)
    },
    ("post", REFUNDS): {
        400: lambda w: _post_refund(w, NUL, json=_refund()),
        401: lambda w: _refund_as_anyone(w),
        403: lambda w: _post_refund(w, w.confirmed, json=_refund(), headers={"X-CSRF-Token": ""}),
        404: lambda w: _post_refund(w, "don_nothing", json=_refund()),
        409: lambda w: _post_refund(w, w.pending, json=_refund()),
        413: lambda w: _post_refund(w, w.confirmed, content=b" " * TOO_LARGE, headers=JSON),
        414: lambda w: _post_refund(w, LONG, json=_refund()),
        415: lambda w: _post_refund(w, w.confirmed, content=b"amount=1", headers=FORM),
        422: lambda w: _post_refund(w, w.confirmed, json=_refund(amount=0)),
    },
    ("post", "/webhooks/sandbox"): {
        400: lambda w: _sandbox_webhook_unsigned(w),
        404: lambda w: _reported_otherwise(w, donation_id="don_nothing"),
        409: lambda w: _reported_otherwise(w, amount={"amount": 1, "currency": "CNY"}),
        413: lambda w: _post_raw(w, "/webhooks/sandbox", b" " * TOO_LARGE),
        422: lambda w: _reported_otherwise(w, fee={"amount": 30, "currency": "USD"}),
    },
    ("post", "/webhooks/stripe"): {
        400: lambda w: _post_raw(w, f"/webhooks/stripe?x={NUL}", b"{}"),
        404: lambda w: _post_raw(w, "/webhooks/stripe", b"{}"),  # Stripe is not configured
        413: lambda w: _post_raw(w, "/webhooks/stripe", b" " * TOO_LARGE),
        # 409, 422, 503: with Stripe configured (the test below, and tests/payments/test_stripe.py)
    },
    ("get", "/api/v1/projects/{slug}/ledger"): {
        400: lambda w: _get(w, f"/api/v1/projects/{PROJECT}/ledger?after=-1"),
        404: lambda w: _get(w, "/api/v1/projects/nothing/ledger"),
        414: lambda w: _get(w, f"/api/v1/projects/{LONG}/ledger"),
    },
    ("get", "/api/v1/projects/{slug}/ledger/{seq}"): {
        400: lambda w: _get(w, f"/api/v1/projects/{PROJECT}/ledger/¹"),
        404: lambda w: _get(w, f"/api/v1/projects/{PROJECT}/ledger/100000"),
        414: lambda w: _get(w, f"/api/v1/projects/{PROJECT}/ledger/{LONG}"),
    },
    ("get", "/api/v1/projects/{slug}/ledger/{seq}/proof"): {
        400: lambda w: _get(w, f"/api/v1/projects/{PROJECT}/ledger/¹/proof"),
        404: lambda w: _get(w, f"/api/v1/projects/{PROJECT}/ledger/100000/proof"),
        414: lambda w: _get(w, f"/api/v1/projects/{LONG}/ledger/1/proof"),
    },
    ("get", "/api/v1/projects/{slug}/ledger.jsonl"): _gets(
        "",
        f"/api/v1/projects/{NUL}/ledger.jsonl",
        "/api/v1/projects/nothing/ledger.jsonl",
        f"/api/v1/projects/{LONG}/ledger.jsonl",
    ),
    ("get", "/api/v1/projects/{slug}/ledger.csv"): _gets(
        "",
        f"/api/v1/projects/{NUL}/ledger.csv",
        "/api/v1/projects/nothing/ledger.csv",
        f"/api/v1/projects/{LONG}/ledger.csv",
    ),
    ("get", "/api/v1/projects/{slug}/disclosures"): _gets(
        "",
        f"/api/v1/projects/{NUL}/disclosures",
        "/api/v1/projects/nothing/disclosures",
        f"/api/v1/projects/{LONG}/disclosures",
    ),
    ("get", "/api/v1/communities/{slug}/needs"): _gets(
        "",
        f"/api/v1/communities/{NUL}/needs",
        "/api/v1/communities/nowhere/needs",
        f"/api/v1/communities/{LONG}/needs",
    ),
    ("get", "/api/v1/needs/{need_id}"): {
        400: lambda w: _get(w, "/api/v1/needs/not-a-number"),
        404: lambda w: _get(w, "/api/v1/needs/999999"),
        414: lambda w: _get(w, f"/api/v1/needs/{LONG}"),
    },
    ("get", "/api/v1/communities/{slug}/hearings"): _gets(
        "",
        f"/api/v1/communities/{NUL}/hearings",
        "/api/v1/communities/nowhere/hearings",
        f"/api/v1/communities/{LONG}/hearings",
    ),
    ("get", "/api/v1/hearings/{hearing_id}"): {
        400: lambda w: _get(w, "/api/v1/hearings/not-a-number"),
        404: lambda w: _get(w, "/api/v1/hearings/999999"),
        414: lambda w: _get(w, f"/api/v1/hearings/{LONG}"),
    },
}
# Documented statuses provoked by another test, with the reason they are not provoked here.
ELSEWHERE = {
    ("get", "/healthz", 503): "tests/projects/core/test_api.py (a database that cannot open)",
    ("post", DONATIONS, 503): "the Stripe test below (the provider down)",
    ("post", "/webhooks/stripe", 409): "the Stripe test below (another amount)",
    ("post", "/webhooks/stripe", 422): "the sandbox's 422 above: both webhooks share _receive",
    ("post", "/webhooks/stripe", 503): "the Stripe test below (the provider down)",
}


async def _steward_get_as_other_secretary(world: World) -> httpx.Response:
    client = await world.as_other_secretary()
    return await client.get(f"/api/v1/projects/{PROJECT}/donations/{world.confirmed}")


async def _donation_with_a_session_but_no_csrf_header(world: World) -> httpx.Response:
    client = await world.as_admin()
    return await client.post(f"/api/v1/projects/{PROJECT}/donations", json=_donation())


async def _refund_as_anyone(world: World) -> httpx.Response:
    client = await world.as_anyone()
    return await client.post(
        f"/api/v1/projects/{PROJECT}/donations/{world.confirmed}/refunds", json=_refund()
    )


async def _sandbox_webhook_unsigned(world: World) -> httpx.Response:
    return await _post_raw(world, "/webhooks/sandbox", b'{"id": "sbxevt_1"}')


async def _post_raw(world: World, path: str, body: bytes) -> httpx.Response:
    client = await world.as_anyone()
    return await client.post(path, content=body, headers=JSON)


async def _schema(client: AppClient) -> dict[str, Any]:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    schema: dict[str, Any] = response.json()
    return schema


async def test_the_schema_is_the_machine_interface_and_nothing_else(client: AppClient) -> None:
    schema = await _schema(client)
    documented = {(method, path) for path, method, _ in operations(schema)}
    routed = {
        (method.lower(), route.path_format)
        for route in client.app.routes
        if route.path_format.startswith(MACHINE_PREFIXES)
        and not route.path_format.startswith("/schema")
        for method in getattr(route, "route_handler_map", {})
        if method not in ("HEAD", "OPTIONS")
    }
    assert documented == routed
    assert all(path.startswith(MACHINE_PREFIXES) for _, path in documented)
    assert not any(path.startswith(("/p/", "/c/", "/login")) for _, path in documented)


async def test_every_error_is_a_problem_document(client: AppClient) -> None:
    schema = await _schema(client)
    problem = schema["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail", "instance"}
    assert {"errors", "reasons"} <= set(problem["properties"])
    for path, method, operation in operations(schema):
        for status, answer in operation["responses"].items():
            if int(status) < 400 or (path, status) == ("/healthz", "503"):
                continue
            assert answer["content"] == {
                PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}
            }, (
                method,
                path,
                status,
            )
            assert answer["description"]


async def test_the_ledger_exports_declare_their_media_types(client: AppClient) -> None:
    paths = (await _schema(client))["paths"]
    jsonl = paths["/api/v1/projects/{slug}/ledger.jsonl"]["get"]["responses"]["200"]
    csv = paths["/api/v1/projects/{slug}/ledger.csv"]["get"]["responses"]["200"]
    assert jsonl["content"] == {"application/jsonl": {"schema": {"type": "string"}}}
    assert "EntryOut" in jsonl["description"]
    assert "X-Ledger-Head" in jsonl["headers"]
    assert csv["content"] == {"text/csv": {"schema": {"type": "string"}}}
    assert "amount_minor" in csv["description"]


async def test_integer_parameters_state_their_bounds_as_integers(client: AppClient) -> None:
    """The edge refuses an integer past 2**63 - 1; the schema says so in integers (Litestar
    writes `le=` as a float, 2**63, which would invite a value the edge refuses)."""
    bounded = 0
    for path, method, operation in operations(await _schema(client)):
        for parameter in operation.get("parameters", []):
            schema = parameter.get("schema", {})
            if schema.get("type") != "integer":
                continue
            for key in ("minimum", "maximum"):
                if key in schema:
                    assert type(schema[key]) is int, (method, path, parameter["name"], key)
            if schema.get("maximum") == 2**63 - 1:
                bounded += 1
    assert bounded >= 2  # the ledger's `after` and `seq` at least


async def test_the_bodies_the_apis_read_are_declared(client: AppClient) -> None:
    schema = await _schema(client)
    for path, name in ((DONATIONS, "DonationIn"), (REFUNDS, "RefundIn")):
        body = schema["paths"][path]["post"]["requestBody"]
        assert body["content"]["application/json"]["schema"] == {
            "$ref": f"#/components/schemas/{name}"
        }
    signature = schema["paths"]["/webhooks/sandbox"]["post"]["parameters"]
    assert {"name": "Sandbox-Signature", "in": "header"}.items() <= signature[0].items()


async def test_the_guarded_operations_name_the_session_cookie(client: AppClient) -> None:
    schema = await _schema(client)
    scheme = schema["components"]["securitySchemes"]["session"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "cookie", "linju_session")
    guarded = {
        (method, path)
        for path, method, operation in operations(schema)
        if operation.get("security") == [{"session": []}]
    }
    assert guarded == {("get", STEWARD_DONATION), ("post", REFUNDS)}
    for method, path in guarded:
        assert {"401", "403"} <= set(schema["paths"][path][method]["responses"])


async def _world(client: AppClient) -> World:
    admin = await make_account("schema-admin@example.cn", "admin", client=client)
    other = await make_account(
        "schema-secretary@example.cn", "secretary", community=OTHER_COMMUNITY, client=client
    )
    confirmed = await (
        Donation.select(Donation.public_id)
        .where(Donation.project.slug == PROJECT, Donation.status == "succeeded")
        .first()
    )
    assert confirmed is not None
    started = await client.post(f"/api/v1/projects/{PROJECT}/donations", json=_donation())
    assert started.status_code == 201, started.text
    answer = started.json()
    await client.get("/")  # the CSRF cookie
    return World(
        client,
        admin,
        other,
        confirmed["public_id"],
        answer["id"],
        answer["checkout_url"],
        answer["receipt_url"].rsplit("/", 1)[-1],
    )


def _check(schema: Any, method: str, path: str, response: httpx.Response) -> None:
    """The answer is documented: its status, a content type listed for it, a body it accepts."""
    documented = schema.raw_schema["paths"][path][method]["responses"]
    status = str(response.status_code)
    assert status in documented, (method, path, status, response.text[:300])
    media_type = response.headers.get("content-type", "").split(";", 1)[0].strip()
    assert media_type in documented[status].get("content", {}), (method, path, media_type)
    schema[path][method.upper()].validate_response(response)


async def test_every_documented_status_is_what_the_operation_answers(
    demo: None, client: AppClient
) -> None:
    world = await _world(client)
    raw = await _schema(client)
    schema = schemathesis.openapi.from_dict(raw)
    for path, method, operation in operations(raw):
        provoke = PROVOKE.get((method, path), {})
        for status in sorted(int(s) for s in operation["responses"] if int(s) >= 400):
            if (method, path, status) in ELSEWHERE:
                continue
            assert status in provoke, f"{method.upper()} {path}: nothing provokes its {status}"
            response = await provoke[status](world)
            assert response.status_code == status, (method, path, status, response.text[:300])
            _check(schema, method, path, response)
            if response.headers["content-type"].startswith(PROBLEM):
                assert response.json()["status"] == status


@pytest.fixture
def stripe_world(fake_stripe: FakeStripe, demo: None, client: AppClient) -> FakeStripe:
    """The demo, served with Stripe (the fake) as the gateway."""
    return fake_stripe


async def test_the_stripe_statuses_are_what_the_schema_says(
    stripe_world: FakeStripe, client: AppClient
) -> None:
    """With Stripe as the gateway: the donate API's 503 and the Stripe webhook's refusals."""
    schema = schemathesis.openapi.from_dict(await _schema(client))
    started = await client.post(f"/api/v1/projects/{PROJECT}/donations", json=_donation())
    assert started.status_code == 201, started.text
    paid = stripe_world.pay(started.json()["checkout_url"].rsplit("/", 1)[-1], fee=30)

    async def report(session: dict[str, Any]) -> httpx.Response:
        event = stripe_world.event("checkout.session.completed", session)
        body, headers = stripe_world.webhook(event, WEBHOOK_SECRET)
        return await client.post("/webhooks/stripe", content=body, headers=headers)

    answers: dict[int, tuple[str, httpx.Response]] = {}
    stale = stripe_world.webhook(stripe_world.event("checkout.session.completed", paid), "x")
    answers[400] = ("/webhooks/stripe", await client.post("/webhooks/stripe", content=stale[0]))
    answers[409] = ("/webhooks/stripe", await report({**paid, "amount_total": 1}))
    stripe_world.down = True
    answers[503] = ("/webhooks/stripe", await report(paid))
    answers[0] = (
        DONATIONS,
        await client.post(f"/api/v1/projects/{PROJECT}/donations", json=_donation()),
    )
    stripe_world.down = False
    for status, (path, response) in answers.items():
        assert response.status_code == (status or 503), (path, response.text)
        _check(schema, "post", path, response)


def test_a_new_route_is_documented_right_without_a_word() -> None:
    """`describe` derives the statuses from the operation, adds what a route declares, leaves
    pages out, and refuses two different schemas under one name."""
    from typing import Annotated

    import msgspec
    from litestar import Litestar, get, post
    from litestar.openapi import OpenAPIConfig
    from litestar.params import FromPath, QueryParameter

    from linju.platform.openapi import api, describe

    class ThingIn(msgspec.Struct):
        name: str

    @get("/api/v1/things/{slug:str}", sync_to_thread=False)
    def thing(
        slug: FromPath[str], page: Annotated[int, QueryParameter(ge=1)] = 1
    ) -> dict[str, str]:
        return {}

    @post("/api/v1/things", sync_to_thread=False, opt=api(problems={409: "taken"}, body=ThingIn))
    def make_thing() -> dict[str, str]:
        return {}

    @get("/things", sync_to_thread=False)
    def page() -> str:
        return ""

    app = Litestar([thing, make_thing, page], openapi_config=OpenAPIConfig(title="t", version="1"))
    schema = describe(app.openapi_schema.to_schema(), app)
    assert set(schema["paths"]) == {"/api/v1/things/{slug}", "/api/v1/things"}
    read = schema["paths"]["/api/v1/things/{slug}"]["get"]["responses"]
    assert set(read) == {"200", "400", "404", "414"}
    write = schema["paths"]["/api/v1/things"]["post"]
    assert set(write["responses"]) == {"201", "400", "403", "409", "413", "415"}
    assert write["responses"]["409"]["description"] == "taken"
    assert write["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ThingIn"
    }
    for status, answer in [*read.items(), *write["responses"].items()]:
        if int(status) >= 400:
            assert answer["content"] == {PROBLEM: {"schema": PROBLEM_REF}}

    class Clash(msgspec.Struct, rename={"name": "other"}):
        name: str

    Clash.__name__ = "ThingIn"

    @post("/api/v1/clash", sync_to_thread=False, opt=api(body=Clash))
    def clash() -> None:
        return None

    clashing = Litestar([make_thing, clash], openapi_config=OpenAPIConfig(title="t", version="1"))
    with pytest.raises(RuntimeError, match="ThingIn"):
        describe(clashing.openapi_schema.to_schema(), clashing)
