"""Static files (ADR 0035): hashed names in every page, a year's immutable caching, answered
before the session, the locale and the database; hostile names refused without a 5xx."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import pytest

from linju.platform.assets import IMMUTABLE, SHORT, hashed_name, static_files, static_url
from linju.platform.db import get_engine
from linju.platform.resources import package_dir
from tests.accounts_support import log_in, make_account

CSS = (package_dir("linju.platform") / "static" / "linju.css").read_bytes()
HASHED = "/static/linju." + hashlib.sha256(CSS).hexdigest()[:8] + ".css"


def test_a_file_is_named_by_its_content() -> None:
    assert static_url("linju.css") == HASHED
    assert hashed_name("a/b.css", b"x") == "a/b." + hashlib.sha256(b"x").hexdigest()[:8] + ".css"
    assert set(static_files().files) >= {"linju.css", "poster.css", "drafting.css"}
    with pytest.raises(KeyError):
        static_url("no-such.css")


class Spy:
    """Counts what reaches the database engine: statements, transactions, connections."""

    def __init__(self) -> None:
        self.calls: list[str] = []


@pytest.fixture
def database_spy(monkeypatch: pytest.MonkeyPatch) -> Spy:
    engine_class = type(get_engine())  # the engine's slots take no attribute of a test's
    spy = Spy()
    for name in ("run_querystring", "run_ddl", "transaction", "get_connection"):
        original = getattr(engine_class, name, None)
        if original is None:
            continue

        def counted(
            self: Any, *args: Any, _name: str = name, _original: Any = original, **kwargs: Any
        ) -> Any:
            spy.calls.append(_name)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(engine_class, name, counted)
    return spy


@pytest.mark.usefixtures("demo")
async def test_a_static_file_touches_no_session_and_no_database(
    client: Any, database_spy: Spy
) -> None:
    user = await make_account("static@example.org", "admin")
    await log_in(client, user)
    client.cookies.set("linju_locale", "en")
    database_spy.calls.clear()
    for path in (HASHED, "/static/linju.css"):
        response = await client.get(path)
        assert response.status_code == 200
        assert response.content == CSS
        assert "set-cookie" not in response.headers
        assert "x-request-id" not in response.headers  # not even the request log ran
    assert database_spy.calls == []
    page = await client.get("/")  # the same client's page does reach the database
    assert page.status_code == 200
    assert database_spy.calls


@pytest.mark.usefixtures("demo")
async def test_pages_link_the_hashed_name(client: Any) -> None:
    for path in ("/", "/p/tongqu-leyuan", "/no-such-page"):
        html = (await client.get(path)).text
        assert f'href="{HASHED}"' in html, path
        assert 'href="/static/linju.css"' not in html
    linked = re.findall(r'href="(/static/[^"]+)"', (await client.get("/p/tongqu-leyuan")).text)
    for url in linked:
        answer = await client.get(url)
        assert answer.status_code == 200
        assert answer.headers["cache-control"] == IMMUTABLE.decode()


async def test_hashed_names_are_immutable_for_a_year(client: Any) -> None:
    response = await client.get(HASHED)
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["content-type"].startswith("text/css")
    assert response.headers["content-length"] == str(len(CSS))
    assert response.headers["x-content-type-options"] == "nosniff"  # the security headers
    assert "content-security-policy" in response.headers
    plain = await client.get("/static/linju.css")
    assert plain.headers["cache-control"] == SHORT.decode()
    older = await client.get("/static/linju.0123abcd.css")  # a page of an older build
    assert older.status_code == 200
    assert older.content == CSS
    assert older.headers["cache-control"] == SHORT.decode()  # never kept as that name


async def test_if_none_match_answers_304_and_head_has_no_body(client: Any) -> None:
    first = await client.get(HASHED)
    etag = first.headers["etag"]
    again = await client.get(HASHED, headers={"if-none-match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    other = await client.get(HASHED, headers={"if-none-match": '"nope"'})
    assert other.status_code == 200
    head = await client.head(HASHED)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len(CSS))


@pytest.mark.parametrize(
    "path",
    [
        "/static/",
        "/static/nothing.css",
        "/static/../pyproject.toml",
        "/static/%2e%2e/%2e%2e/pyproject.toml",
        "/static/..%2f..%2fpyproject.toml",
        "/static/%2e%2e%2fapp.py",
        "/static/linju.css%00.txt",
        "/static/linju.css/",
        "/static//etc/passwd",
        "/static/%5c..%5capp.py",
        "/static/linju.ffffffff.ffffffff.css",
        "/static/" + "a" * 300,
        "/static/linju%ff.css",
    ],
)
async def test_hostile_static_paths_are_refused(client: Any, path: str) -> None:
    for method in ("GET", "HEAD"):
        answer = await client.request(method, path)
        assert answer.status_code in (400, 404, 414), (path, answer.status_code)
        assert b"font-size" not in answer.content  # no stylesheet's text under another name


async def test_other_methods_on_a_static_file_write_nothing(client: Any) -> None:
    answer = await client.post(HASHED, content=b"x")
    assert 400 <= answer.status_code < 500
