"""Time is shown one way per language, in the community's time zone (docs/adr/0028): the
receipt and the ledger, in Chinese and English, show no raw ISO 8601 text in what a reader
sees (a `<time datetime>` attribute may keep it), and both of the receipt's times read alike."""

from __future__ import annotations

import re
from datetime import datetime
from html import unescape
from html.parser import HTMLParser
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_datetime

from linju.projects.donations.tables import Donation
from linju.projects.ledger.tables import LedgerEntry
from tests.accounts_support import in_app
from tests.payments.helpers import sandbox_event, signed
from tests.projects.spending.spending_support import SLUG, funded_project

pytestmark = pytest.mark.http
Client = Any
ISO = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")  # 2026-11-27T09:44 or 2026-11-27 09:44
SHANGHAI = ZoneInfo("Asia/Shanghai")
ZH_MOMENT = re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}:\d{2}$")
EN_MOMENT = re.compile(r"^[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d{2}:\d{2}\s[AP]M$")


class _Visible(HTMLParser):
    """The text a reader sees: no attributes, no <head>, <script> or <style>."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.hidden = 0
        self.times: list[tuple[str, str]] = []  # (datetime attribute, shown text)
        self._time: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("head", "script", "style"):
            self.hidden += 1
        if tag == "time":
            self._time = dict(attrs).get("datetime") or ""
            self.times.append((self._time, ""))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("head", "script", "style"):
            self.hidden -= 1
        if tag == "time":
            self._time = None

    def handle_data(self, data: str) -> None:
        if self.hidden:
            return
        self.parts.append(data)
        if self._time is not None:
            attr, text = self.times[-1]
            self.times[-1] = (attr, text + data)


def visible(html: str) -> _Visible:
    parser = _Visible()
    parser.feed(html)
    parser.close()
    return parser


async def confirmed_receipt(client: Client) -> str:
    """A donation made through the API and paid in the sandbox; its receipt's path."""
    await in_app(client, lambda: funded_project(balance=10_000, committee_size=3, close=False))
    body = {
        "amount": {"amount": 5000, "currency": "CNY"},
        "display_name": "王阿姨",
        "anonymous": False,
        "message": "加油",
        "email": None,
    }
    created = (await client.post(f"/api/v1/projects/{SLUG}/donations", json=body)).json()
    payload = await in_app(client, lambda: sandbox_event(created["checkout_url"], "paid"))
    content, headers = signed(payload)
    delivered = await client.post("/webhooks/sandbox", content=content, headers=headers)
    assert delivered.status_code == 200, delivered.text
    return "/" + str(created["receipt_url"]).split("://", 1)[1].split("/", 1)[1]


@pytest.mark.parametrize(("language", "moment"), [("zh_CN", ZH_MOMENT), ("en", EN_MOMENT)])
async def test_the_receipt_and_the_ledger_show_time_one_way_in_the_communitys_zone(
    client: Client, language: str, moment: re.Pattern[str]
) -> None:
    receipt = await confirmed_receipt(client)
    await client.get(f"/lang/{language}")
    for path in (receipt, f"/p/{SLUG}/ledger"):
        answer = await client.get(path)
        assert answer.status_code == 200, path
        seen = visible(answer.text)
        text = unescape(" ".join(seen.parts))
        found = ISO.search(text)
        assert found is None, (
            f"{path} shows raw ISO text: {text[found.start() - 60 : found.end() + 20]!r}"
        )
        assert seen.times, f"{path} shows no time"
        for attr, shown in seen.times:
            assert datetime.fromisoformat(attr), attr  # the attribute keeps ISO
            assert moment.match(shown.strip()), (path, shown)

    donation = await in_app(
        client,
        lambda: (
            Donation.select(Donation.confirmed_at, Donation.public_id)
            .where(Donation.message == "加油")
            .first()
        ),
    )
    assert donation is not None
    entry = await in_app(
        client,
        lambda: (
            LedgerEntry.select(LedgerEntry.at)
            .where(
                (LedgerEntry.kind == "donation") & (LedgerEntry.public_ref == donation["public_id"])
            )
            .first()
        ),
    )
    assert entry is not None
    seen = visible((await client.get(receipt)).text)
    times_shown = [text.strip() for _attr, text in seen.times]
    locale = "zh_CN" if language == "zh_CN" else "en"
    for stored in (donation["confirmed_at"], entry["at"]):  # in Shanghai, not in UTC
        when = stored if isinstance(stored, datetime) else datetime.fromisoformat(stored)
        assert format_datetime(when, "medium", tzinfo=SHANGHAI, locale=locale) in times_shown
