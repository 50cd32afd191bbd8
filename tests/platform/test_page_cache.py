"""The public pages residents share, cached (docs/adr/0036-page-cache-and-origin-check.md).

ETag and 304; public caching headers only for a visitor with no private cookie; every
ingredient of the key changes the page it keys; nothing served from the cache is older than the
state it shows (a donation confirmed through the webhook, a hidden wall message, an update, an
in-kind gift, a disclosure, a confirmed offline gift and a resident's need are each on the next
anonymous request); a burst of readers renders a page once; the database moves the content
version on a write to any table a page can show.
"""

from __future__ import annotations

import asyncio
import os
import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from piccolo.querystring import QueryString

from linju.platform import content_version, pagecache
from linju.platform.accounts.audit import COMMAND_LINE
from linju.platform.db import get_engine
from linju.platform.kernel import clock
from linju.platform.kernel.clock import local_today
from linju.platform.settings import get_settings
from linju.projects.core.tables import Host, Project
from linju.projects.donations.tables import Donation
from linju.projects.stewardship.tables import OfflineDonation
from linju.projects.voice.services import households
from tests.accounts_support import log_in, log_out, make_account
from tests.client_support import AppClient, app_client
from tests.fakes.stripe_fixtures import STRIPE_ENV
from tests.forms import confirm_shown, submit, submit_shown
from tests.projects.stewardship.stewardship_support import make_people, record_offline_gift

from ..payments.helpers import sandbox_event, signed

pytestmark = pytest.mark.usefixtures("demo")
SLUG = "tongqu-leyuan"
COMMUNITY = "lvjingyuan"
PAGES = ("/", f"/c/{COMMUNITY}", f"/p/{SLUG}")
PUBLIC = "public, max-age=5, stale-while-revalidate=30"
APPEND_ONLY = ("append-only", "frozen", "refused")


@pytest.fixture(autouse=True)
def _one_time_step(monkeypatch: pytest.MonkeyPatch) -> None:
    """No 10-second step is crossed between two requests of a test (a slow machine would
    otherwise see a new key now and then); the local date still changes the key."""
    monkeypatch.setattr(pagecache, "TIME_STEP_SECONDS", 10**12)


def _cache(client: AppClient) -> pagecache.PageCache:
    cache = client.app.state[pagecache.STATE_KEY]
    assert isinstance(cache, pagecache.PageCache)
    return cache


def _head(html: str) -> str:
    """The ledger head's hash as the project page shows it."""
    match = re.search(r'data-testid="ledger-head">([0-9a-f]+)', html)
    assert match, "no ledger head on the page"
    return match.group(1)


@pytest.mark.parametrize("path", PAGES)
async def test_a_public_page_has_an_etag_and_answers_304(client: AppClient, path: str) -> None:
    first = await client.get(path)
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag)  # strong
    assert first.headers["cache-control"] == PUBLIC
    assert first.headers["vary"] == "Cookie"
    assert "set-cookie" not in first.headers  # no CSRF cookie: every visitor gets the same bytes
    assert "_csrf_token" not in first.text
    again = await client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    listed = await client.get(path, headers={"If-None-Match": f'"other", W/{etag}'})
    assert listed.status_code == 304
    other = await client.get(path, headers={"If-None-Match": '"other"'})
    assert other.status_code == 200
    assert other.content == first.content
    head = await client.head(path, headers={"If-None-Match": etag})
    assert head.status_code == 304


async def test_a_burst_of_readers_renders_the_page_once(client: AppClient) -> None:
    cache = _cache(client)
    before = cache.renders
    answers = await asyncio.gather(*(client.get(f"/p/{SLUG}") for _ in range(20)))
    assert {a.status_code for a in answers} == {200}
    assert len({a.content for a in answers}) == 1
    assert len({a.headers["etag"] for a in answers}) == 1
    assert cache.renders == before + 1
    await client.get(f"/p/{SLUG}")
    assert cache.renders == before + 1  # kept


@pytest.mark.parametrize("cookie", ["linju_session", "linju_household", "linju_flash"])
async def test_a_private_cookie_is_never_cached(client: AppClient, cookie: str) -> None:
    cache = _cache(client)
    public = await client.get(f"/p/{SLUG}")
    before = cache.renders
    for _ in range(2):
        private = await client.get(f"/p/{SLUG}", headers={"Cookie": f"{cookie}=whatever"})
        assert private.status_code == 200
        assert "etag" not in private.headers
        assert private.headers["cache-control"] == "private, no-cache"
        answered = await client.get(
            f"/p/{SLUG}",
            headers={"Cookie": f"{cookie}=whatever", "If-None-Match": public.headers["etag"]},
        )
        assert answered.status_code == 200  # never a 304 from the public key
    assert cache.renders == before  # not rendered by the cache, not kept by it


async def test_a_logged_in_page_is_never_served_to_anyone_else(client: AppClient) -> None:
    await log_in(client, await make_account("sec@example.cn", "admin"))
    mine = await client.get(f"/p/{SLUG}")
    assert 'data-testid="logout"' in mine.text
    assert 'name="_csrf_token"' in mine.text  # a session's forms keep their token
    assert "etag" not in mine.headers
    client.cookies.clear()
    anonymous = await client.get(f"/p/{SLUG}")
    assert 'data-testid="logout"' not in anonymous.text
    assert "_csrf_token" not in anonymous.text
    assert anonymous.headers["cache-control"] == PUBLIC


async def test_other_requests_are_not_cached(client: AppClient) -> None:
    missing = await client.get("/p/no-such-project")
    assert missing.status_code == 404
    assert "etag" not in missing.headers
    assert "public" not in missing.headers.get("cache-control", "")
    ledger = await client.get(f"/p/{SLUG}/ledger")
    assert "etag" not in ledger.headers


# Each ingredient of the key: change it alone, and the page (and its ETag) changes. -------------


async def test_the_locale_changes_the_page(client: AppClient) -> None:
    chinese = await client.get(f"/p/{SLUG}")
    english = await client.get(f"/p/{SLUG}", headers={"Cookie": "linju_lang=en"})
    assert english.headers["cache-control"] == PUBLIC  # a preference, not a private cookie
    assert english.headers["etag"] != chinese.headers["etag"]
    assert 'lang="en"' in english.text
    assert 'lang="zh-CN"' in chinese.text


async def test_the_elder_mode_changes_the_page(client: AppClient) -> None:
    standard = await client.get(f"/p/{SLUG}")
    elder = await client.get(f"/p/{SLUG}", headers={"Cookie": "linju_mode=elder"})
    assert elder.headers["etag"] != standard.headers["etag"]
    assert 'class="elder"' in elder.text
    assert 'class="elder"' not in standard.text


async def test_the_gateway_changes_the_page(client: AppClient) -> None:
    sandbox = await client.get(f"/p/{SLUG}")
    assert 'data-testid="test-mode"' in sandbox.text
    os.environ.update({**STRIPE_ENV, "STRIPE_API_BASE": "http://127.0.0.1:9"})
    get_settings.cache_clear()
    try:
        stripe = await client.get(f"/p/{SLUG}")
    finally:
        for name in (*STRIPE_ENV, "STRIPE_API_BASE"):
            os.environ.pop(name, None)
        get_settings.cache_clear()
    assert stripe.headers["etag"] != sandbox.headers["etag"]
    assert 'data-testid="test-mode"' not in stripe.text


async def test_the_host_changes_the_page(client: AppClient) -> None:
    before = await client.get(f"/p/{SLUG}")
    await Host.update({Host.name: "东湖区慈善总会"}, force=True)
    after = await client.get(f"/p/{SLUG}")
    assert after.headers["etag"] != before.headers["etag"]
    assert "东湖区慈善总会" in after.text
    assert "东湖区慈善总会" not in before.text


async def test_the_build_changes_the_page(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    tags = []
    for build in ("build-one", "build-two"):
        monkeypatch.setenv(pagecache.BUILD_ENV, build)
        async with app_client() as client:
            tags.append((await client.get(f"/p/{SLUG}")).headers["etag"])
    assert tags[0] != tags[1]


async def test_the_local_date_changes_the_page(
    client: AppClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    today = await client.get(f"/p/{SLUG}")
    later = clock.utc_now() + timedelta(days=3)
    monkeypatch.setattr(clock, "utc_now", lambda: later)
    then = await client.get(f"/p/{SLUG}")
    assert then.headers["etag"] != today.headers["etag"]
    days = re.compile(r'data-testid="days-left"[^>]*>([^<]+)<')
    shown_today, shown_then = days.search(today.text), days.search(then.text)
    assert shown_today is not None
    assert shown_then is not None
    assert shown_today.group(1) != shown_then.group(1)


async def test_the_time_step_changes_the_key(
    client: AppClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A need's answer turns late, a hearing opens or closes, at any moment: the key moves every
    `TIME_STEP_SECONDS`, so such a flag is never more than that behind the clock."""
    monkeypatch.setattr(pagecache, "TIME_STEP_SECONDS", 10)
    start = clock.utc_now().replace(second=0, microsecond=0)
    tags = []
    for seconds in (0, 9, 10):
        monkeypatch.setattr(clock, "utc_now", lambda s=seconds: start + timedelta(seconds=s))
        tags.append((await client.get(f"/p/{SLUG}")).headers["etag"])
    assert tags[0] == tags[1] != tags[2]


async def test_a_hidden_wall_message_shows_on_the_next_request(client: AppClient) -> None:
    before = await client.get(f"/p/{SLUG}")
    assert 'data-testid="message-hidden"' not in before.text
    shown = await Donation.select(Donation.id).where(
        (Donation.status == "succeeded") & (Donation.message != "")
    )
    await Donation.update(
        {Donation.message_hidden_at: clock.utc_now(), Donation.message_hidden_by: "sec"}
    ).where(Donation.id == shown[0]["id"])
    after = await client.get(f"/p/{SLUG}", headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200
    assert 'data-testid="message-hidden"' in after.text


async def test_a_donation_confirmed_through_the_webhook_shows_on_the_next_request(
    client: AppClient,
) -> None:
    """No stale page: the confirmation moves the ledger head, the figures and the wall."""
    page = await client.get(f"/p/{SLUG}")
    review = await submit_shown(
        client,
        page.text,
        f"/p/{SLUG}/donate",
        {"amount_choice": "custom", "custom_amount": "123.45", "display_name": "缓存测试"},
        page=f"/p/{SLUG}",
    )
    assert review.status_code == 200
    paid = await submit_shown(
        client, review.text, "form-review", page=f"/p/{SLUG}/donate", press="pay"
    )
    assert paid.status_code == 303
    pending = await client.get(f"/p/{SLUG}", headers={"If-None-Match": page.headers["etag"]})
    assert pending.status_code == 200  # a pending donation is a write: a new version, re-rendered
    assert "缓存测试" not in pending.text
    body, headers = signed(await sandbox_event(paid.headers["location"], "paid"))
    delivered = await client.post("/webhooks/sandbox", content=body, headers=headers)
    assert delivered.status_code == 200
    after = await client.get(f"/p/{SLUG}", headers={"If-None-Match": pending.headers["etag"]})
    assert after.status_code == 200
    assert "缓存测试" in after.text
    assert "¥123.45" in after.text
    assert _head(after.text) != _head(pending.text)  # the ledger head moved


# Each writer that changes what a page shows: the very next anonymous request shows it. The
# writes go through the forms their people use (logged in on `client`); an anonymous client of
# the same app (no private cookie) reads the cached page before and after.


async def _cached(anonymous: AppClient, path: str) -> httpx.Response:
    """The page as an anonymous visitor gets it, and proof that it is now served from the cache."""
    page = await anonymous.get(path)
    assert page.status_code == 200
    assert page.headers["cache-control"] == PUBLIC
    again = await anonymous.get(path, headers={"If-None-Match": page.headers["etag"]})
    assert again.status_code == 304  # cached: unchanged, it would be answered from the key
    return page


async def _next(anonymous: AppClient, path: str, before: httpx.Response) -> httpx.Response:
    """The next anonymous request, carrying the old ETag: a new page, never the old one's 304."""
    after = await anonymous.get(path, headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200
    assert after.headers["etag"] != before.headers["etag"]
    return after


async def test_a_project_update_shows_on_the_next_request(client: AppClient) -> None:
    people = await make_people(client)
    await log_in(client, people.secretary)
    path = f"/p/{SLUG}"
    async with AppClient(client.app) as anonymous:
        before = await _cached(anonymous, path)
        assert "缓存测试的进展" not in before.text
        posted = await submit(
            client, f"{path}/manage", f"{path}/manage/updates", {"body": "缓存测试的进展"}
        )
        assert posted.status_code == 303, posted.text[:500]
        after = await _next(anonymous, path, before)
    assert after.text.count('data-testid="update"') == before.text.count('data-testid="update"') + 1
    assert "缓存测试的进展" in after.text


async def test_an_in_kind_gift_shows_on_the_next_request(client: AppClient) -> None:
    people = await make_people(client)
    await log_in(client, people.secretary)
    path = f"/p/{SLUG}"
    gift = {"kind": "goods", "contributor": "缓存测试建材店", "description": "两袋水泥"}
    async with AppClient(client.app) as anonymous:
        before = await _cached(anonymous, path)
        assert "缓存测试建材店" not in before.text
        recorded = await submit(
            client, f"{path}/manage", f"{path}/manage/in-kind", {**gift, "estimated_value": "80"}
        )
        assert recorded.status_code == 303, recorded.text[:500]
        after = await _next(anonymous, path, before)
    assert "缓存测试建材店: 两袋水泥" in after.text
    assert "¥80.00" in after.text


async def test_a_disclosure_shows_on_the_next_request(client: AppClient) -> None:
    people = await make_people(client)
    starts = local_today() - timedelta(days=100)  # the plan's first disclosure is late
    await Project.update(
        {Project.plan_starts_on: starts, Project.plan_ends_on: starts + timedelta(days=365)}
    ).where(Project.slug == SLUG)
    await log_in(client, people.secretary)
    path, manage = f"/p/{SLUG}", f"/p/{SLUG}/manage/disclosures"
    async with AppClient(client.app) as anonymous:
        before = await _cached(anonymous, path)
        assert 'data-testid="disclosure-overdue"' in before.text
        assert 'data-testid="disclosure-item"' not in before.text
        asked = await submit(client, manage, manage, {"what_was_done": "选址已定。"})
        assert asked.status_code == 200, asked.text[:500]
        published = await confirm_shown(client, asked, page=manage)
        assert published.status_code == 303, published.text[:500]
        after = await _next(anonymous, path, before)
    assert 'data-testid="disclosure-item"' in after.text
    assert f'href="{path}/disclosures/1"' in after.text
    assert 'data-testid="disclosure-overdue"' not in after.text


async def test_a_confirmed_offline_gift_shows_on_the_next_request(client: AppClient) -> None:
    """Recorded, it is counted nowhere; confirmed by another committee member, it is on the
    ledger and the wall at once."""
    people = await make_people(client)
    path = f"/p/{SLUG}"
    await log_in(client, people.secretary)
    recorded = await record_offline_gift(client, amount="234.56", donor_name="缓存测试陈大爷")
    assert recorded.status_code == 303, recorded.text[:500]
    row = (
        await OfflineDonation.select(OfflineDonation.public_id)
        .where(OfflineDonation.donor_name == "缓存测试陈大爷")
        .first()
    )
    assert row is not None
    log_out(client)
    await log_in(client, people.member)
    listing = await client.get(f"{path}/offline")
    async with AppClient(client.app) as anonymous:
        before = await _cached(anonymous, path)
        assert "缓存测试陈大爷" not in before.text
        confirmed = await submit_shown(
            client, listing.text, f"{path}/committee/gifts/{row['public_id']}"
        )
        assert confirmed.status_code == 303, confirmed.text[:500]
        after = await _next(anonymous, path, before)
    assert "缓存测试陈大爷" in after.text
    assert "¥234.56" in after.text
    assert _head(after.text) != _head(before.text)  # the ledger head moved


async def test_a_residents_need_shows_on_the_next_request(client: AppClient) -> None:
    """A household's need is open for supports at once, on its community's page."""
    [first, *_] = await households.households_of(COMMUNITY)
    [(_, code)] = await households.issue_codes(COMMAND_LINE, COMMUNITY, [int(first["id"])])
    entered = await submit(
        client, f"/c/{COMMUNITY}/household", f"/c/{COMMUNITY}/household", {"code": code}
    )
    assert entered.status_code == 303
    path = f"/c/{COMMUNITY}"
    async with AppClient(client.app) as anonymous:
        before = await _cached(anonymous, path)
        assert "缓存测试晾衣架" not in before.text
        posted = await submit(
            client,
            "/household",
            "/household/needs",
            {"title": "缓存测试晾衣架", "body": "楼下没有晾被子的地方", "place": "3号楼前"},
        )
        assert posted.status_code == 303, posted.text[:500]
        need_id = int(posted.headers["location"].rsplit("/", 1)[-1])
        after = await _next(anonymous, path, before)
    assert f'data-testid="need-{need_id}"' in after.text
    assert "缓存测试晾衣架" in after.text


# The content version: kept by the database, on every table but those said to need none. -------


async def test_every_table_but_the_untracked_moves_the_content_version(db: str) -> None:
    assert await content_version.missing() == []
    engine = get_engine()
    triggered = await content_version.triggered_tables()
    for table in sorted(triggered):
        assert content_version.tracked(table), table
    for name, reason in content_version.UNTRACKED.items():
        assert reason
        assert name not in triggered
    # Each tracked table's trigger fires: one write of a row where there is one. Append-only
    # tables (the ledger's, disclosures, hearings' tallies) refuse updates by their own trigger;
    # their inserts move the number (the ledger's in the webhook test above).
    moved = []
    for table in sorted(triggered):
        rows = await engine.run_querystring(QueryString(f'SELECT min(id) AS id FROM "{table}"'))
        if not rows or rows[0]["id"] is None:
            continue
        before = await content_version.current()
        refused = await _refusal(
            QueryString(f'UPDATE "{table}" SET id = id WHERE id = {{}}', rows[0]["id"])
        )
        if refused:
            assert any(word in refused for word in APPEND_ONLY), (table, refused)
            assert await content_version.current() == before, table  # refused: nothing moved
            continue
        assert await content_version.current() == (before or 0) + 1, table
        moved.append(table)
    assert {"project", "donation", "community", "host", "need"} <= set(moved)


async def _refusal(statement: QueryString) -> str:
    """Run `statement`; what the database said if it refused it, else ""."""
    try:
        await get_engine().run_querystring(statement)
    except Exception as refused:  # the append-only tables' triggers (both engines' errors)
        return str(refused)
    return ""


async def test_a_write_to_an_untracked_table_keeps_the_version(db: str) -> None:
    before = await content_version.current()
    await make_account("nobody@example.cn", "admin")  # an account and its audit: account moves it
    moved = await content_version.current()
    assert moved is not None
    assert before is not None
    assert moved > before
    engine = get_engine()
    await engine.run_querystring(QueryString("UPDATE audit_record SET id = id"))
    assert await content_version.current() == moved


# The reader: one read for the requests asking together, never one sent before a request asked.


async def _bump() -> None:
    """A real write to a tracked table: the host's row (every page names the host)."""
    await get_engine().run_querystring(QueryString('UPDATE "host" SET id = id'))


async def test_requests_asking_together_share_one_read(db: str) -> None:
    reader = content_version.Reader()
    async with reader.running():
        answers = await asyncio.gather(*(reader() for _ in range(20)))
        assert reader.reads == 1
        now = await content_version.current()
        assert now is not None
        assert set(answers) == {now}
        await _bump()
        assert await reader() == now + 1  # a later ask, a new read
        assert reader.reads == 2


class _HeldReader(content_version.Reader):
    """A reader whose first read, once it has its number, is held until `let_go` is set: a
    read that is under way (sent, its answer not yet delivered) for as long as a test needs."""

    def __init__(self) -> None:
        super().__init__()
        self.has_number = asyncio.Event()
        self.let_go = asyncio.Event()

    async def _fetch(self) -> int | None:
        value = await super()._fetch()
        if not self.has_number.is_set():
            self.has_number.set()
            await self.let_go.wait()
        return value


async def test_a_request_never_gets_a_number_read_before_it_asked(db: str) -> None:
    reader = _HeldReader()
    async with reader.running():
        before = await content_version.current()
        assert before is not None
        early = asyncio.create_task(reader())
        await reader.has_number.wait()  # the early read has its (old) number, not yet delivered
        await _bump()  # a change committed before the next request asks
        late = asyncio.create_task(reader())
        for _ in range(5):
            await asyncio.sleep(0)
        reader.let_go.set()
        assert await early == before
        assert await late == before + 1  # not the early read's number
        assert reader.reads == 2


async def test_a_reader_that_lost_its_connection_reconnects(
    client: AppClient, engine_name: str
) -> None:
    if engine_name != "postgres":
        pytest.skip("a server closes the connection on PostgreSQL only")
    reader = _cache(client).reader
    assert (await client.get(f"/p/{SLUG}")).headers.get("etag")
    [row] = await get_engine().run_querystring(
        QueryString(
            "SELECT count(pg_terminate_backend(pid)) AS ended FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND query LIKE 'SELECT version FROM content_version%'"
        )
    )
    assert row["ended"] == 1  # the reader's connection, and no other
    lost = await client.get(f"/p/{SLUG}")
    assert lost.status_code == 200  # rendered, but not cached: the number could not be read
    assert "etag" not in lost.headers
    again = await client.get(f"/p/{SLUG}")
    assert again.status_code == 200
    assert again.headers.get("etag")
    assert reader.reads >= 3


# The donate form on a cached page: no token, its origin checked (platform.csrf). --------------


async def _donate(client: AppClient, headers: dict[str, str]) -> Any:
    client.headers.update(headers)
    try:
        return await submit(client, f"/p/{SLUG}", f"/p/{SLUG}/donate", {"amount_choice": "1000"})
    finally:
        for name in headers:
            client.headers.pop(name, None)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Origin": "http://testserver.local"},
        {"Sec-Fetch-Site": "same-origin", "Origin": "http://testserver.local"},
        {"Sec-Fetch-Site": "same-site"},
        {"Sec-Fetch-Site": "none"},
    ],
)
async def test_the_donate_form_from_this_site_is_taken(
    client: AppClient, headers: dict[str, str]
) -> None:
    review = await _donate(client, headers)
    assert review.status_code == 200
    assert 'data-testid="review-form"' in review.text
    client.headers.update(headers)
    try:
        paid = await submit_shown(
            client, review.text, "form-review", page=f"/p/{SLUG}/donate", press="pay"
        )
    finally:
        for name in headers:
            client.headers.pop(name, None)
    assert paid.status_code == 303


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "cross-site", "Origin": "http://testserver.local"},
    ],
)
async def test_the_donate_form_from_another_site_is_refused(
    client: AppClient, headers: dict[str, str]
) -> None:
    before = await Donation.count()
    refused = await _donate(client, headers)
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("text/html")
    assert "另一个网站" in refused.text
    page = await client.get(f"/p/{SLUG}")
    review = await submit_shown(
        client, page.text, f"/p/{SLUG}/donate", {"amount_choice": "1000"}, page=f"/p/{SLUG}"
    )
    client.headers.update(headers)
    try:
        paid = await submit_shown(
            client, review.text, "form-review", page=f"/p/{SLUG}/donate", press="pay"
        )
    finally:
        for name in headers:
            client.headers.pop(name, None)
    assert paid.status_code == 403
    assert await Donation.count() == before  # nothing written


async def test_a_logged_in_donor_still_needs_the_token(client: AppClient) -> None:
    await log_in(client, await make_account("sec@example.cn", "admin"))
    review = await submit(client, f"/p/{SLUG}", f"/p/{SLUG}/donate", {"amount_choice": "1000"})
    assert review.status_code == 200
    assert 'name="_csrf_token"' in review.text
    forged = await client.post(
        f"/p/{SLUG}/donate", data={"amount_choice": "1000"}, follow_redirects=False
    )
    assert forged.status_code == 403
