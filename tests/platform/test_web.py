"""One way to handle a form (platform/web.py): every people's form, refused, answers its page again
as HTML with a 4xx status, the error summary at the top linking to the field, the message beside
it and the values as sent. Each form is submitted as its page renders it (tests/forms.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
from litestar.datastructures import UploadFile

from linju.platform.accounts.audit import Actor
from linju.platform.i18n import current_locale, translate_in
from linju.platform.kernel.clock import local_today
from linju.platform.kernel.errors import ValidationErrors
from linju.platform.web import FormState, SubmittedForm, failed_form, iso_date
from linju.projects.core.rules import ProjectStatus
from linju.projects.core.services.drafting import create_draft, parse_draft_form
from linju.projects.core.services.projects import PublicationRefused, change_status
from linju.projects.core.tables import BudgetLine, Project
from linju.projects.donations.tables import Donation
from linju.projects.spending.rules import Person
from linju.projects.spending.services.expenditures import Proposal, propose
from linju.projects.stewardship.rules import OfflineGift
from linju.projects.stewardship.services.offline_donations import (
    confirm_offline_donation,
    record_offline_donation,
)
from tests.accounts_support import log_in
from tests.forms import assert_form_refused, find_form, submit_shown
from tests.projects.spending.spending_support import PDF_BYTES, invoice
from tests.projects.stewardship.stewardship_support import People, make_people, png_bytes

P = "tongqu-leyuan"  # the demo's fundraising project in lvjingyuan
D = "reading-corner"
TODAY = local_today().isoformat()
Setup = Callable[[People], Awaitable[dict[str, str]]]


async def nothing(people: People) -> dict[str, str]:
    return {}


async def a_draft(people: People) -> dict[str, str]:
    """A draft without a committee: it saves, but cannot be published yet."""
    form = {"slug": D, "title": "楼道读书角", "goal": "3000"}
    form |= {"budget-0-item": "书架", "budget-0-amount": "3000"}
    await create_draft(Actor(people.secretary, "sec"), parse_draft_form(form, "lvjingyuan"))
    return {}


async def a_proposal(people: People) -> dict[str, str]:
    """P closed for fundraising, with an expenditure awaiting the committee."""
    await change_status(P, ProjectStatus.FUNDED)
    project = await Project.select(Project.id).where(Project.slug == P).first()
    assert project is not None
    line = await BudgetLine.select(BudgetLine.id).where(BudgetLine.project == project["id"]).first()
    assert line is not None
    proposal = Proposal(line["id"], "青山游乐设备厂", "跷跷板", 10_000, attachments=(invoice(),))
    expenditure = await propose(P, proposal, Person("sec", people.secretary))
    return {"expenditure": expenditure}


async def a_donation(people: People) -> dict[str, str]:
    row = await (
        Donation.select(Donation.public_id)
        .where((Donation.project.slug == P) & (Donation.status == "succeeded"))
        .first()
    )
    assert row is not None, "the demo has confirmed donations"
    return {"donation": row["public_id"]}


async def an_offline_gift(people: People) -> dict[str, str]:
    gift = OfflineGift(5_000, "陈大爷", False, local_today(), "cash", "/photos/x.jpg", "0" * 64)
    return {"gift": await record_offline_donation(Actor(people.secretary, "sec"), P, gift)}


@dataclass(frozen=True)
class Refusal:
    """One form, sent with something wrong, and what the page must then say where."""

    who: str | None  # a People attribute; None for a visitor
    page: str
    form: str  # the form's action
    fields: dict[str, str | bool]
    message: str  # the message id (English)
    beside: str | None  # the field the message stands beside; None: about the whole form
    status: int = 422
    files: dict[str, Any] = field(default_factory=dict)
    press: str | None = None
    setup: Setup = nothing
    meanwhile: Callable[[People, dict[str, str]], Awaitable[Any]] | None = None


async def confirmed_by_another_member(people: People, made: dict[str, str]) -> None:
    await confirm_offline_donation(Actor(people.second_member, "m2"), P, made["gift"])


PASSWORDS = {"password", "current", "new", "confirm"}
EVIDENCE = {"evidence": ("receipt.png", png_bytes(), "image/png")}
REFUSALS = {
    "login": Refusal(
        None, "/login", "/login", {"email": "nobody@example.cn", "password": "wrong password"},
        "The e-mail or the password is wrong", None,
    ),
    "password change": Refusal(
        "secretary", "/account", "/account/password", {"current": "nope", "new": "a new secret!"},
        "The current password is wrong", "current",
    ),
    "admin: community": Refusal(
        "admin", "/admin", "/admin/communities",
        {"slug": "lvjingyuan", "name": "绿景苑", "district": "区"},
        "The slug %(slug)s is already taken", None, status=409,
    ),
    "admin: invitation": Refusal(
        "admin", "/admin", "/admin/invitations",
        {"email": "not-an-email", "name": "李书记", "role": "secretary", "community": "lvjingyuan"},
        "Enter a valid e-mail address", "email",
    ),
    "new draft": Refusal(
        "secretary", "/secretary/c/lvjingyuan/new", "/secretary/c/lvjingyuan/new",
        {"slug": D, "title": "楼道读书角", "goal": "十万"},
        "Enter the goal in yuan, e.g. 12000 or 12000.50", "goal",
    ),
    "draft edit": Refusal(
        "secretary", f"/p/{D}/manage", f"/p/{D}/manage/draft", {"budget-0-amount": "1000"},
        "The budget lines must add up to the goal", "budget_rows", setup=a_draft,
    ),
    "publish": Refusal(
        "secretary", f"/p/{D}/manage", f"/p/{D}/manage/publish", {},
        "The project cannot be published yet", None, setup=a_draft,
    ),
    "update": Refusal(
        "secretary", f"/p/{P}/manage", f"/p/{P}/manage/updates", {"body": " "},
        "Write what happened", "body",
    ),
    "offline gift": Refusal(
        "secretary", f"/p/{P}/manage", f"/p/{P}/manage/offline",
        {"amount": "二百", "donor_name": "陈大爷", "received_on": TODAY},
        "Enter the amount in yuan, e.g. 200 or 200.50", "amount", files=EVIDENCE,
    ),
    "pledge": Refusal(
        "secretary", f"/p/{P}/manage", f"/p/{P}/manage/pledges",
        {"sponsor_name": "区妇联", "sponsor_slug": "fulian", "ratio": "1:1", "cap": "5000",
         "starts_on": "2030-01-10", "ends_on": "2030-01-01"},
        "The window must end after it starts", "ends_on",
    ),
    "in-kind": Refusal(
        "secretary", f"/p/{P}/manage", f"/p/{P}/manage/in-kind",
        {"kind": "labour", "contributor": "3号楼居民", "description": "平整场地",
         "labour_hours": "很多"},
        "Enter the hours of work", "labour_hours",
    ),
    "offline confirmation": Refusal(
        "member", f"/p/{P}/offline", f"/p/{P}/committee/gifts/{{gift}}", {},
        "This donation was already confirmed", None, status=409,
        setup=an_offline_gift, meanwhile=confirmed_by_another_member,
    ),
    "spending proposal": Refusal(
        "secretary", f"/p/{P}/spending", f"/p/{P}/spending/expenditures",
        {"payee": "青山游乐设备厂", "purpose": "转椅", "amount": "很多"},
        "Enter an amount in yuan, like 4800.00", "amount",
        files={"invoice": ("发票.pdf", PDF_BYTES, "application/pdf")}, setup=a_proposal,
    ),
    "withdrawal": Refusal(
        "secretary", f"/p/{P}/spending", f"/p/{P}/spending/expenditures/{{expenditure}}/withdrawal",
        {"reason": " "}, "Give a reason", "reason", setup=a_proposal,
    ),
    "cancellation": Refusal(
        "secretary", f"/p/{P}/spending", f"/p/{P}/spending/cancellation", {"reason": " "},
        "Give a reason", "reason",
    ),
    "committee decision": Refusal(
        "member", "/committee", f"/p/{P}/committee/decisions", {"reason": " "},
        "Give a reason", "reason", press="reject", setup=a_proposal,
    ),
    "refund": Refusal(
        "secretary", f"/p/{P}/donations/{{donation}}/refund",
        f"/p/{P}/donations/{{donation}}/refund",
        {"amount": "0", "reason": "捐错了项目"},
        "Enter an amount in yuan, like 88 or 88.50", "amount", setup=a_donation,
    ),
    "donation": Refusal(
        None, f"/p/{P}", f"/p/{P}/donate", {"amount_choice": "custom", "custom_amount": "十元"},
        "Enter an amount in yuan, like 88 or 88.50", "custom_amount",
    ),
}  # fmt: skip


async def refuse(client: Any, case: Refusal, locale: str) -> tuple[Any, dict[str, str]]:
    """Log in as the case says, show its page, send its form; the answer, and what was made."""
    people = await make_people(client)
    made = await case.setup(people)
    if locale != "zh_CN":
        client.cookies.set("linju_lang", locale)
    if case.who:
        await log_in(client, getattr(people, case.who))
    page = case.page.format(**made)
    shown = await client.get(page)
    assert shown.status_code == 200, shown.text[:500]
    if case.meanwhile:
        await case.meanwhile(people, made)
    answer = await submit_shown(
        client, shown.text, case.form.format(**made), case.fields, case.files,
        page=page, press=case.press,
    )  # fmt: skip
    return answer, made


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize("case", REFUSALS.values(), ids=REFUSALS.keys())
async def test_every_refused_form_comes_back_as_its_page(client: Any, case: Refusal) -> None:
    answer, made = await refuse(client, case, "zh_CN")
    message = translate_in("zh_CN", case.message, slug="lvjingyuan")
    assert_form_refused(answer, message, status=case.status)
    html = answer.text
    if case.status == 409:
        return  # the form is no longer on the page (the community exists, the gift is confirmed)
    name = find_form(html, case.form.format(**made)).id.removeprefix("form-")
    if case.beside:
        state = FormState(name)
        assert f'href="#{state.id(case.beside)}"' in html, "the summary links to the field"
        beside = html.split(f'id="{state.error_id(case.beside)}"', 1)
        assert len(beside) == 2, f"no message beside {case.beside}"
        assert beside[1].split("</p>", 1)[0].endswith(message)
    for key, value in case.fields.items():  # the values as sent (never a password)
        if isinstance(value, str) and value.strip() and key not in PASSWORDS:
            assert f'value="{value}"' in html or f">{value}</textarea>" in html, key
        if key in PASSWORDS:
            assert str(value) not in html, f"the {key} password is shown back"


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize("name", ["new draft", "offline gift", "spending proposal", "refund"])
async def test_a_refused_form_speaks_english_when_chosen(client: Any, name: str) -> None:
    case = REFUSALS[name]
    answer, _ = await refuse(client, case, "en")
    assert_form_refused(answer, "Please correct the following", case.message, status=case.status)
    assert "请修正以下问题" not in answer.text


async def test_the_draft_edit_form_saves_as_it_is_rendered(client: Any, demo: None) -> None:
    """The edit form shows no address field; saving it as rendered must work (it did not)."""
    people = await make_people(client)
    await a_draft(people)
    await log_in(client, people.secretary)
    page = f"/p/{D}/manage"
    shown = await client.get(page)
    assert 'name="slug"' not in shown.text
    answer = await submit_shown(
        client, shown.text, f"/p/{D}/manage/draft", {"title": "楼道读书角（二期）"}, page=page
    )
    assert answer.status_code == 303, answer.text[:2000]
    assert answer.headers["location"] == page
    row = await Project.select(Project.title, Project.slug).where(Project.slug == D).first()
    assert row == {"title": "楼道读书角（二期）", "slug": D}


# The pieces, without HTTP (messages in English, the ids themselves) ----------------------------


@pytest.fixture
def english() -> Iterator[None]:
    token = current_locale.set("en")
    try:
        yield
    finally:
        current_locale.reset(token)


def test_a_submitted_form_reads_text_files_and_boxes() -> None:
    upload = UploadFile(content_type="image/png", filename="a.png", file_data=b"x")
    form = SubmittedForm(
        {"_csrf_token": "t", "amount": "12", "anonymous": "1", "photo": upload, "empty": ""}
    )
    assert form.text("amount") == "12"
    assert form.text("missing") == ""
    assert form.checked("anonymous")
    assert not form.checked("missing")
    assert form.files("photo") == [upload]
    assert form.files("empty") == []
    assert form.texts() == {"amount": "12", "anonymous": "1", "empty": ""}
    assert form.names == {"amount", "anonymous", "photo", "empty"}


def test_parsed_notes_every_problem_and_raise_problems_names_them_all() -> None:
    form = SubmittedForm({"amount": "abc", "count": "3", "day": "yesterday"})
    assert form.parsed("amount", int, "Enter a number", 0) == 0
    assert form.parsed("count", int, "Enter a number", 0) == 3
    assert form.parsed("day", int, "Enter a day", -1) == -1
    with pytest.raises(ValidationErrors) as refused:
        form.raise_problems()
    assert refused.value.problems == {"amount": "Enter a number", "day": "Enter a day"}


@pytest.mark.usefixtures("english")
def test_a_failed_form_puts_each_message_beside_a_field_it_sent() -> None:
    sent = SubmittedForm({"ends_on": "2030-01-01", "cap": "5", "_csrf_token": "t"})
    problems = {"ends_at": "Enter the hours of work", "cap": "Give a reason", "project": "Linju"}
    state = failed_form("pledge", ValidationErrors(problems), sent, {"ends_at": "ends_on"})
    assert state.errors == {"ends_on": "Enter the hours of work", "cap": "Give a reason"}
    assert state.messages == ("Linju",)  # about nothing the form sent: about the whole form
    assert state.values == {"ends_on": "2030-01-01", "cap": "5"}
    assert state.summary() == [
        ("", "Linju"),
        ("f-pledge-ends_on", "Enter the hours of work"),
        ("f-pledge-cap", "Give a reason"),
    ]


@pytest.mark.usefixtures("english")
def test_a_refused_publication_lists_every_reason() -> None:
    refused = PublicationRefused(["Give a reason", "Linju"])
    state = failed_form("publish", refused, SubmittedForm({}))
    assert state.messages == ("The project cannot be published yet", "Give a reason", "Linju")
    assert state.failed
    # A reason fixed on another page links there (ADR 0038).
    linked = failed_form("publish", refused, SubmittedForm({}), links={"Linju": "/d?check=x#f-a"})
    assert linked.links == {"Linju": "/d?check=x#f-a"}


def test_an_unrefused_form_has_no_summary() -> None:
    assert not FormState("login", {"next": "/"}).failed
    assert FormState("login").summary() == []


def test_a_day_is_read_as_a_date_input_sends_it() -> None:
    assert iso_date(" 2030-01-10 ") == date(2030, 1, 10)
    with pytest.raises(ValueError, match="year-month-day"):
        iso_date("10/01/2030")
    with pytest.raises(ValueError, match="between 2000-01-01 and 2100-12-31"):
        iso_date("0001-01-01")
