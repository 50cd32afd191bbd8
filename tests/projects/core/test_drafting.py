"""Drafting over HTTP, with the forms as rendered (docs/adr/0022-drafting.md): rows of budget
lines and committee members that grow by a round-trip without JavaScript, each row's problem
beside its own field, the running total, the address proposed from the title's pinyin, the
draft's photos, and the draft's preview for its stewards only."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from linju.platform.kernel.clock import local_today
from linju.projects.core.tables import BudgetLine, CommitteeMember, Project, ProjectPhoto
from tests.accounts_support import csrf_token, in_app, log_in, log_out, make_account
from tests.forms import FileValue, assert_form_refused, find_form, parse_page, submit, submit_shown
from tests.projects.stewardship.stewardship_support import People, make_people, png_bytes

Client = Any
pytestmark = pytest.mark.usefixtures("demo")
NEW = "/secretary/c/lvjingyuan/new"


@pytest.fixture
async def people(client: Client) -> People:
    return await make_people(client)


def typed(**changes: str) -> dict[str, str]:
    form = {
        "title": "童趣乐园",
        "goal": "3000",
        "deadline": (local_today() + timedelta(days=30)).isoformat(),
        "budget-0-item": "书架",
        "budget-0-amount": "1000",
        "budget-1-item": "图书",
        "budget-1-amount": "1500",
        "budget-2-item": "坐垫",
        "budget-2-amount": "500",
        "committee-0-name": "王阿姨",
        "committee-0-role": "chair",
        "committee-0-background": "退休教师",
        "committee-1-name": "李师傅",
        "committee-1-background": "木工",
        "committee-2-name": "张医生",
        "committee-2-background": "社区医生",
    }
    form.update(changes)
    return form


async def count(client: Client, table: Any) -> int:
    return int(await in_app(client, lambda: table.count().run()))


def value_of(html: str, name: str) -> str:
    (form,) = [f for f in parse_page(html).forms if f.id == "form-draft"]
    (control,) = [c for c in form.controls if c.name == name]
    if control.tag == "select":
        return next(v for v, chosen in control.options if chosen)
    return control.value


def rows(html: str, kind: str) -> int:
    return html.count(f'data-testid="{kind}-row"')


async def test_adding_a_row_keeps_everything_typed_and_saves_nothing(
    client: Client, people: People
) -> None:
    await log_in(client, people.secretary)
    before = await count(client, Project)
    shown = await client.get(NEW)
    assert rows(shown.text, "budget") == 3
    assert rows(shown.text, "committee") == 3
    again = await submit(client, NEW, NEW, typed(goal="4000"), press="add-budget")
    assert again.status_code == 200, again.text[:500]
    assert rows(again.text, "budget") == 4
    assert rows(again.text, "committee") == 3
    assert value_of(again.text, "budget-1-item") == "图书"
    assert value_of(again.text, "budget-2-amount") == "500"
    assert value_of(again.text, "budget-3-item") == ""
    assert value_of(again.text, "committee-0-role") == "chair"
    assert value_of(again.text, "committee-2-background") == "社区医生"
    assert value_of(again.text, "slug") == "tong-qu-le-yuan"  # proposed on the way
    assert "预算合计 ¥3,000.00" in again.text
    assert "距目标还差 ¥1,000.00" in again.text
    assert await count(client, Project) == before
    # The form as it came back: one more committee member, then the new line filled in, saved.
    more = await submit_shown(client, again.text, "form-draft", page=NEW, press="add-committee")
    assert rows(more.text, "committee") == 4
    assert rows(more.text, "budget") == 4
    fields = {"budget-3-item": "台灯", "budget-3-amount": "1000", "committee-3-name": "赵老师"}
    fields["committee-3-background"] = "小学老师"
    saved = await submit_shown(client, more.text, "form-draft", fields, page=NEW)
    assert saved.status_code == 303, saved.text[:2000]
    assert saved.headers["location"] == "/p/tong-qu-le-yuan/manage"

    async def stored() -> tuple[list[Any], list[Any]]:
        project = await Project.select(Project.id).where(Project.slug == "tong-qu-le-yuan").first()
        assert project is not None
        lines = (
            await BudgetLine.select(BudgetLine.title, BudgetLine.amount_fen)
            .where(BudgetLine.project == project["id"])
            .order_by(BudgetLine.position)
        )
        seats = (
            await CommitteeMember.select(CommitteeMember.name, CommitteeMember.role)
            .where(CommitteeMember.project == project["id"])
            .order_by(CommitteeMember.position)
        )
        return lines, seats

    lines, seats = await in_app(client, stored)
    assert [(x["title"], x["amount_fen"]) for x in lines] == [
        ("书架", 100_000), ("图书", 150_000), ("坐垫", 50_000), ("台灯", 100_000)
    ]  # fmt: skip
    assert [(s["name"], s["role"]) for s in seats] == [
        ("王阿姨", "chair"), ("李师傅", "member"), ("张医生", "member"), ("赵老师", "member")
    ]  # fmt: skip


async def test_a_bad_amount_in_row_two_is_shown_beside_row_two_and_nothing_is_saved(
    client: Client, people: People
) -> None:
    await log_in(client, people.secretary)
    before = await count(client, Project)
    answer = await submit(client, NEW, NEW, typed(**{"budget-1-amount": "一千五"}))
    assert_form_refused(answer, "请按元填写金额", status=422)
    assert 'id="e-draft-budget-1-amount"' in answer.text
    assert 'id="e-draft-budget-0-amount"' not in answer.text
    assert 'href="#f-draft-budget-1-amount"' in answer.text
    assert value_of(answer.text, "budget-1-amount") == "一千五"  # as typed, to correct
    assert value_of(answer.text, "budget-2-item") == "坐垫"
    assert "预算合计 ¥1,500.00" in answer.text  # what can be read, against the goal
    assert await count(client, Project) == before
    # A member without a background: beside that member's field.
    answer = await submit(client, NEW, NEW, typed(**{"committee-1-background": ""}))
    assert_form_refused(answer, status=422)
    assert 'id="e-draft-committee-1-background"' in answer.text
    assert await count(client, Project) == before


async def test_the_address_is_proposed_editable_and_a_taken_one_is_refused_beside_it(
    client: Client, people: People
) -> None:
    await log_in(client, people.secretary)
    proposed = await submit(client, NEW, NEW, {"title": "童趣乐园"}, press="propose-slug")
    assert proposed.status_code == 200
    assert value_of(proposed.text, "slug") == "tong-qu-le-yuan"
    # Changed by hand before saving: the typed address is the one kept.
    saved = await submit(client, NEW, NEW, typed(slug="tongqu-2"))
    assert saved.status_code == 303, saved.text[:2000]
    assert saved.headers["location"] == "/p/tongqu-2/manage"
    # Left empty: the proposal; when taken, with a suffix.
    first = await submit(client, NEW, NEW, typed())
    assert first.headers["location"] == "/p/tong-qu-le-yuan/manage"
    again = await submit(client, NEW, NEW, {"title": "童趣乐园"}, press="propose-slug")
    assert value_of(again.text, "slug") == "tong-qu-le-yuan-2"
    # Taken (the demo's playground): refused beside the address, nothing saved.
    before = await count(client, Project)
    taken = await submit(client, NEW, NEW, typed(slug="tongqu-leyuan"))
    assert_form_refused(taken, "这个地址已被其他项目使用", status=422)
    assert 'id="e-draft-slug"' in taken.text
    assert await count(client, Project) == before


async def draft_with_photos(client: Client) -> str:
    files: dict[str, FileValue | list[FileValue]] = {
        "cover": ("cover.png", png_bytes(), "image/png"),
        "gallery": [("g1.png", png_bytes(), "image/png"), ("g2.png", png_bytes(), "image/png")],
    }
    saved = await submit(client, NEW, NEW, typed(slug="with-photos"), files)
    assert saved.status_code == 303, saved.text[:2000]
    return "/p/with-photos/manage/draft"


async def test_the_edit_page_shows_the_photos_and_each_can_be_removed(
    client: Client, people: People
) -> None:
    await log_in(client, people.secretary)
    edit = await draft_with_photos(client)
    page = await client.get(edit)
    assert page.status_code == 200
    assert page.text.count('data-testid="thumb-cover"') == 1
    assert page.text.count('data-testid="thumb-gallery"') == 2
    assert value_of(page.text, "budget-2-item") == "坐垫"
    removals = [f.action for f in parse_page(page.text).forms if f.action.endswith("/removal")]
    assert len(removals) == 3

    async def photos() -> tuple[str, int]:
        project = (
            await Project.select(Project.id, Project.cover_image)
            .where(Project.slug == "with-photos")
            .first()
        )
        assert project is not None
        gallery = await ProjectPhoto.count().where(ProjectPhoto.project == project["id"])
        return project["cover_image"], int(gallery)

    cover, _ = await in_app(client, photos)
    assert (await client.get(cover)).status_code == 200
    # Someone else (another community's secretary) cannot.
    log_out(client)
    await log_in(client, people.other_secretary)
    refused = await submit_shown(client, page.text, removals[0], page=edit)
    assert refused.status_code == 403
    assert await in_app(client, photos) == (cover, 2)
    log_out(client)
    await log_in(client, people.secretary)
    gone = await submit(client, edit, removals[0])  # the cover
    assert gone.status_code == 303
    assert gone.headers["location"] == f"{edit}#photos"
    assert await in_app(client, photos) == ("", 2)
    assert (await client.get(cover)).status_code == 404  # the file too
    page = await client.get(edit)
    assert 'data-testid="thumb-cover"' not in page.text
    gone = await submit(client, edit, find_form(page.text, removals[1]).action)
    assert gone.status_code == 303
    assert await in_app(client, photos) == ("", 1)
    # A photo that is not this draft's: the edit page again with a 404, nothing removed.
    shown = await client.get(edit)
    nothing = await client.post(
        "/p/with-photos/manage/draft/photos/nope.jpg/removal",
        data={"_csrf_token": csrf_token(shown.text)},
    )
    assert nothing.status_code == 404
    assert await in_app(client, photos) == ("", 1)


async def test_the_preview_shows_the_draft_as_the_public_will_with_a_banner_to_stewards_only(
    client: Client, people: People
) -> None:
    await log_in(client, people.secretary)
    await draft_with_photos(client)
    assert (await client.get("/p/with-photos")).status_code == 404  # a draft is not public
    preview = await client.get("/p/with-photos/preview")
    assert preview.status_code == 200
    assert "草稿预览，仅管理人员可见" in preview.text
    assert '<meta name="robots" content="noindex">' in preview.text
    assert preview.headers["cache-control"] == "private, no-store"
    assert "书架" in preview.text  # the public page's sections
    assert "王阿姨" in preview.text
    assert 'class="cover"' in preview.text
    admin_and_member = [people.admin]
    member = await make_account(
        "m9@example.cn", "committee", name="张医生", project="with-photos", client=client
    )
    admin_and_member.append(member)
    for steward in admin_and_member:
        log_out(client)
        await log_in(client, steward)
        seen = await client.get("/p/with-photos/preview")
        assert seen.status_code == 200
        assert "草稿预览" in seen.text
    for other in (None, people.other_secretary, people.member):
        log_out(client)
        if other is not None:
            await log_in(client, other)
        hidden = await client.get("/p/with-photos/preview")
        assert hidden.status_code == 404
        assert "王阿姨" not in hidden.text
    assert (await client.get("/p/no-such-project/preview")).status_code == 404
    # A published project's preview is its public page.
    log_out(client)
    await log_in(client, people.secretary)
    public = await client.get("/p/tongqu-leyuan/preview", follow_redirects=False)
    assert public.status_code == 303
    assert public.headers["location"] == "/p/tongqu-leyuan"
