"""The residents' pages: home, community, project, language switch and error pages."""

from __future__ import annotations

import re

import pytest

from tests.client_support import AppClient

pytestmark = pytest.mark.usefixtures("demo")


async def test_home_lists_communities_and_their_projects(client: AppClient) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    assert '<html lang="zh-CN">' in response.text
    for text in (
        "绿景苑社区",
        "童趣乐园",
        "和平里社区",
        "社区阅览室",
        "共享屋顶花园",
        "¥12,000.00",
    ):
        assert text in response.text


async def test_a_community_lists_its_projects_by_status(client: AppClient) -> None:
    response = await client.get("/c/cuiweiyuan")
    assert response.status_code == 200
    assert 'id="status-completed"' in response.text
    assert "共享屋顶花园" in response.text
    assert "童趣乐园" not in response.text


async def test_the_project_page_shows_goal_progress_budget_committee_and_head(
    client: AppClient,
) -> None:
    response = await client.get("/p/tongqu-leyuan")
    assert response.status_code == 200
    html = response.text
    assert 'data-testid="progress-bar"' in html
    assert re.search(r'data-testid="raised">¥[\d,]+\.\d\d<', html)
    assert "目标 ¥12,000.00" in html
    assert 'data-testid="percent"' in html
    for text in ("跷跷板（两台）", "¥3,000.00", "安全地垫", "张建国", "管理：退休物业经理", "主任"):
        assert text in html
    assert re.search(r'data-testid="ledger-head">[0-9a-f]{64}<', html)
    assert re.search(r'data-testid="days-left">\d+<', html)


async def test_english_is_a_remembered_choice(client: AppClient) -> None:
    switched = await client.get("/lang/en?next=/p/tongqu-leyuan", follow_redirects=False)
    assert switched.status_code == 303
    assert switched.headers["location"] == "/p/tongqu-leyuan"
    assert "linju_lang=en" in switched.headers["set-cookie"]
    page = await client.get("/p/tongqu-leyuan")
    assert '<html lang="en">' in page.text
    assert "Supervision committee" in page.text
    assert "of ¥12,000.00 goal" in page.text
    back = await client.get("/lang/zh_CN?next=/", follow_redirects=False)
    assert "linju_lang=zh_CN" in back.headers["set-cookie"]


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "/\\evil", "x"])
async def test_the_language_switch_never_redirects_off_site(
    client: AppClient,
    target: str,
) -> None:
    response = await client.get("/lang/en", params={"next": target}, follow_redirects=False)
    assert response.headers["location"] == "/"


@pytest.mark.parametrize("path", ["/p/no-such-project", "/c/no-such-community", "/nowhere"])
async def test_unknown_pages_get_the_404_page_in_both_languages(
    client: AppClient,
    path: str,
) -> None:
    response = await client.get(path)
    assert response.status_code == 404
    assert "text/html" in response.headers["content-type"]
    assert "页面不存在" in response.text or "没有" in response.text
    client.cookies.set("linju_lang", "en")
    english = await client.get(path)
    assert english.status_code == 404
    assert "Page not found" in english.text or "No " in english.text


async def test_an_unexpected_error_gets_the_500_page_without_a_trace(
    client: AppClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from litestar import get

    @get("/boom", sync_to_thread=False)
    def boom() -> str:
        raise RuntimeError("secret internals")

    client.app.register(boom)
    response = await client.get("/boom")
    assert response.status_code == 500
    assert "出错了" in response.text
    assert "secret internals" not in response.text
    assert any("unhandled error" in r.getMessage() and r.exc_info for r in caplog.records)


async def test_static_stylesheet_is_served(client: AppClient) -> None:
    response = await client.get("/static/linju.css")
    assert response.status_code == 200
    assert "text/css" in response.headers["content-type"]
