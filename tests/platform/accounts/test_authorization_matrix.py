"""Every privileged route × {anonymous, resident, secretary of another community, committee
member of another project, the right role}: only the right role gets through; the others get a
login redirect or 403, and the database does not change (every table's row count is compared)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from piccolo.conf.apps import Finder

from linju.platform.accounts.audit import Actor
from linju.platform.kernel.clock import local_today
from linju.projects.core.services.drafting import create_draft, parse_draft_form
from linju.projects.stewardship.rules import OfflineGift
from linju.projects.stewardship.services.offline_donations import record_offline_donation
from tests import drafts
from tests.accounts_support import csrf_token, in_app, log_in, log_out
from tests.projects.stewardship.stewardship_support import People, make_people, png_bytes

Client = Any
pytestmark = pytest.mark.usefixtures("demo")
P = "tongqu-leyuan"  # in lvjingyuan, fundraising
D = "reading-corner"  # a draft in lvjingyuan


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    right: str  # attribute of People
    form: dict[str, str] = field(default_factory=dict)
    multipart: bool = False
    ok: tuple[int, ...] = (200, 303)


def draft_form(slug: str = D) -> dict[str, str]:
    return drafts.draft_form(slug=slug)


TODAY = local_today().isoformat()
ROUTES = [
    Route("GET", "/admin", "admin"),
    Route("GET", "/admin/audit", "admin"),
    Route("GET", "/admin/host", "admin"),
    Route(
        "POST",
        "/admin/host",
        "admin",
        {
            "name": "青山区慈善会",
            "credit_code": "51420107MJ4530321U",
            "registration_authority": "青山区民政局",
            "contact": "027-8686 1234",
        },
    ),
    Route(
        "POST", "/admin/communities", "admin", {"slug": "xin", "name": "新社区", "district": "区"}
    ),
    Route(
        "POST",
        "/admin/invitations",
        "admin",
        {"email": "n@example.cn", "name": "N", "role": "secretary", "community": "lvjingyuan"},
    ),
    Route("GET", "/secretary/c/lvjingyuan/new", "secretary"),
    Route("POST", "/secretary/c/lvjingyuan/new", "secretary", draft_form("new-one"), True),
    Route("GET", f"/p/{P}/manage", "secretary"),
    Route("GET", f"/p/{P}/poster", "secretary"),
    Route("GET", f"/p/{D}/manage/draft", "secretary"),
    Route("POST", f"/p/{D}/manage/draft", "secretary", draft_form(), True),
    Route("POST", f"/p/{D}/manage/publish", "secretary"),
    Route("POST", f"/p/{P}/manage/updates", "secretary", {"body": "今天装好了书架"}, True),
    Route(
        "POST",
        f"/p/{P}/manage/offline",
        "secretary",
        {"amount": "100", "donor_name": "陈", "received_on": TODAY, "method": "cash"},
        True,
    ),
    Route(
        "POST",
        f"/p/{P}/manage/pledges",
        "secretary",
        {
            "sponsor_name": "区妇联",
            "sponsor_slug": "fulian",
            "ratio": "1:1",
            "cap": "1000",
            "starts_on": TODAY,
            "ends_on": (local_today() + timedelta(days=9)).isoformat(),
        },
        True,
    ),
    Route(
        "POST",
        f"/p/{P}/manage/in-kind",
        "secretary",
        {"kind": "labour", "contributor": "居民", "description": "刷墙", "labour_hours": "16"},
    ),
    Route("GET", f"/p/{P}/offline", "member"),
    Route("POST", f"/p/{P}/committee/gifts/{{donation}}", "member"),
]


async def row_counts(client: Client) -> dict[str, int]:
    async def count_all() -> dict[str, int]:
        return {t._meta.tablename: await t.count() for t in Finder().get_table_classes()}

    return await in_app(client, count_all)


async def prepare(client: Client) -> tuple[People, str]:
    people = await make_people(client)
    actor = Actor(id=people.secretary, label="sec")

    async def setup() -> str:
        await create_draft(actor, parse_draft_form(draft_form(), "lvjingyuan"))
        return await record_offline_donation(
            actor,
            P,
            OfflineGift(5_000, "陈大爷", False, local_today(), "cash", "/photos/x.jpg", "0" * 64),
        )

    return people, await in_app(client, setup)


async def call(client: Client, route: Route, donation: str) -> Any:
    path = route.path.format(donation=donation)
    if route.method == "GET":
        return await client.get(path, follow_redirects=False)
    token = csrf_token((await client.get("/login")).text)
    data = {**route.form, "_csrf_token": token}
    if route.multipart:
        files = {"evidence": ("e.png", png_bytes(), "image/png")} if "offline" in path else None
        if "pledges" in path:
            files = {"letter": ("letter.png", png_bytes(), "image/png")}
        return await client.post(
            path,
            data=data,
            files=files or {"_none": ("", b"", "application/octet-stream")},
            follow_redirects=False,
        )
    return await client.post(path, data=data, follow_redirects=False)


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.path}")
async def test_only_the_right_role_gets_through(client: Client, route: Route) -> None:
    people, donation = await prepare(client)
    wrong = {
        "anonymous": None,
        "resident": "not-a-session",
        "secretary of another community": people.other_secretary,
        "committee member of another project": people.other_member,
    }
    for who, identity in wrong.items():
        log_out(client)
        if isinstance(identity, int):
            await log_in(client, identity)
        elif identity:
            client.cookies.set("linju_session", identity)
        before = await row_counts(client)
        answer = await call(client, route, donation)
        if identity is None or isinstance(identity, str):
            assert answer.status_code == 303, (who, answer.status_code)
            assert answer.headers["location"].startswith("/login?next="), who
        else:
            assert answer.status_code in (403, 404), (who, answer.status_code)
        assert await row_counts(client) == before, who
    log_out(client)
    await log_in(client, getattr(people, route.right))
    answer = await call(client, route, donation)
    assert answer.status_code in route.ok, answer.text[:2000]
    assert not answer.headers.get("location", "").startswith("/login")


async def test_the_dashboard_shows_only_the_secretarys_own_communities(client: Client) -> None:
    people, _ = await prepare(client)
    await log_in(client, people.other_secretary)
    theirs = await client.get("/secretary")
    assert theirs.status_code == 200
    assert P not in theirs.text
    log_out(client)
    await log_in(client, people.secretary)
    ours = await client.get("/secretary")
    assert P in ours.text
    assert "1 笔线下捐款待确认" in ours.text
    log_out(client)
    await log_in(client, people.member)
    assert (await client.get("/secretary")).status_code == 403
