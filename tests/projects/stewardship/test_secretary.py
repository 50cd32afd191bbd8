"""The secretary's workflow over HTTP: drafting, publishing, offline donations, matching."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from linju.platform.accounts.tables import AuditRecord
from linju.platform.i18n import translate_in
from linju.platform.kernel.clock import local_today
from linju.projects.core.tables import Project
from linju.projects.ledger.tables import LedgerEntry
from linju.projects.stewardship.tables import OfflineDonation
from tests.accounts_support import csrf_token, in_app, log_in, log_out
from tests.drafts import BARE_DRAFT_MISSING, BUDGET, COMMITTEE, NO_COMMITTEE, draft_form, filing
from tests.forms import (
    assert_form_refused,
    confirm_shown,
    error_beside,
    parse_page,
    submit,
    submit_shown,
)
from tests.projects.stewardship.stewardship_support import (
    People,
    make_people,
    png_bytes,
    record_offline_gift,
)

Client = Any
pytestmark = pytest.mark.usefixtures("demo")


@pytest.fixture
async def people(client: Client) -> People:
    return await make_people(client)


def good_draft(**changes: str) -> dict[str, str]:
    story = "## 为什么\n\n**孩子们**需要一个安静的角落。"
    form = draft_form(summary="给孩子们一个读书的地方", story=story)
    form.update(changes)
    return form


async def count(client: Client, table: Any) -> int:
    return int(await in_app(client, lambda: table.count().run()))


async def test_a_secretary_drafts_and_publishes_and_publishing_is_audited(
    client: Client, people: People
) -> None:
    await log_in(client, people.secretary)
    page = "/secretary/c/lvjingyuan/new"
    incomplete = good_draft(**NO_COMMITTEE)
    created = await submit(client, page, page, incomplete)
    assert created.status_code == 303, created.text
    assert created.headers["location"] == "/p/reading-corner/manage"
    manage = "/p/reading-corner/manage"
    refused = await submit(client, manage, f"{manage}/publish")
    assert_form_refused(refused, "监督委员会至少需要三名成员", status=422)
    gallery = [(f"g{i}.png", png_bytes(), "image/png") for i in range(2)]
    # The edit form as rendered: filled in with the draft, without its address (which stays).
    shown = await client.get(manage)
    assert 'name="slug"' not in shown.text
    assert "给孩子们一个读书的地方" in shown.text
    committee = COMMITTEE
    edited = await submit(client, manage, f"{manage}/draft", committee, {"gallery": gallery})
    assert edited.status_code == 303, edited.text
    asked = await submit(client, manage, f"{manage}/publish")
    assert "¥3,000.00" in asked.text  # the confirmation page: the goal that goes public
    published = await confirm_shown(client, asked, page=manage)
    assert published.status_code == 303
    project = await in_app(
        client,
        lambda: (
            Project.select(Project.status).where(Project.slug == "reading-corner").first().run()
        ),
    )
    assert project is not None
    assert project["status"] == "fundraising"
    actions = await in_app(client, lambda: AuditRecord.select(AuditRecord.action).run())
    assert {"project.create", "project.edit", "project.publish"} <= {a["action"] for a in actions}
    public = await client.get("/p/reading-corner")
    assert "<strong>孩子们</strong>" in public.text  # Markdown rendered
    assert public.text.count('alt="项目照片"') == 2  # the gallery


# Publishing's check on the draft (docs/adr/0038-publishing-checked-on-the-draft.md) ----------
DRAFT = "/p/reading-corner/manage/draft"
CHECKED = f"{DRAFT}?check=publish"
REASONS = re.compile(
    r'<ul class="field-error form-messages" id="form-publish-messages">(.*?)</ul>', re.S
)
REASON_LINK = re.compile(r'<li><a href="([^"]+)">([^<]+)</a></li>')


def reason_links(html: str) -> dict[str, str]:
    """The publish form's reasons that are links, as rendered: message → address."""
    listed = REASONS.search(html)
    assert listed, "the publish form lists no reasons"
    return {message: href for href, message in REASON_LINK.findall(listed.group(1))}


async def test_a_refused_publication_links_each_reason_to_its_field_on_the_draft(
    client: Client, people: People
) -> None:
    await log_in(client, people.secretary)
    new = "/secretary/c/lvjingyuan/new"
    empty_budget = {name: "" for name in BUDGET}
    saved = await submit(client, new, new, draft_form(filed=False, **empty_budget, **NO_COMMITTEE))
    assert saved.status_code == 303, saved.text[:800]
    yesterday = local_today() - timedelta(days=1)  # saved in time; the deadline has since passed
    await in_app(
        client,
        lambda: (
            Project.update({Project.deadline: yesterday})
            .where(Project.slug == "reading-corner")
            .run()
        ),
    )

    # Refused on the workbench (asked by its link, and by its button): every reason listed, each
    # a link to the draft's field that fixes it, and one link to fix them all in the draft.
    manage = "/p/reading-corner/manage"
    expected = {zh("The project cannot be published yet"): CHECKED}
    for name, messages in BARE_DRAFT_MISSING.items():
        for message in messages:
            expected.setdefault(zh(message), f"{CHECKED}#f-draft-{name}")
    for refused in (
        await client.get(f"{manage}/publish"),
        await submit(client, manage, f"{manage}/publish"),
    ):
        assert_form_refused(refused, zh("The project cannot be published yet"), status=422)
        assert reason_links(refused.text) == expected
        assert f'href="{CHECKED}" data-testid="fix-in-draft"' in refused.text
        summary = refused.text[: refused.text.index("<h1")]  # the summary at the top links too
        assert all(f'href="{href}"' in summary for href in expected.values())

    # The draft page asked to check: each problem beside its field, as a refused save shows it.
    checked = await client.get(expected[zh("The deadline is in the past")].split("#")[0])
    assert checked.status_code == 200
    for name, messages in BARE_DRAFT_MISSING.items():
        beside = error_beside(checked.text, f"f-draft-{name}")
        assert all(zh(message) in beside for message in messages), (name, beside)
    assert 'data-testid="error-summary"' in checked.text
    assert 'href="#f-draft-committee_rows"' in checked.text
    assert 'data-testid="publish-check"' in checked.text

    # Fixed through the form as the checked page renders it: saved as before, then published.
    future = (local_today() + timedelta(days=30)).isoformat()
    fixes = {"budget-0-item": "书架", "budget-0-amount": "3000", "deadline": future}
    fixed = await submit_shown(
        client, checked.text, DRAFT, {**fixes, **COMMITTEE, **filing()}, page=CHECKED
    )
    assert fixed.status_code == 303, fixed.text[:800]
    again = await client.get(CHECKED)
    assert 'aria-invalid="true"' not in again.text
    assert zh("Nothing keeps this draft from being published.") in again.text
    asked = await submit(client, manage, f"{manage}/publish")
    published = await confirm_shown(client, asked, page=manage)
    assert published.status_code == 303, published.text[:800]
    status = await in_app(
        client,
        lambda: (
            Project.select(Project.status).where(Project.slug == "reading-corner").first().run()
        ),
    )
    assert status == {"status": "fundraising"}


def zh(message: str) -> str:
    return translate_in("zh_CN", message)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"budget-1-amount": "1000"}, "预算明细"),
        ({"committee-2-name": "", "committee-2-background": ""}, "至少需要三名成员"),
        ({"deadline": "2020-01-01"}, "截止日期"),
        ({"title": "长" * 20000}, "200"),
        ({"goal": "十万"}, "目标金额"),
    ],
)
async def test_bad_drafts_come_back_in_chinese_and_save_nothing(
    client: Client, people: People, changes: dict[str, str], message: str
) -> None:
    await log_in(client, people.secretary)
    before = await count(client, Project)
    page = "/secretary/c/lvjingyuan/new"
    answer = await submit(client, page, page, good_draft(**changes))
    assert_form_refused(answer, message, status=422)
    assert await count(client, Project) == before


async def test_script_in_any_field_is_shown_back_escaped(client: Client, people: People) -> None:
    await log_in(client, people.secretary)
    script = "<script>alert(1)</script>"
    draft = good_draft(goal="abc").items()
    form = {key: value + script for key, value in draft if not key.endswith("-role")}
    page = "/secretary/c/lvjingyuan/new"
    answer = await submit(client, page, page, form)
    assert_form_refused(answer, status=422)
    assert script not in answer.text
    assert "&lt;script&gt;" in answer.text


@pytest.mark.parametrize(
    ("payload", "message"),
    [(b"%PDF-1.4 not an image", "不是 JPEG"), (b"x" * (8 * 1024 * 1024 + 1), "8 MB")],
)
async def test_a_cover_that_is_not_an_acceptable_photo_is_refused(
    client: Client, people: People, payload: bytes, message: str
) -> None:
    await log_in(client, people.secretary)
    page = "/secretary/c/lvjingyuan/new"
    answer = await submit(
        client, page, page, good_draft(), files={"cover": ("cover.jpg", payload, "image/jpeg")}
    )
    assert_form_refused(answer, message, status=422)
    assert await count(client, Project) == 3


async def test_offline_donation_counts_only_after_another_committee_member_confirms(
    client: Client, people: People
) -> None:
    await log_in(client, people.secretary)
    entries_before = await count(client, LedgerEntry)
    recorded = await record_offline_gift(client)
    assert recorded.status_code == 303, recorded.text
    row = await in_app(
        client,
        lambda: (
            OfflineDonation.select().where(OfflineDonation.confirmed_at.is_null()).first().run()
        ),
    )
    assert row is not None
    assert row["confirmed_at"] is None
    assert len(row["evidence_sha256"]) == 64
    assert await count(client, LedgerEntry) == entries_before  # counted nowhere yet
    photo = await client.get(row["evidence_path"])
    assert photo.status_code == 200
    assert photo.headers["content-type"] == "image/jpeg"
    # The secretary is not on the committee: refused, nothing posted.
    refused = await client.post(
        f"/p/tongqu-leyuan/committee/gifts/{row['public_id']}",
        data={"_csrf_token": csrf_token((await client.get("/p/tongqu-leyuan/manage")).text)},
        follow_redirects=False,
    )
    assert refused.status_code == 403
    log_out(client)
    await log_in(client, people.member)
    listing = await client.get("/p/tongqu-leyuan/offline")
    assert "陈大爷" in listing.text
    confirmation = f"/p/tongqu-leyuan/committee/gifts/{row['public_id']}"
    confirmed = await submit_shown(client, listing.text, confirmation)
    assert confirmed.status_code == 303
    entry = await in_app(
        client,
        lambda: LedgerEntry.select().order_by(LedgerEntry.id, ascending=False).first().run(),
    )
    assert entry is not None
    assert entry["kind"] == "offline_donation"
    assert entry["idempotency_key"] == f"offline_donation:{row['public_id']}"
    again = await submit_shown(client, listing.text, confirmation)  # the page, sent again
    assert_form_refused(again, "这笔捐款已经确认过了", status=409)
    assert await count(client, LedgerEntry) == entries_before + 1


async def test_the_project_page_shows_updates_newest_first_matching_and_in_kind_help(
    client: Client, people: People
) -> None:
    await log_in(client, people.secretary)
    page = "/p/tongqu-leyuan/manage"
    for body in ("第一条进展", "第二条进展"):
        posted = await submit(client, page, "/p/tongqu-leyuan/manage/updates", {"body": body})
        assert posted.status_code == 303, posted.text
    pledge = await submit(
        client,
        page,
        "/p/tongqu-leyuan/manage/pledges",
        {
            "sponsor_name": "区妇联",
            "sponsor_slug": "fulian-test",
            "ratio": "1:1",
            "cap": "5000",
            "starts_on": local_today().isoformat(),
            "ends_on": (local_today() + timedelta(days=30)).isoformat(),
        },
        {"letter": ("letter.png", png_bytes(), "image/png")},
    )
    assert pledge.status_code == 303, pledge.text
    assert "尚余 ¥5,000.00" not in (await client.get("/p/tongqu-leyuan")).text  # not confirmed
    log_out(client)
    await log_in(client, people.member)
    inbox = await client.get("/committee")
    (form,) = [f.action for f in parse_page(inbox.text).forms if "/committee/pledges/" in f.action]
    confirmed = await submit_shown(client, inbox.text, form, press="confirm", page="/committee")
    assert confirmed.status_code == 303, confirmed.text
    log_out(client)
    await log_in(client, people.secretary)
    for hours in ("40", "40"):
        labour = await submit(
            client, page, "/p/tongqu-leyuan/manage/in-kind",
            {"kind": "labour", "contributor": "3号楼居民", "description": "平整场地",
             "labour_hours": hours},
        )  # fmt: skip
        assert labour.status_code == 303, labour.text
    public = await client.get("/p/tongqu-leyuan")
    text = public.text
    assert text.index("第二条进展") < text.index("第一条进展")
    assert "居民投工投劳 10 天" in text
    assert "区妇联" in text
    assert "尚余 ¥5,000.00" in text


async def test_a_pledge_with_a_bad_window_comes_back_with_the_reason(
    client: Client, people: People
) -> None:
    await log_in(client, people.secretary)
    answer = await submit(
        client, "/p/tongqu-leyuan/manage", "/p/tongqu-leyuan/manage/pledges",
        {"sponsor_name": "区妇联", "sponsor_slug": "fulian", "ratio": "1:1", "cap": "5000",
         "starts_on": "2030-01-10", "ends_on": "2030-01-01"},
    )  # fmt: skip
    assert_form_refused(answer, "配捐期的结束日期必须晚于开始日期", status=422)
    assert 'id="e-pledge-ends_on"' in answer.text  # beside the last day


@pytest.mark.parametrize(
    "path",
    [
        "/secretary/c/lvjingyuan/new",
        "/p/tongqu-leyuan/manage/draft",
        "/p/tongqu-leyuan/manage/draft/photos/x.jpg/removal",
        "/p/tongqu-leyuan/manage/publish",
        "/p/tongqu-leyuan/manage/updates",
        "/p/tongqu-leyuan/manage/offline",
        "/p/tongqu-leyuan/manage/pledges",
        "/p/tongqu-leyuan/manage/in-kind",
        "/p/tongqu-leyuan/committee/gifts/x",
        "/admin/invitations",
        "/account/password",
        "/password/reset/some-token",
    ],
)
async def test_every_form_post_without_a_csrf_token_is_refused(
    client: Client, people: People, path: str
) -> None:
    await log_in(client, people.secretary)
    before = await count(client, AuditRecord)
    answer = await client.post(path, data={"body": "x"}, follow_redirects=False)
    assert answer.status_code == 403
    assert await count(client, AuditRecord) == before
