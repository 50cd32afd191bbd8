"""The ledger page: newest first, kinds in words, running balance, paging, the check box."""

from __future__ import annotations

import re

import pytest

from linju.projects.ledger.controllers import PAGE_ENTRIES
from linju.projects.ledger.format import EntryKind, fund_account
from linju.projects.ledger.services import LedgerEvent, Posting, append, reverse
from tests.client_support import AppClient
from tests.projects.ledger.ledger_support import donate, expenditure, fee, new_project

Client = AppClient
SLUG = "ledger-page"


def _entries(html: str) -> list[str]:
    return re.findall(r'<li id="seq-\d+".*?</li>', html, flags=re.S)


def _seqs(html: str) -> list[int]:
    return [int(seq) for seq in re.findall(r'data-seq="(\d+)"', html)]


def _balances(html: str) -> list[str]:
    return re.findall(r'data-testid="balance-after">([^<]+)<', html)


@pytest.fixture
async def every_kind(db: str) -> str:
    await new_project(SLUG)
    fund = fund_account(SLUG)

    def event(kind: EntryKind, other: str, amount: int, key: str, memo: str) -> LedgerEvent:
        return LedgerEvent(
            kind=kind,
            memo=memo,
            ref=f"ref_{key}",
            postings=(Posting(fund, amount), Posting(other, -amount)),
            idempotency_key=f"{kind.value}:{key}",
        )

    await donate(SLUG, 100_000, "a", "王阿姨")  # 1: balance 1000.00
    await append(SLUG, event(EntryKind.OFFLINE_DONATION, "donors:offline", 20_000, "b", "现金"))
    await append(SLUG, event(EntryKind.MATCHING, "sponsor:qu-fulian", 50_000, "c", "区妇联配捐"))
    await append(SLUG, fee(SLUG, 600, "a"))  # 4: 1694.00
    await append(SLUG, event(EntryKind.REFUND, "donors:online", -20_000, "d", "退款给捐款人"))
    await append(SLUG, expenditure(SLUG, 30_000, "e", "某公司：跷跷板"))  # 6: 1194.00
    await append(SLUG, event(EntryKind.TRANSFER, "community:lvjingyuan", -4_000, "f", "结余"))
    await reverse(SLUG, 4, "手续费记错")  # 8: +6.00 → 1160.00
    await donate(SLUG, 1_000, "g", "<script>alert(1)</script>")  # 9: 1170.00
    return SLUG


async def test_every_entry_newest_first_with_kind_in_words_and_balance(
    every_kind: str, client: Client
) -> None:
    response = await client.get(f"/p/{every_kind}/ledger")
    assert response.status_code == 200
    html = response.text
    assert _seqs(html) == [9, 8, 7, 6, 5, 4, 3, 2, 1]
    kinds = [re.search(r'data-testid="kind">([^<]+)<', item).group(1) for item in _entries(html)]  # type: ignore[union-attr]
    assert kinds == ["捐款", "冲正", "转出", "支出", "退款", "手续费", "配捐", "线下捐款", "捐款"]
    assert _balances(html) == [
        "¥1,170.00",
        "¥1,160.00",
        "¥1,154.00",
        "¥1,194.00",
        "¥1,494.00",
        "¥1,694.00",
        "¥1,700.00",
        "¥1,200.00",
        "¥1,000.00",
    ]
    assert "+¥10.00" in _entries(html)[0]
    assert "−¥300.00" in _entries(html)[3]
    assert "区妇联配捐" in html
    assert "2026" in html or re.search(r"\d{4}年", html)


async def test_memos_are_escaped(every_kind: str, client: Client) -> None:
    html = (await client.get(f"/p/{every_kind}/ledger")).text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


async def test_short_hashes_link_to_the_entry_json(every_kind: str, client: Client) -> None:
    html = (await client.get(f"/p/{every_kind}/ledger")).text
    link = re.search(
        rf'<a href="(/api/v1/projects/{every_kind}/ledger/9)" title="([0-9a-f]{{64}})">'
        r'<code data-testid="short-hash">([0-9a-f]{12})</code>',
        html,
    )
    assert link is not None
    entry = (await client.get(link.group(1))).json()
    assert entry["hash"] == link.group(2)
    assert entry["hash"].startswith(link.group(3))


async def test_the_check_box_explains_and_links_the_downloads(
    every_kind: str, client: Client
) -> None:
    html = (await client.get(f"/p/{every_kind}/ledger")).text
    head = (await client.get(f"/api/v1/projects/{every_kind}")).json()["ledger_head"]
    assert f'<code data-testid="ledger-head">{head["hash"]}</code>' in html
    assert "SHA-256" in html
    assert "linju ledger verify --file" in html
    assert f'href="/api/v1/projects/{every_kind}/ledger.jsonl"' in html
    assert f'href="/api/v1/projects/{every_kind}/ledger.csv"' in html
    assert "自己核对" in html


async def test_the_page_pages_backwards_with_before(client: Client) -> None:
    total = PAGE_ENTRIES * 2 + 5
    slug = await new_project("ledger-paged")
    for index in range(total):
        await donate(slug, 100, f"p{index}")
    await _page_backwards(client, slug, total)


async def _page_backwards(client: Client, slug: str, total: int) -> None:
    first = (await client.get(f"/p/{slug}/ledger")).text
    assert _seqs(first) == list(range(total, total - PAGE_ENTRIES, -1))
    assert _balances(first)[0] == "¥105.00"
    older = re.search(r'rel="next" href="([^"]+)"', first)
    assert older is not None
    assert 'rel="prev"' not in first
    second = (await client.get(older.group(1))).text
    assert _seqs(second) == list(range(total - PAGE_ENTRIES, total - 2 * PAGE_ENTRIES, -1))
    assert _balances(second)[0] == f"¥{total - PAGE_ENTRIES}.00"
    third_link = re.search(r'rel="next" href="([^"]+)"', second)
    assert third_link is not None
    third = (await client.get(third_link.group(1).replace("&amp;", "&"))).text
    assert _seqs(third) == [5, 4, 3, 2, 1]
    assert _balances(third) == ["¥5.00", "¥4.00", "¥3.00", "¥2.00", "¥1.00"]
    assert 'rel="next"' not in third
    newer = re.search(r'rel="prev" href="([^"]+)"', third)
    assert newer is not None
    assert _seqs((await client.get(newer.group(1))).text)[0] == total - PAGE_ENTRIES


async def test_an_empty_ledger_says_so(client: Client) -> None:
    slug = await new_project("ledger-empty")
    response = await client.get(f"/p/{slug}/ledger")
    assert response.status_code == 200
    assert _seqs(response.text) == []
    assert "0" * 64 in response.text


async def test_unknown_project_and_bad_before(every_kind: str, client: Client) -> None:
    assert (await client.get("/p/no-such/ledger")).status_code == 404
    assert (await client.get(f"/p/{every_kind}/ledger?before=0")).status_code == 400
    assert (await client.get(f"/p/{every_kind}/ledger?before=x")).status_code == 400


async def test_the_project_page_box_links_the_ledger(every_kind: str, client: Client) -> None:
    html = (await client.get(f"/p/{every_kind}")).text
    assert f'href="/p/{every_kind}/ledger"' in html
    assert f'href="/api/v1/projects/{every_kind}/ledger.jsonl"' in html
    assert f'href="/api/v1/projects/{every_kind}/ledger.csv"' in html


MEMO = re.compile(
    r'<p class="memo" data-testid="memo"><span lang="zh-CN" data-testid="memo-text">([^<]*)</span>'
    r'(?: <small class="memo-note">\(([^)]*)\)</small>)?</p>'
)


async def test_english_memos_are_marked_chinese_and_say_what_each_line_is(
    every_kind: str, client: Client
) -> None:
    """Memos are hashed ledger content in Chinese: marked lang="zh-CN", and an English reader
    is told each line's kind in English beside it (ADR 0025)."""
    await client.get("/lang/en")
    html = (await client.get(f"/p/{every_kind}/ledger")).text
    memos = [MEMO.search(item) for item in _entries(html)]
    assert all(memos), [item for item, memo in zip(_entries(html), memos, strict=True) if not memo]
    notes = {memo.group(1): memo.group(2) for memo in memos if memo}
    assert notes["某公司：跷跷板"] == "Expenditure, as recorded in the ledger, in Chinese"
    assert notes["区妇联配捐"] == "Matching donation, as recorded in the ledger, in Chinese"
    assert notes["现金"] == "Offline donation, as recorded in the ledger, in Chinese"
    assert notes["王阿姨"] == "Donation, as recorded in the ledger, in Chinese"


async def test_chinese_memos_are_marked_and_need_no_note(every_kind: str, client: Client) -> None:
    html = (await client.get(f"/p/{every_kind}/ledger")).text
    memos = [MEMO.search(item) for item in _entries(html)]
    assert all(memos)
    assert all(memo.group(2) is None for memo in memos if memo)
    assert 'class="memo-note"' not in html
