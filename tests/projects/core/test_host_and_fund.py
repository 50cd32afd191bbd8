"""The host charity and each project's fund (issue 15, docs/adr/0027-host-and-fund.md): the
admin's page (errors beside the field, nothing saved), `linju host show|set`, the footer, the
fund's generated name, the filing the host requires before publishing, and the project page's
and the poster's 募捐信息."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from stdnum.cn import uscc

from linju.platform.accounts.tables import AuditRecord
from linju.platform.kernel.clock import local_today
from linju.projects.core.read import get_project, host_details
from linju.projects.core.rules import (
    Filing,
    HostDetails,
    credit_code,
    filing_problems,
    fund_name,
    host_problems,
)
from linju.projects.core.services.projects import PublicationRefused, publish
from linju.projects.core.tables import Host, Project
from linju.projects.demo import DEMO_HOST
from tests import drafts
from tests.accounts_support import in_app, log_in, make_account
from tests.forms import assert_form_refused, submit, submit_shown

Client = Any
LINJU = str(Path(sys.executable).parent / "linju")
VALID = "51420107MJ4530321U"  # the demo's: check character computed by python-stdnum
NEW = "/secretary/c/lvjingyuan/new"


def _linju(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([LINJU, *args], capture_output=True, text=True, check=False, timeout=120)


# Pure rules -----------------------------------------------------------------------------------


def test_the_credit_code_is_checked_by_its_check_character() -> None:
    assert uscc.calc_check_digit(VALID[:17]) == VALID[-1]
    assert credit_code(VALID) == VALID
    assert credit_code(" 51420107mj4530321u ") == VALID  # compact, upper case
    assert credit_code(VALID[:17] + "X") is None  # a wrong check character
    assert credit_code(VALID[:16]) is None
    assert credit_code("") is None


def test_the_host_needs_every_detail_and_a_valid_code() -> None:
    today = date(2026, 11, 27)
    assert host_problems(DEMO_HOST, today) == {}
    bad = HostDetails(
        name="",
        credit_code="51420107MJ4530321X",
        fundraising_qualified=True,
        qualified_on=None,
        registration_authority="",
        contact="",
        designated_platforms=tuple(f"平台{i}" for i in range(11)),
    )
    assert set(host_problems(bad, today)) == {
        "name",
        "credit_code",
        "qualified_on",
        "registration_authority",
        "contact",
        "designated_platforms",
    }
    future = replace(DEMO_HOST, qualified_on=today + timedelta(days=1))
    assert set(host_problems(future, today)) == {"qualified_on"}


def test_the_fund_is_named_for_the_host_the_community_and_the_project() -> None:
    assert (
        fund_name("青山区慈善会", "绿景苑社区", "童趣乐园")
        == "青山区慈善会·绿景苑社区童趣乐园项目基金"
    )
    assert fund_name("", "绿景苑社区", "童趣乐园") == "绿景苑社区童趣乐园项目基金"


def test_a_host_requiring_filing_needs_the_number_and_both_dates() -> None:
    filed = Filing("51420107MJ4530321U26012", date(2026, 11, 1), date(2027, 2, 1))
    assert filing_problems(filed, required=True) == {}
    assert set(filing_problems(Filing(), required=True)) == {
        "filing_number",
        "plan_starts_on",
        "plan_ends_on",
    }
    assert filing_problems(Filing(), required=False) == {}


# The host on the admin page, the footer and the command line -----------------------------------


def host_form(**changes: str | bool) -> dict[str, str | bool]:
    typed: dict[str, str | bool] = {
        "name": "江岸区慈善总会",
        "credit_code": VALID,
        "fundraising_qualified": True,
        "qualified_on": "2020-06-01",
        "registration_authority": "江岸区民政局",
        "contact": "027-1234 5678",
        "designated_platforms": "腾讯公益\n支付宝公益",
        "filing_required": True,
    }
    typed.update(changes)
    return typed


@pytest.mark.usefixtures("demo")
async def test_the_demo_loads_its_host_and_every_page_names_it_in_the_footer(
    client: Client,
) -> None:
    host = await in_app(client, host_details)
    assert host == DEMO_HOST
    for path in ("/", "/c/lvjingyuan", "/p/tongqu-leyuan", "/p/tongqu-leyuan/ledger", "/login"):
        page = await client.get(path)
        assert page.status_code == 200, path
        assert "主办：青山区慈善会（统一社会信用代码 51420107MJ4530321U）" in page.text, path
    await client.get("/lang/en")
    page = await client.get("/")
    assert "Hosted by 青山区慈善会 (unified social credit code 51420107MJ4530321U)" in page.text


@pytest.mark.usefixtures("demo")
async def test_an_admin_edits_the_host_and_a_bad_code_is_refused_beside_its_field(
    client: Client,
) -> None:
    admin = await make_account("admin@example.cn", "admin", client=client)
    await log_in(client, admin)
    index = await client.get("/admin")
    assert 'href="/admin/host"' in index.text
    refused = await submit(
        client, "/admin/host", "/admin/host", host_form(credit_code="51420107MJ4530321X")
    )
    assert_form_refused(refused, "这不是有效的统一社会信用代码", status=422)
    assert 'id="e-host-credit_code"' in refused.text
    assert "江岸区慈善总会" in refused.text  # what was typed stays
    assert (await in_app(client, host_details)) == DEMO_HOST  # nothing saved

    saved = await submit_shown(client, refused.text, "/admin/host", host_form(), page="/admin/host")
    assert saved.status_code == 303, saved.text[:500]
    host = await in_app(client, host_details)
    assert host is not None
    assert (host.name, host.credit_code) == ("江岸区慈善总会", VALID)
    assert host.designated_platforms == ("腾讯公益", "支付宝公益")
    assert host.qualified_on == date(2020, 6, 1)
    assert await in_app(client, lambda: Host.count().run()) == 1  # one host, replaced
    audit = await in_app(
        client,
        lambda: AuditRecord.select(AuditRecord.action).where(AuditRecord.action == "host.edit"),
    )
    assert len(audit) >= 1
    home = await client.get("/")
    assert "主办：江岸区慈善总会" in home.text


@pytest.mark.usefixtures("demo")
async def test_the_host_page_is_for_admins_only(client: Client) -> None:
    anonymous = await client.get("/admin/host", follow_redirects=False)
    assert anonymous.status_code in (302, 303)
    secretary = await make_account("sec@example.cn", "secretary", community="lvjingyuan")
    await log_in(client, secretary)
    assert (await client.get("/admin/host")).status_code == 403


@pytest.mark.usefixtures("demo")
def test_linju_host_show_and_set(db: str) -> None:
    shown = _linju("host", "show")
    assert shown.returncode == 0, shown.stderr
    assert "name: 青山区慈善会" in shown.stdout
    assert f"credit code: {VALID}" in shown.stdout
    assert "filing required before publishing: yes" in shown.stdout

    bad = _linju("host", "set", "--credit-code", "51420107MJ4530321X")
    assert bad.returncode == 2
    assert len(bad.stderr.strip().splitlines()) == 1
    assert bad.stderr.startswith("linju: --credit-code: This is not a valid unified social")
    bad_day = _linju("host", "set", "--qualified-on", "2021-02-30")
    assert bad_day.returncode == 2
    assert len(bad_day.stderr.strip().splitlines()) == 1

    changed = _linju("host", "set", "--contact", "027-0000 0000", "--filing-optional")
    assert changed.returncode == 0, changed.stderr
    again = _linju("host", "show")
    assert "contact: 027-0000 0000" in again.stdout
    assert "name: 青山区慈善会" in again.stdout  # what was not given is kept
    assert "filing required before publishing: no" in again.stdout


def test_linju_host_set_refuses_an_incomplete_first_host(db: str) -> None:
    none = _linju("host", "show")
    assert none.returncode == 1
    bad = _linju("host", "set", "--name", "青山区慈善会", "--credit-code", VALID)
    assert bad.returncode == 2
    assert len(bad.stderr.strip().splitlines()) == 1
    assert _linju("host", "show").returncode == 1  # nothing saved


# The fund, the filing and publishing --------------------------------------------------------------


def draft_form(**changes: str) -> dict[str, str]:
    """The draft without its filing: this file is about asking for it."""
    return drafts.draft_form(filed=False, **changes)


async def _publish(client: Client, manage: str) -> Any:
    """Press publish on the workbench as rendered, and confirm it when a confirmation page
    answers first (ADR 0024)."""
    answer = await submit(client, manage, f"{manage}/publish")
    if answer.status_code == 200 and 'name="confirmed"' in answer.text:
        answer = await submit_shown(client, answer.text, f"{manage}/publish", page=manage)
    return answer


async def _project(client: Client, slug: str) -> dict[str, Any]:
    row = await in_app(client, lambda: Project.select().where(Project.slug == slug).first().run())
    assert row is not None
    return dict(row)


@pytest.mark.usefixtures("demo")
async def test_publishing_needs_the_filing_when_the_host_requires_it(client: Client) -> None:
    secretary = await make_account("sec@example.cn", "secretary", community="lvjingyuan")
    await log_in(client, secretary)
    created = await submit(client, NEW, NEW, draft_form())
    assert created.status_code == 303, created.text[:800]
    stored = await _project(client, "reading-corner")
    assert stored["fund_name"] == "青山区慈善会·绿景苑社区楼道读书角项目基金"  # generated

    manage = "/p/reading-corner/manage"
    refused = await submit(client, manage, f"{manage}/publish")
    assert_form_refused(
        refused, "发布前请填写募捐方案在慈善中国的备案编号", "发布前请填写已备案募捐方案的起止日期"
    )
    assert (await _project(client, "reading-corner"))["status"] == "draft"
    with pytest.raises(PublicationRefused):  # the service refuses whoever calls it
        await in_app(client, lambda: publish("reading-corner"))

    # A filing number that is no filing number, and a plan ending before it starts: beside each.
    edit = f"{manage}/draft"
    bad = await submit(
        client,
        edit,
        edit,
        {"filing_number": "备案!", "plan_starts_on": "2026-12-01", "plan_ends_on": "2026-11-01"},
    )
    assert_form_refused(bad, "备案编号为4到64位字母", "方案的结束日期不能早于开始日期", status=422)
    assert 'id="e-draft-filing_number"' in bad.text
    assert 'id="e-draft-plan_ends_on"' in bad.text

    start = local_today()
    filed = await submit(
        client,
        edit,
        edit,
        {
            "fund_name": "青山区慈善会·楼道读书角专项基金",
            "filing_number": "51420107MJ4530321U26031",
            "plan_starts_on": start.isoformat(),
            "plan_ends_on": (start + timedelta(days=90)).isoformat(),
        },
    )
    assert filed.status_code == 303, filed.text[:800]
    published = await _publish(client, manage)
    assert published.status_code == 303, published.text[:800]
    stored = await _project(client, "reading-corner")
    assert stored["status"] == "fundraising"
    assert stored["fund_name"] == "青山区慈善会·楼道读书角专项基金"  # edited, kept

    page = await client.get("/p/reading-corner")
    assert "募捐信息" in page.text
    assert "青山区慈善会·楼道读书角专项基金" in page.text
    assert "51420107MJ4530321U26031" in page.text


async def test_without_a_filing_rule_a_draft_publishes_without_filing(client: Client) -> None:
    from linju.platform.accounts.audit import COMMAND_LINE
    from linju.projects.core.services.host import save_host
    from linju.projects.demo import load_demo

    await in_app(client, load_demo)
    await in_app(client, lambda: save_host(COMMAND_LINE, replace(DEMO_HOST, filing_required=False)))
    secretary = await make_account("sec@example.cn", "secretary", community="lvjingyuan")
    await log_in(client, secretary)
    assert (await submit(client, NEW, NEW, draft_form())).status_code == 303
    manage = "/p/reading-corner/manage"
    published = await _publish(client, manage)
    assert published.status_code == 303, published.text[:800]


@pytest.mark.usefixtures("demo")
async def test_the_project_page_and_the_poster_show_the_fundraising_details(
    client: Client,
) -> None:
    project = await in_app(client, lambda: get_project("tongqu-leyuan"))
    fund = project.fund
    assert fund is not None
    assert fund.name == "青山区慈善会·绿景苑社区童趣乐园项目基金"
    assert fund.executing_party == "绿景苑社区"
    assert fund.filing_number.startswith(VALID)
    assert fund.plan_starts_on is not None
    assert fund.plan_ends_on is not None
    page = await client.get("/p/tongqu-leyuan")
    for text in (
        "募捐信息",
        "受赠方",
        "青山区慈善会·绿景苑社区童趣乐园项目基金",
        "执行方",
        fund.filing_number,
        "募捐方案期限",
        "同步发布平台",
        "腾讯公益、支付宝公益",
    ):
        assert text in page.text, text
    await client.get("/lang/en")
    english = await client.get("/p/tongqu-leyuan")
    assert "Fundraising details" in english.text
    assert "a charity fund of 青山区慈善会" in english.text
    assert "Executing party" in english.text

    secretary = await make_account("sec@example.cn", "secretary", community="lvjingyuan")
    await log_in(client, secretary)
    poster = await client.get("/p/tongqu-leyuan/poster")
    assert poster.status_code == 200
    assert "青山区慈善会·绿景苑社区童趣乐园项目基金" in poster.text
    assert fund.filing_number in poster.text


@pytest.mark.usefixtures("demo")
async def test_the_footer_names_the_host_on_an_error_page_too(client: Client) -> None:
    missing = await client.get("/no/such/page")
    assert missing.status_code == 404
    assert "主办：青山区慈善会" in missing.text
    assert "主办" not in (await client.get("/healthz")).text  # no page, no read of the host
