"""The public read API (contract.md) and its error documents."""

from __future__ import annotations

import logging

import pytest
from piccolo.engine.sqlite import SQLiteEngine

from linju.platform import db as db_module
from tests.client_support import AppClient

PROBLEM = "application/problem+json"


@pytest.mark.usefixtures("demo")
async def test_communities(client: AppClient) -> None:
    listed = (await client.get("/api/v1/communities")).json()
    assert [c["slug"] for c in listed] == ["lvjingyuan", "hepingli", "cuiweiyuan"]
    one = await client.get("/api/v1/communities/lvjingyuan")
    assert one.json()["name"] == "绿景苑社区"


@pytest.mark.usefixtures("demo")
async def test_project_detail_has_every_contract_field(client: AppClient) -> None:
    body = (await client.get("/api/v1/projects/tongqu-leyuan")).json()
    assert body["slug"] == "tongqu-leyuan"
    assert body["title"] == "童趣乐园"
    assert body["community"] == {"slug": "lvjingyuan", "name": "绿景苑社区"}
    assert body["status"] == "fundraising"
    assert body["goal"] == {"amount": 1_200_000, "currency": "CNY"}
    for figure in ("raised", "balance", "spent"):
        assert set(body[figure]) == {"amount", "currency"}
        assert isinstance(body[figure]["amount"], int)
    assert isinstance(body["donations_count"], int)
    assert isinstance(body["deadline"], str)
    assert {"name": "张建国", "role": "chair"}.items() <= body["committee"][0].items()
    assert len(body["committee"]) == 3
    assert set(body["ledger_head"]) == {"seq", "hash"}
    assert len(body["ledger_head"]["hash"]) == 64


@pytest.mark.usefixtures("demo")
async def test_project_list_filters(client: AppClient) -> None:
    everything = (await client.get("/api/v1/projects")).json()
    assert {p["slug"] for p in everything} == {"tongqu-leyuan", "yuelanshi", "wuding-huayuan"}
    by_community = (await client.get("/api/v1/projects", params={"community": "lvjingyuan"})).json()
    assert [p["slug"] for p in by_community] == ["tongqu-leyuan"]
    completed = (await client.get("/api/v1/projects", params={"status": "completed"})).json()
    assert [p["slug"] for p in completed] == ["wuding-huayuan"]
    drafts = (await client.get("/api/v1/projects", params={"status": "draft"})).json()
    assert drafts == []


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/v1/projects?status=bogus", 400),
        ("/api/v1/projects?community=" + "x" * 65, 400),
        ("/api/v1/projects/no-such", 404),
        ("/api/v1/communities/no-such", 404),
        ("/api/v1/nowhere", 404),
    ],
)
async def test_api_errors_are_problem_documents(
    client: AppClient,
    path: str,
    status: int,
) -> None:
    response = await client.get(path)
    assert response.status_code == status
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]


async def test_openapi_schema_lists_the_routes(client: AppClient) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    for path in (
        "/api/v1/communities",
        "/api/v1/communities/{slug}",
        "/api/v1/projects",
        "/api/v1/projects/{slug}",
        "/healthz",
    ):
        assert path in schema["paths"], path


async def test_healthz_checks_the_database(client: AppClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


async def test_healthz_reports_an_unreachable_database(
    client: AppClient,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: object,
) -> None:
    # A real engine pointed at a database that cannot be opened (its folder is a file).
    blocker = f"{tmp_path}/not-a-folder"
    open(blocker, "w").close()  # noqa: ASYNC230 - setting up a tiny test file
    unreachable = SQLiteEngine(path=f"{blocker}/linju.db")
    monkeypatch.setattr(db_module, "get_engine", lambda: unreachable)
    response = await client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "error"}


async def test_every_request_gets_an_id_and_one_log_line(
    client: AppClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="linju.request")
    response = await client.get("/healthz", headers={"X-Request-ID": "abc12345-from-proxy"})
    assert response.headers["x-request-id"] == "abc12345-from-proxy"
    lines = [r for r in caplog.records if r.name == "linju.request"]
    assert len(lines) == 1
    assert lines[0].request_id == "abc12345-from-proxy"  # type: ignore[attr-defined]
    assert lines[0].status == 200  # type: ignore[attr-defined]
    generated = await client.get("/healthz")
    assert len(generated.headers["x-request-id"]) == 32


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        # a malformed query parameter (Litestar's validation)
        ("GET", "/api/v1/projects?community=" + "x" * 65, None, "community"),
        # a body the domain refuses (the amount is below the minimum gift)
        (
            "POST",
            "/api/v1/projects/tongqu-leyuan/donations",
            {"amount": {"amount": 1, "currency": "CNY"}, "anonymous": True},
            "amount",
        ),
        # a body that is not the schema's shape
        ("POST", "/api/v1/projects/tongqu-leyuan/donations", {"anonymous": "yes"}, None),
    ],
)
async def test_problem_errors_have_one_shape(
    client: AppClient, method: str, path: str, body: object, field: str | None
) -> None:
    """`errors` is always an object of field -> message, whatever refused the request."""
    response = await client.request(method, path, json=body)
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"].startswith(PROBLEM)
    errors = response.json()["errors"]
    assert isinstance(errors, dict)
    assert errors
    assert all(isinstance(k, str) and isinstance(v, str) and v for k, v in errors.items())
    if field is not None:
        assert field in errors
