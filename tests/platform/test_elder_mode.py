"""The elder mode's switch and its plain words, over HTTP (issue 15, docs/adr/0031).

`/mode/{elder|standard}?next=…` remembers the choice in a long-lived cookie, as `/lang` does,
and returns only to a path of this site (the nearest that answers a GET); every page then
carries `<html class="elder">` and the header says which mode is on; the donate form and its
review word the steps plainly only in the elder mode. Forms are posted as the page renders them.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.forms import submit

pytestmark = pytest.mark.http
Client = Any
PAGE = "/p/tongqu-leyuan"
HTML_TAG = re.compile(r"<html[^>]*>")
CURRENT = re.compile(
    r'data-testid="mode-switch">.*?<strong aria-current="true">([^<]+)</strong>', re.S
)

PLAIN = {
    "zh_CN": (
        "捐款分三步：选金额，核对，付款。",
        "第一步：选金额",
        "第二步：核对捐款",
        "第三步：付款",
    ),
    "en": (
        "Three steps: choose an amount, check it, then pay.",
        "Step 1: choose an amount",
        "Step 2: check your donation",
        "Step 3: pay",
    ),
}
STANDARD = {
    "zh_CN": ("核对捐款信息", "确认并支付"),
    "en": ("Check your donation", "Confirm and pay"),
}
NAMES = {"zh_CN": ("标准模式", "长辈模式"), "en": ("Standard", "Larger text")}


def _mode_cookie(response: Any) -> str:
    cookies = [v for k, v in response.headers.multi_items() if k.lower() == "set-cookie"]
    found = [c for c in cookies if c.startswith("linju_mode=")]
    assert len(found) == 1, cookies
    return str(found[0])


@pytest.mark.usefixtures("demo")
async def test_the_switch_remembers_the_mode_for_a_year_and_returns_only_to_this_site(
    client: Client,
) -> None:
    answer = await client.get("/mode/elder", params={"next": PAGE}, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == PAGE
    cookie = _mode_cookie(answer)
    assert cookie.startswith("linju_mode=elder;")
    assert "Max-Age=31536000" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "SameSite=Lax" in cookie

    for hostile in ("//evil.example/x", "https://evil.example/", "/\\evil.example", None):
        params = {"next": hostile} if hostile else {}
        answer = await client.get("/mode/elder", params=params, follow_redirects=False)
        assert answer.headers["location"] == "/", hostile
    # After a refused form the page's path is a POST-only route: back to its page, never a 405.
    answer = await client.get(
        "/mode/standard", params={"next": f"{PAGE}/donate"}, follow_redirects=False
    )
    assert answer.headers["location"] == PAGE
    assert _mode_cookie(answer).startswith("linju_mode=standard;")
    # An unknown mode is the standard one.
    answer = await client.get("/mode/huge", params={"next": "/"}, follow_redirects=False)
    assert _mode_cookie(answer).startswith("linju_mode=standard;")


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize("language", ["zh_CN", "en"])
async def test_every_page_carries_the_mode_and_only_the_elder_mode_words_the_steps_plainly(
    client: Client, language: str
) -> None:
    client.cookies.set("linju_lang", language)
    standard, elder = NAMES[language]
    plain = PLAIN[language]

    page = await client.get(PAGE)
    assert 'class="elder"' not in HTML_TAG.search(page.text).group(0)  # type: ignore[union-attr]
    assert CURRENT.search(page.text).group(1) == standard  # type: ignore[union-attr]
    assert f'href="/mode/elder?next={PAGE}"' in page.text
    assert not any(words in page.text for words in plain)
    review = await submit(client, PAGE, form=f"{PAGE}/donate")
    assert review.status_code == 200
    assert STANDARD[language][0] in review.text
    assert STANDARD[language][1] in review.text
    assert not any(words in review.text for words in plain)

    await client.get("/mode/elder", params={"next": PAGE})
    for path in (PAGE, "/", "/no/such/page", "/login"):
        shown = await client.get(path)
        assert 'class="elder"' in HTML_TAG.search(shown.text).group(0), path  # type: ignore[union-attr]
        assert CURRENT.search(shown.text).group(1) == elder, path  # type: ignore[union-attr]
    page = await client.get(PAGE)
    assert plain[0] in page.text
    assert plain[1] in page.text
    review = await submit(client, PAGE, form=f"{PAGE}/donate")
    assert review.status_code == 200
    assert plain[2] in review.text
    assert plain[3] in review.text
    assert STANDARD[language][1] not in review.text

    await client.get("/mode/standard", params={"next": PAGE})
    page = await client.get(PAGE)
    assert 'class="elder"' not in HTML_TAG.search(page.text).group(0)  # type: ignore[union-attr]
    assert plain[0] not in page.text


READS = {
    "zh_CN": ("筹款进度", "已筹 ¥3,138.00，目标 ¥12,000.00，完成百分之26", "流入 +", "流出 −"),
    "en": ("Fundraising progress", "¥3,138.00 raised of ¥12,000.00, 26 percent", "In +", "Out −"),
}
BAR = re.compile(
    r'<svg class="bar" role="progressbar" aria-label="([^"]+)" aria-valuetext="([^"]+)"'
)
MOVES = re.compile(r'<span class="(in|out)" data-testid="fund-(?:in|out)">([^<]+)</span>')


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize("language", ["zh_CN", "en"])
async def test_the_progress_bar_reads_its_figures_and_money_moves_are_worded_not_only_coloured(
    client: Client, language: str
) -> None:
    """WCAG 1.1.1 and 1.4.1 (issue 15): a screen reader hears the bar's figures, and on the
    ledger money in and money out differ in word and sign, not only in colour."""
    client.cookies.set("linju_lang", language)
    name, figures, money_in, money_out = READS[language]
    bar = BAR.search((await client.get(PAGE)).text)
    assert bar is not None
    assert bar.groups() == (name, figures)

    moves = MOVES.findall((await client.get("/p/wuding-huayuan/ledger")).text)
    assert {kind for kind, _ in moves} == {"in", "out"}, moves
    for kind, text in moves:
        assert text.startswith(money_in if kind == "in" else money_out), (kind, text)
