"""CSRF: a form post without the token issued with the page is refused; webhooks are exempt."""

from __future__ import annotations

from typing import Annotated

from litestar import get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Template

from tests.client_support import AppClient


@get("/test-form", sync_to_thread=False)
def form_page() -> Template:
    return Template(
        template_str='<form method="post" action="/test-form">{{ csrf_field() }}</form>'
    )


@post("/test-form", sync_to_thread=False)
def form_post(
    data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> str:
    return "accepted"


async def test_a_form_post_needs_the_token_from_its_page(
    client: AppClient,
) -> None:
    client.app.register(form_page)
    client.app.register(form_post)
    refused = await client.post("/test-form", data={"x": "1"})
    assert refused.status_code == 403
    page = await client.get("/test-form")
    assert 'name="_csrf_token"' in page.text
    token = page.text.split('value="')[1].split('"')[0]
    accepted = await client.post("/test-form", data={"x": "1", "_csrf_token": token})
    assert accepted.status_code == 201
    assert accepted.text == "accepted"
    forged = await client.post("/test-form", data={"x": "1", "_csrf_token": "forged"})
    assert forged.status_code == 403


async def test_csrf_cookie_is_httponly_and_samesite(
    client: AppClient,
) -> None:
    client.app.register(form_page)
    page = await client.get("/test-form")
    cookie = page.headers["set-cookie"].lower()
    assert "linju_csrf=" in cookie
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
