"""Every page of the demo passes axe-core's WCAG 2.2 A/AA rules (issues 14 and 15, docs/adr/0025).

One browser, script disabled as a resident's phone may have it, at 375 px and 1280 px, in
Chinese and in English: each GET page of README's Layout table that answers HTML — the public
pages, the donation's checkout and receipt, the login and password pages, a 404, and the staff
pages as an admin, a secretary and a committee member — and at least one refused form of each
family (its errors shown beside the fields). At 375 px each page is also measured: nothing wider
than the phone, and every table (the staff's too) a stack of cards (ADR 0023). Every fault of
every page is gathered, so one run lists all of them (tests/accessibility.py says how axe runs
on a page without script).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from playwright.async_api import Browser, BrowserContext, Page, ViewportSize

from linju.platform.accounts.audit import COMMAND_LINE, Actor
from linju.platform.accounts.tables import Account
from linju.platform.kernel.clock import utc_now
from linju.projects.core.files import AttachmentUpload, Upload
from linju.projects.core.rules import BudgetLinePlan, ProjectStatus
from linju.projects.core.services.projects import ProjectDraft, change_status, create_project
from linju.projects.core.tables import BudgetLine
from linju.projects.spending.rules import Person
from linju.projects.spending.services.expenditures import Proposal, propose
from linju.projects.voice.rules import HearingWindow, QuestionDraft, QuestionKind
from linju.projects.voice.services.hearings import Subject, open_hearing
from linju.projects.voice.services.stewards import name_steward
from tests.accessibility import axe_violations, describe
from tests.accounts_support import log_in_with_browser, make_account
from tests.browser_fixtures import PHONE, submit_on
from tests.projects.stewardship.stewardship_support import png_bytes, seat_names

pytestmark = pytest.mark.browser

DESKTOP: ViewportSize = {"width": 1280, "height": 900}
DRAFT = "xin-caogao"
OPEN_HEARING, COMING_HEARING = 2, 3  # beside the demo's closed hearing 1 (demo_with_people)
PUBLIC = (
    "/",
    "/c/lvjingyuan",
    "/c/hepingli",
    "/c/cuiweiyuan",
    "/p/tongqu-leyuan",
    "/p/yuelanshi",
    "/p/wuding-huayuan",
    "/p/tongqu-leyuan/ledger",
    "/p/wuding-huayuan/ledger",
    "/p/tongqu-leyuan/poster",
    "/p/yuelanshi/disclosures/1",
    "/login",
    "/password/forgot",
    "/password/reset/not-a-token",
    "/no/such/page",
    "/p/no-such-project",
    "/c/lvjingyuan/household",
    "/household",
    "/needs/1",
    "/needs/2",
    "/hearings/1/minutes",  # the demo's hearing, its minutes signed off (ADR 0034)
    "/hearings/1",  # the demo's hearing, closed: its results (ADR 0032)
    f"/hearings/{OPEN_HEARING}",  # open: the questions, the code's link
    f"/hearings/{COMING_HEARING}",  # not open yet
)
STAFF = {
    "admin@example.cn": (
        "/account",
        "/admin",
        "/admin/audit",
        "/admin/host",
        "/p/tongqu-leyuan/donations",
    ),
    "sec@example.cn": (
        "/secretary",
        "/secretary/c/lvjingyuan/new",
        "/p/tongqu-leyuan/manage",
        f"/p/{DRAFT}/manage",
        f"/p/{DRAFT}/manage/draft",
        f"/p/{DRAFT}/manage/draft?check=publish",  # publishing's problems by field (ADR 0038)
        f"/p/{DRAFT}/preview",
        "/p/tongqu-leyuan/spending",
        "/p/tongqu-leyuan/offline",
        "/p/tongqu-leyuan/manage/disclosures",
        "/secretary/c/lvjingyuan/households",
        "/secretary/c/lvjingyuan/needs",
        "/secretary/c/lvjingyuan/hearings",
    ),
    "garden@example.cn": ("/p/wuding-huayuan/manage", "/p/wuding-huayuan/spending"),
    "reading@example.cn": (
        "/p/yuelanshi/manage",
        "/p/yuelanshi/spending",
        "/p/yuelanshi/manage/disclosures",
    ),
    "member@example.cn": ("/committee",),
    "steward@example.cn": (
        "/steward/c/lvjingyuan",
        "/hearings/1/minutes/sign",
        "/steward/c/lvjingyuan/hearings",  # open a hearing (ADR 0032)
        f"/steward/c/lvjingyuan/hearings/{OPEN_HEARING}",  # its paper ballots
    ),
    "reader@example.cn": ("/committee",),  # an expenditure of the reading room to decide
    "kuaiji@example.cn": ("/finance/receipts",),  # host finance: the demo's requests (ADR 0030)
}


# On a phone every table of columns is a stack of cards (ADR 0023): no table row is laid out as a
# row, no cell without its column's name, and nothing wider than the screen.
PHONE_LAYOUT = """() => {
  const problems = [];
  if (document.documentElement.scrollWidth > window.innerWidth)
    problems.push(`the page is ${document.documentElement.scrollWidth} px wide`);
  for (const table of document.querySelectorAll('main table')) {
    if (!table.tHead) continue;  // a key and value per row (the receipt's entry) fits a phone
    if (!table.classList.contains('stack')) problems.push('a table without class stack');
    for (const row of table.querySelectorAll('tbody tr'))
      if (getComputedStyle(row).display !== 'block') problems.push('a table row is not a card');
    for (const cell of table.querySelectorAll('tbody td'))
      if (!cell.dataset.label && cell.colSpan === 1) problems.push('a cell without data-label');
  }
  return [...new Set(problems)];
}"""


@dataclass
class Findings:
    """Every violation of the run, by where it was seen."""

    seen: list[str] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)

    async def check(self, page: Page, where: str) -> None:
        self.seen.append(where)
        violations = await axe_violations(page)
        if violations:
            self.faults.append(f"--- {where} ({page.url})\n{describe(violations)}")
        if page.viewport_size == PHONE:
            for problem in await page.evaluate(PHONE_LAYOUT):
                self.faults.append(f"--- {where} ({page.url}) at 375 px: {problem}")


async def _refused(
    page: Page,
    findings: Findings,
    where: str,
    path: str,
    button: str,
    fill: dict[str, str] | None = None,
) -> None:
    """Open `path`, press `button` with the form as rendered, left empty but for `fill` (the
    browser's own checks off, as an old phone's), and check the page that comes back with its
    errors."""
    await page.goto(page.url.split("/", 3)[0] + "//" + page.url.split("/", 3)[2] + path)
    await page.evaluate("for (const f of document.forms) f.noValidate = true")
    for selector, value in (fill or {}).items():
        if await page.locator(selector).get_attribute("type") == "radio":
            await page.check(selector)
        else:
            await page.fill(selector, value)
    response = await submit_on(page, button)
    assert 400 <= response.status < 500, f"{where}: {path} answered {response.status}"
    assert await page.locator(".field-error, .error-summary, [role=alert]").count(), where
    await findings.check(page, f"{where} refused")


async def _context(browser: Browser, base: str, viewport: ViewportSize, language: str) -> Page:
    context: BrowserContext = await browser.new_context(
        viewport=viewport, java_script_enabled=False
    )
    page = await context.new_page()
    await page.goto(f"{base}/lang/{language}?next=/")
    return page


async def _donate(page: Page, base: str, findings: Findings, where: str) -> None:
    """A donation on the sandbox: the form, its review when there is one, the checkout and the
    receipt, each checked."""
    await page.goto(f"{base}/p/tongqu-leyuan")
    await submit_on(page, "form[action$='/donate'] button[type=submit]")
    review = page.locator("form[action$='/donate/confirmation'] button[type=submit]")
    if await review.count():
        await findings.check(page, f"{where} donation review")
        await submit_on(page, "form[action$='/donate/confirmation'] button[type=submit] >> nth=0")
    assert "/sandbox/checkout/" in page.url, page.url
    await findings.check(page, f"{where} sandbox checkout")
    await submit_on(page, "button[value=succeed], button[type=submit] >> nth=0")
    assert "/donations/" in page.url, page.url
    await findings.check(page, f"{where} receipt")


async def _crawl(
    browser: Browser, base: str, language: str, viewport: ViewportSize, *, forms: bool
) -> Findings:
    """Every page in `language` at `viewport`; with `forms`, a refused form of each family and a
    donation's steps too."""
    findings = Findings()
    size = f"{language} {viewport['width']}px"
    page = await _context(browser, base, viewport, language)
    for path in PUBLIC:
        await page.goto(f"{base}{path}")
        await findings.check(page, f"{size} {path}")
    if forms:
        await _public_forms(page, base, findings, size)
    await page.context.close()

    for email, paths in STAFF.items():
        page = await _context(browser, base, viewport, language)
        await log_in_with_browser(page, base, email)
        for path in paths:
            response = await page.goto(f"{base}{path}")
            assert response is not None
            assert response.status == 200, (email, path)
            await findings.check(page, f"{size} {email} {path}")
        if forms:
            await _staff_forms(page, base, findings, size, email)
        await page.context.close()
    return findings


async def _public_forms(page: Page, base: str, findings: Findings, size: str) -> None:
    await _refused(
        page,
        findings,
        f"{size} donate",
        "/p/tongqu-leyuan",
        "[data-testid=donate-submit]",
        {"input[name=amount_choice][value=custom]": "", "input[name=custom_amount]": "0.001"},
    )
    await _refused(page, findings, f"{size} login", "/login", "#form-login button[type=submit]")
    await _refused(
        page,
        findings,
        f"{size} household code",
        "/c/lvjingyuan/household",
        "[data-testid=enter-code]",
    )
    await _donate(page, base, findings, size)


async def _staff_forms(page: Page, base: str, findings: Findings, size: str, email: str) -> None:
    if email == "admin@example.cn":
        for action in ("/admin/communities", "/admin/invitations"):
            await _refused(
                page, findings, f"{size} {action}", "/admin", f"form[action='{action}'] button"
            )
        await _refused(
            page,
            findings,
            f"{size} password",
            "/account",
            "form[action='/account/password'] button",
        )
        await page.goto(f"{base}/p/tongqu-leyuan/donations")
        refund = page.locator("a[href$='/refund']").first
        await page.goto(f"{base}{await refund.get_attribute('href')}")
        await findings.check(page, f"{size} refund form")
        await _refused(
            page,
            findings,
            f"{size} refund",
            page.url.split(base, 1)[1],
            "form[action$='/refund'] button",
        )
    if email == "sec@example.cn":
        await _refused(
            page,
            findings,
            f"{size} new draft",
            "/secretary/c/lvjingyuan/new",
            "[data-testid=save-draft]",
        )
        for action in ("offline", "pledges", "updates", "in-kind"):
            await _refused(
                page,
                findings,
                f"{size} {action}",
                "/p/tongqu-leyuan/manage",
                f"form[action='/p/tongqu-leyuan/manage/{action}'] button[type=submit]",
            )
        await _refused(  # a household without its room (ADR 0033)
            page,
            findings,
            f"{size} household",
            "/secretary/c/lvjingyuan/households",
            "[data-testid=add-household]",
        )
        await _refused(  # the rules of needs with a threshold of 0%
            page,
            findings,
            f"{size} needs rules",
            "/secretary/c/lvjingyuan/needs",
            "[data-testid=save-settings]",
            {"input[name=threshold_percent]": "0"},
        )
        await _refused(  # the first disclosure without what was done (docs/adr/0029)
            page,
            findings,
            f"{size} disclosure",
            "/p/tongqu-leyuan/manage/disclosures",
            "[data-testid=prepare-disclosure]",
        )
    if email == "steward@example.cn":  # a hearing without its questions; a ballot without a room
        await _refused(
            page,
            findings,
            f"{size} hearing",
            "/steward/c/lvjingyuan/hearings",
            "#form-hearing button",
        )
        await _refused(
            page,
            findings,
            f"{size} paper ballot",
            f"/steward/c/lvjingyuan/hearings/{OPEN_HEARING}",
            "[data-testid=record-paper-ballot]",
        )
    if email == "reading@example.cn":  # a funded project: expenditures are proposed
        await _refused(
            page,
            findings,
            f"{size} proposal",
            "/p/yuelanshi/spending",
            "form[action='/p/yuelanshi/spending/expenditures'] button[type=submit]",
        )


async def _hearings() -> None:
    """An open hearing and one not yet open on 绿景苑's open need (2), by its steward."""
    steward = await Account.select(Account.id).where(Account.email == "steward@example.cn").first()
    assert steward is not None
    for opens, number in ((timedelta(0), OPEN_HEARING), (timedelta(days=1), COMING_HEARING)):
        window = HearingWindow(utc_now() + opens, utc_now() + opens + timedelta(days=7))
        made = await open_hearing(
            Actor(id=steward["id"], label="steward"),
            "lvjingyuan",
            Subject(need_id=2),
            "长椅听证会",
            [QuestionDraft("长椅放哪里", QuestionKind.SINGLE, 1, ("东门", "北门"))],
            window,
        )
        assert made == number, "the demo's hearings changed: renumber OPEN_HEARING, COMING_HEARING"


@pytest.fixture
async def demo_with_people(db: str) -> None:
    from linju.projects.demo import load_demo

    assert await load_demo()
    await create_project(
        ProjectDraft(
            community_slug="lvjingyuan",
            slug=DRAFT,
            title="新草稿",
            goal_fen=100_000,
            budget=[BudgetLinePlan("材料", 100_000)],
            committee=[],
        )
    )
    await make_account("admin@example.cn", "admin")
    await make_account("sec@example.cn", "secretary", community="lvjingyuan")
    await make_account("garden@example.cn", "secretary", community="cuiweiyuan")
    await make_account("reading@example.cn", "secretary", community="hepingli")
    await make_account("steward@example.cn", "secretary", community="cuiweiyuan")
    await name_steward(COMMAND_LINE, "lvjingyuan", "steward@example.cn", "王阿姨", "zh_CN")
    await _hearings()
    await make_account("kuaiji@example.cn", "finance")
    await change_status("yuelanshi", ProjectStatus.FUNDED)  # the reading room's fundraising closed
    seats = await seat_names("tongqu-leyuan")
    await make_account("member@example.cn", "committee", name=seats[0], project="tongqu-leyuan")
    readers = await seat_names("yuelanshi")
    await make_account("reader@example.cn", "committee", name=readers[0], project="yuelanshi")
    line = await BudgetLine.select(BudgetLine.id).where(BudgetLine.project.slug == "yuelanshi")
    invoice = Upload(filename="invoice.png", data=png_bytes())
    await propose(
        "yuelanshi",
        Proposal(
            budget_line_id=line[0]["id"],
            payee="书店",
            purpose="童书一批",
            amount_fen=10_000,
            attachments=(AttachmentUpload(original=invoice, label="发票", publish_original=True),),
        ),
        Person(name="林秀英"),
    )


@pytest.mark.usefixtures("demo_with_people")
@pytest.mark.parametrize("language", ["zh_CN", "en"])
async def test_every_page_passes_axe_at_both_widths(
    live_server: str, browser: Browser, language: str
) -> None:
    phone = await _crawl(browser, live_server, language, PHONE, forms=True)
    desktop = await _crawl(browser, live_server, language, DESKTOP, forms=False)
    assert len(phone.seen) >= 45, phone.seen  # the crawl reached every page and form it lists
    assert len(desktop.seen) == len(PUBLIC) + sum(len(paths) for paths in STAFF.values())
    faults = phone.faults + desktop.faults
    assert not faults, f"{len(faults)} page(s) with WCAG violations:\n" + "\n".join(faults)
