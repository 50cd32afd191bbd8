"""Needs over HTTP, every form as its page renders it: a household posts and supports a need, the
threshold sends it to review, the secretary answers (accept → a draft project that names the
need; decline with a public reason) through confirmation pages, stewards record and confirm a
paper support, the community page lists needs, and the API shows counts, never households."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from linju.platform.accounts.audit import COMMAND_LINE
from linju.projects.core.services.communities import create_community
from linju.projects.voice.services import households, stewards
from linju.projects.voice.tables import Need, Support
from tests.accounts_support import in_app, log_in, log_out, make_account
from tests.forms import assert_form_refused, confirm_shown, submit
from tests.projects.stewardship.stewardship_support import png_bytes

Client = Any
C = "yuanzi"


async def _community(client: Client, count: int = 20) -> tuple[int, list[str]]:
    """The community, its secretary and `count` households' codes (1-1-101 …)."""

    async def make() -> list[str]:
        await create_community(C, "院子", "测试区")
        rows = "\n".join(f"1,1,{101 + i}" for i in range(count))
        await households.import_households(COMMAND_LINE, C, "building,unit,room\n" + rows)
        ids = [int(r["id"]) for r in await households.households_of(C)]
        return [code for _, code in await households.issue_codes(COMMAND_LINE, C, ids)]

    codes = await in_app(client, make)
    secretary = await make_account("sec@example.cn", "secretary", community=C, client=client)
    return secretary, codes


async def _as_household(client: Client, code: str) -> None:
    log_out(client)
    client.cookies.delete("linju_household")
    entered = await submit(client, f"/c/{C}/household", f"/c/{C}/household", {"code": code})
    assert entered.status_code == 303


async def _post_need(client: Client, title: str) -> int:
    posted = await submit(
        client,
        "/household",
        "/household/needs",
        {"title": title, "body": "孩子们没有玩的地方", "place": "2号楼架空层"},
        files={"photos": ("p.png", png_bytes(), "image/png")},
    )
    assert posted.status_code == 303, posted.text[:300]
    return int(posted.headers["location"].rsplit("/", 1)[-1])


async def test_a_need_from_post_to_accepted_project(client: Client) -> None:
    secretary, codes = await _community(client, 20)  # 5% of 20: one support is the threshold
    await _as_household(client, codes[0])
    refused = await submit(client, "/household", "/household/needs", {"title": "", "body": ""})
    assert_form_refused(refused, "用几个字说说需要什么", "请描述这条需求", status=422)
    need_id = await _post_need(client, "儿童游乐场")
    page = await client.get(f"/needs/{need_id}")
    assert "征集支持中" in page.text
    assert 'data-testid="supports">0<' in page.text
    photos = await in_app(client, lambda: Need.select(Need.id))
    assert photos
    supported = await submit(client, f"/needs/{need_id}", f"/needs/{need_id}/support")
    assert supported.status_code == 303
    page = await client.get(f"/needs/{need_id}")
    assert "审议中" in page.text
    assert 'data-testid="supports">1<' in page.text
    assert "书记将于" in page.text
    # the community page lists it beside the projects
    community = await client.get(f"/c/{C}")
    assert f'data-testid="need-{need_id}"' in community.text
    # the secretary accepts it through the confirmation page
    client.cookies.delete("linju_household")
    await log_in(client, secretary)
    workbench = f"/secretary/c/{C}/needs"
    refused = await submit(client, workbench, f"form-accept-{need_id}", {"goal": "abc"})
    assert_form_refused(refused, "请填写初步估算的费用（元）", status=422)
    shown = await submit(client, workbench, f"form-accept-{need_id}", {"goal": "12000"})
    assert "采纳需求" in shown.text
    accepted = await confirm_shown(client, shown, page=workbench)
    assert accepted.status_code == 303
    slug = accepted.headers["location"].split("/")[2]
    preview = await client.get(f"/p/{slug}/preview")
    assert f"源自居民需求 #{need_id}（1 户支持）" in preview.text
    assert f'href="/needs/{need_id}"' in preview.text
    page = await client.get(f"/needs/{need_id}")
    assert "已采纳" in page.text
    assert f'href="/p/{slug}"' in page.text
    # answered once only
    again = await client.post(
        f"/secretary/c/{C}/needs/{need_id}/accept",
        data={"goal": "1", "confirmed": "yes", "_csrf_token": client.cookies.get("linju_csrf")},
    )
    assert again.status_code in (403, 422)


async def test_declined_with_a_public_reason_and_supports_withdrawn(client: Client) -> None:
    secretary, codes = await _community(client, 40)  # two supports needed
    await _as_household(client, codes[0])
    need_id = await _post_need(client, "停车位")
    await submit(client, f"/needs/{need_id}", f"/needs/{need_id}/support")
    withdrawn = await submit(client, f"/needs/{need_id}", f"/needs/{need_id}/unsupport")
    assert withdrawn.status_code == 303
    await submit(client, f"/needs/{need_id}", f"/needs/{need_id}/support")
    await _as_household(client, codes[1])
    await submit(client, f"/needs/{need_id}", f"/needs/{need_id}/support")
    assert 'data-testid="supports">2<' in (await client.get(f"/needs/{need_id}")).text
    client.cookies.delete("linju_household")
    await log_in(client, secretary)
    workbench = f"/secretary/c/{C}/needs"
    empty = await submit(client, workbench, f"form-decline-{need_id}", {"reason": " "})
    assert_form_refused(empty, "请向居民说明理由", status=422)
    shown = await submit(client, workbench, f"form-decline-{need_id}", {"reason": "小区没有空地"})
    assert "小区没有空地" in shown.text
    declined = await confirm_shown(client, shown, page=workbench)
    assert declined.status_code == 303
    page = await client.get(f"/needs/{need_id}")
    assert 'data-testid="decline-reason">小区没有空地<' in page.text


async def test_the_author_withdraws_through_a_confirmation(client: Client) -> None:
    _, codes = await _community(client, 100)
    await _as_household(client, codes[0])
    need_id = await _post_need(client, "健身器材")
    shown = await submit(client, f"/needs/{need_id}", f"/needs/{need_id}/withdraw")
    assert "撤回需求" in shown.text
    done = await confirm_shown(client, shown, page=f"/needs/{need_id}")
    assert done.status_code == 303
    assert "已撤回" in (await client.get(f"/needs/{need_id}")).text
    await _as_household(client, codes[1])
    assert 'data-testid="withdraw"' not in (await client.get(f"/needs/{need_id}")).text


async def test_stewards_record_and_confirm_paper_supports(client: Client) -> None:
    secretary, codes = await _community(client, 100)
    await log_in(client, secretary)
    workbench = f"/secretary/c/{C}/needs"
    for name in ("王阿姨", "李师傅"):
        named = await submit(
            client, workbench, "form-steward", {"name": name, "email": f"{len(name)}{name}@x.cn"}
        )
        assert named.status_code == 303
    twice = await submit(
        client, workbench, "form-steward", {"name": "王阿姨", "email": "3王阿姨@x.cn"}
    )
    assert_form_refused(twice, "此人已是本小区的居民代表", status=409)
    first, second = [s["account_id"] for s in await in_app(client, lambda: stewards.stewards_of(C))]
    removed = await submit(client, workbench, f"form-removal-{second}")
    assert removed.status_code == 303
    assert len(await in_app(client, lambda: stewards.stewards_of(C))) == 1
    again = await submit(
        client, workbench, "form-steward", {"name": "李师傅", "email": "3李师傅@x.cn"}
    )
    assert again.status_code == 303  # named again
    await log_in(client, first)
    steward = f"/steward/c/{C}"
    heard = await submit(
        client, steward, "form-heard", {"title": "长椅", "body": "老人需要休息的地方"}
    )
    assert heard.status_code == 303
    need_id = int(heard.headers["location"].rsplit("/", 1)[-1])
    assert "来自居民议事会" in (await client.get(f"/needs/{need_id}")).text
    unknown = await submit(
        client, steward, "form-paper", {"need": str(need_id), "building": "9", "room": "9"}
    )
    assert_form_refused(unknown, "本小区没有这个门牌的住户", status=422)
    recorded = await submit(
        client,
        steward,
        "form-paper",
        {"need": str(need_id), "building": "1", "unit": "1", "room": "101"},
    )
    assert recorded.status_code == 303
    [paper] = await in_app(client, lambda: Support.select(Support.id, Support.confirmed_at))
    assert paper["confirmed_at"] is None
    assert f'id="form-confirm-{paper["id"]}"' not in (await client.get(steward)).text
    await log_in(client, second)
    confirmed = await submit(client, steward, f"form-confirm-{paper['id']}")
    assert confirmed.status_code == 303
    assert 'data-testid="supports">1<' in (await client.get(f"/needs/{need_id}")).text
    # the household that supported on paper cannot support online
    log_out(client)
    await _as_household(client, codes[0])
    page = (await client.get(f"/needs/{need_id}")).text
    assert "您家的支持已由居民代表纸质登记" in page
    assert 'data-testid="support"' not in page
    # a resident is not a steward
    client.cookies.delete("linju_household")
    assert (await client.get(steward, follow_redirects=False)).status_code == 303


async def test_the_api_shows_counts_and_no_household(client: Client) -> None:
    _, codes = await _community(client, 20)
    await _as_household(client, codes[0])
    need_id = await _post_need(client, "儿童游乐场")
    listed = await client.get(f"/api/v1/communities/{C}/needs")
    assert listed.status_code == 200
    [need] = listed.json()
    assert need["id"] == need_id
    assert need["supports"] == 0
    assert need["status"] == "open"
    assert not {"household", "author_household", "households"} & set(need)
    one = await client.get(f"/api/v1/needs/{need_id}")
    assert one.json() == need
    assert (await client.get("/api/v1/needs/999999")).status_code == 404
    assert (await client.get("/api/v1/needs/99999999999")).status_code == 400
    assert (await client.get("/api/v1/communities/nowhere/needs")).status_code == 404
    assert (await client.get("/needs/99999999999999")).status_code == 404


async def test_an_answer_past_its_days_is_flagged_late(client: Client) -> None:
    secretary, codes = await _community(client, 20)
    await _as_household(client, codes[0])
    need_id = await _post_need(client, "儿童游乐场")
    await submit(client, f"/needs/{need_id}", f"/needs/{need_id}/support")
    page = await client.get(f"/needs/{need_id}")
    assert "书记将于" in page.text
    assert "答复已逾期" not in page.text

    async def fifteen_days_ago() -> None:
        row = await Need.select(Need.review_started_at).where(Need.id == need_id).first()
        assert row is not None
        await Need.update(
            {Need.review_started_at: row["review_started_at"] - timedelta(days=15)}
        ).where(Need.id == need_id)

    await in_app(client, fifteen_days_ago)
    page = await client.get(f"/needs/{need_id}")
    assert "答复已逾期" in page.text
    client.cookies.delete("linju_household")
    await log_in(client, secretary)
    workbench = await client.get(f"/secretary/c/{C}/needs")
    assert 'class="need-due late"' in workbench.text
    assert (await client.get(f"/api/v1/needs/{need_id}")).json()["answer_late"] is True
