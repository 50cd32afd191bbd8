"""Every staff form, sent with a bad value from a 375 px phone in real headless Chromium without
JavaScript, comes back as the page itself (text/html, never its source shown as text): the error
summary at the top linking to the field, the message beside the field, the value kept. In Chinese,
the default, and in English once chosen. The fixed forms then save, the draft's edit form too."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from playwright.async_api import Browser, FilePayload, Page

from linju.platform.i18n import translate_in
from linju.platform.kernel.clock import local_today
from linju.projects.core.tables import Project
from linju.projects.demo import load_demo
from linju.projects.donations.tables import Donation
from tests.accounts_support import log_in_with_browser, make_account
from tests.browser_fixtures import PHONE, artifact, submit_on
from tests.projects.spending.spending_support import PDF_BYTES
from tests.projects.stewardship.stewardship_support import png_bytes, seat_names

pytestmark = pytest.mark.browser
P = "tongqu-leyuan"
D = "reading-corner"
TODAY = local_today().isoformat()
PNG: FilePayload = {"name": "receipt.png", "mimeType": "image/png", "buffer": png_bytes()}
PDF: FilePayload = {"name": "发票.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES}


class Phone:
    """One person's phone: a page without JavaScript, and their language."""

    def __init__(self, page: Page, base: str, locale: str = "zh_CN") -> None:
        self.page, self.base, self.locale = page, base, locale

    async def go(self, path: str) -> None:
        await self.page.goto(self.base + path)

    async def log_in(self, email: str) -> None:
        await log_in_with_browser(self.page, self.base, email)
        assert "/login" not in self.page.url

    async def send(
        self,
        form: str,
        fields: dict[str, str],
        choices: dict[str, str] | None = None,
        files: dict[str, FilePayload] | None = None,
        press: str = "button[type=submit]",
    ) -> Any:
        """Fill in the form named `form` (ids f-<form>-<field>), press its button; the answer."""
        for name, value in fields.items():
            await self.page.fill(f"#f-{form}-{name}", value)
        for name, value in (choices or {}).items():
            await self.page.select_option(f"#f-{form}-{name}", value)
        for name, payload in (files or {}).items():
            await self.page.set_input_files(f"#f-{form}-{name}", files=payload)
        return await submit_on(self.page, f"#form-{form} {press}")

    async def refused(
        self, answer: Any, message: str, field: str | None = None, status: int = 422, **params: Any
    ) -> None:
        """The page again, as a page: summary on top, the message beside `field` (form-field)."""
        text = translate_in(self.locale, message, **params)
        assert answer.status == status, (answer.status, text)
        assert answer.headers["content-type"].startswith("text/html"), answer.headers
        summary = self.page.get_by_test_id("error-summary")
        assert await summary.is_visible(), f"no error summary for {text!r}"
        heading = translate_in(self.locale, "Please correct the following")
        assert heading in await summary.inner_text()
        assert text in await summary.inner_text()
        if field is not None:
            assert await summary.locator(f"a[href='#f-{field}']").count() == 1
            assert text in await self.page.locator(f"#e-{field}").inner_text()
            assert await self.page.get_attribute(f"#f-{field}", "aria-invalid") == "true"


async def test_every_staff_form_refuses_on_the_page_and_then_saves(
    db: str, live_server: str, browser: Browser
) -> None:
    await load_demo()
    await make_account("sec@example.cn", "secretary", community="lvjingyuan")
    await make_account("admin@example.cn", "admin")
    await make_account("m1@example.cn", "committee", name=(await seat_names(P))[0], project=P)

    async def phone() -> Page:
        context = await browser.new_context(viewport=PHONE, java_script_enabled=False)
        return await context.new_page()

    sec = Phone(await phone(), live_server)
    await sec.log_in("sec@example.cn")

    # A new draft: a goal that is no amount, then a good one.
    await sec.go("/secretary/c/lvjingyuan/new")
    fields = {"slug": D, "title": "楼道读书角", "goal": "十万"}
    fields |= {"budget-0-item": "书架", "budget-0-amount": "3000"}
    answer = await sec.send("draft", fields)
    await sec.refused(answer, "Enter the goal in yuan, e.g. 12000 or 12000.50", "draft-goal")
    assert await sec.page.input_value("#f-draft-goal") == "十万"
    assert await sec.page.input_value("#f-draft-title") == "楼道读书角"
    await sec.page.screenshot(path=str(artifact("form-refused.png")), full_page=True)
    assert (await sec.send("draft", {"goal": "3000"})).status == 303
    assert sec.page.url.endswith(f"/p/{D}/manage")

    # Editing it: budget lines that do not add up, then the form as rendered saves.
    answer = await sec.send("draft", {"budget-0-amount": "1000"})
    await sec.refused(answer, "The budget lines must add up to the goal", "draft-budget_rows")
    answer = await sec.send("draft", {"title": "楼道读书角（二期）", "budget-0-amount": "3000"})
    assert answer.status == 303
    assert sec.page.url.endswith(f"/p/{D}/manage")
    row = await Project.select(Project.title).where(Project.slug == D).first()
    assert row == {"title": "楼道读书角（二期）"}

    # Publishing without a committee: every reason on the page.
    answer = await sec.send("publish", {})
    await sec.refused(answer, "The project cannot be published yet")
    await sec.refused(answer, "The supervision committee needs at least three members")

    # The fundraising project's workbench: an offline gift, an update, a pledge, in-kind help.
    await sec.go(f"/p/{P}/manage")
    fields = {"amount": "二百", "donor_name": "陈大爷", "received_on": TODAY}
    answer = await sec.send("offline", fields, {"method": "transfer"}, {"evidence": PNG})
    await sec.refused(answer, "Enter the amount in yuan, e.g. 200 or 200.50", "offline-amount")
    assert await sec.page.input_value("#f-offline-amount") == "二百"
    assert await sec.page.input_value("#f-offline-method") == "transfer"
    answer = await sec.send("update", {"body": " "})
    await sec.refused(answer, "Write what happened", "update-body")
    fields = {
        "sponsor_name": "区妇联", "sponsor_slug": "fulian", "ratio": "1:1", "cap": "5000",
        "starts_on": (local_today() + timedelta(days=9)).isoformat(), "ends_on": TODAY,
    }  # fmt: skip
    answer = await sec.send("pledge", fields, files={"letter": PNG})
    await sec.refused(answer, "The window must end after it starts", "pledge-ends_on")
    fields = {"contributor": "3号楼居民", "description": "平整场地", "labour_hours": "很多"}
    answer = await sec.send("in_kind", fields, {"kind": "labour"})
    await sec.refused(answer, "Enter the hours of work", "in_kind-labour_hours")

    # Spending: close fundraising, a proposal whose amount is no amount, then a good one.
    await sec.go(f"/p/{P}/spending")
    assert (await sec.send("close", {})).status == 200  # its confirmation page (ADR 0024)
    assert (await sec.send("close", {})).status == 303
    fields = {"payee": "青山游乐设备厂", "purpose": "转椅", "amount": "很多"}
    answer = await sec.send("propose", fields, files={"invoice": PDF})
    await sec.refused(answer, "Enter an amount in yuan, like 4800.00", "propose-amount")
    assert await sec.page.input_value("#f-propose-payee") == "青山游乐设备厂"
    answer = await sec.send("propose", {"amount": "100"}, files={"invoice": PDF})
    assert answer.status == 303

    # A refund of nothing.
    donation = await (
        Donation.select(Donation.public_id)
        .where((Donation.project.slug == P) & (Donation.status == "succeeded"))
        .first()
    )
    assert donation is not None
    await sec.go(f"/p/{P}/donations/{donation['public_id']}/refund")
    answer = await sec.send("refund", {"amount": "0", "reason": "捐错了项目"})
    await sec.refused(answer, "Enter an amount in yuan, like 88 or 88.50", "refund-amount")
    assert await sec.page.input_value("#f-refund-reason") == "捐错了项目"

    # The committee member: a decision without a reason.
    member = Phone(await phone(), live_server)
    await member.log_in("m1@example.cn")
    await member.go("/committee")
    form = await member.page.locator("form[action$='/committee/decisions']").get_attribute("id")
    assert form is not None
    name = form.removeprefix("form-")
    answer = await member.send(name, {"reason": " "}, press="button[value=reject]")
    await member.refused(answer, "Give a reason", f"{name}-reason")

    # The admin: a community that exists, an invitation without its community.
    admin = Phone(await phone(), live_server)
    await admin.log_in("admin@example.cn")
    await admin.go("/admin")
    answer = await admin.send(
        "community", {"slug": "lvjingyuan", "name": "绿景苑", "district": "南山区"}
    )
    await admin.refused(answer, "The slug %(slug)s is already taken", status=409, slug="lvjingyuan")
    fields = {"email": "new@example.cn", "name": "新书记"}
    answer = await admin.send("invite", fields, {"role": "secretary"})
    await admin.refused(answer, "A secretary needs a community", "invite-community")
    assert await admin.page.input_value("#f-invite-email") == "new@example.cn"

    # In English, once chosen.
    await sec.go(f"/lang/en?next=/p/{P}/manage")
    sec.locale = "en"
    answer = await sec.send("offline", {"amount": "two hundred", "received_on": TODAY},
                            files={"evidence": PNG})  # fmt: skip
    await sec.refused(answer, "Enter the amount in yuan, e.g. 200 or 200.50", "offline-amount")
    assert "请修正以下问题" not in await sec.page.content()
    await sec.page.screenshot(path=str(artifact("form-refused-en.png")), full_page=True)
