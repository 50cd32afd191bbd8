"""The admin's invitation applies `linju users create`'s seat rule (docs/adr/0022, 0025): a
committee member is linked to the seat with their name; a name that is no seat is refused beside
the field, listing the seats; a seat is added only when asked and only to a draft. A refusal
writes nothing. Forms are posted as the admin page renders them."""

from __future__ import annotations

from typing import Any

import pytest

from linju.platform.accounts.places import SeatRefusal, seat_refusal
from linju.platform.accounts.tables import Account
from linju.projects.core.rules import BudgetLinePlan
from linju.projects.core.services.projects import ProjectDraft, create_project
from linju.projects.core.tables import CommitteeMember, Project
from tests.accounts_support import in_app, log_in, make_account
from tests.forms import assert_form_refused, submit
from tests.projects.stewardship.stewardship_support import seat_names

Client = Any
P = "tongqu-leyuan"
DRAFT = "xin-caogao"


async def _seats(slug: str) -> list[tuple[str, int | None]]:
    project = await Project.select(Project.id).where(Project.slug == slug).first()
    assert project is not None
    rows = await CommitteeMember.select(CommitteeMember.name, CommitteeMember.account_id).where(
        CommitteeMember.project == project["id"]
    )
    return [(row["name"], row["account_id"]) for row in rows]


async def _admin(client: Client) -> None:
    await log_in(client, await make_account("admin@example.cn", "admin", client=client))


async def _invite(client: Client, name: str, project: str, add_seat: bool = False) -> Any:
    fields: dict[str, str | bool] = {
        "email": "new@example.cn",
        "name": name,
        "role": "committee",
        "project": project,
        "add_seat": add_seat,
    }
    return await submit(client, "/admin", "/admin/invitations", fields)


async def _accounts(client: Client) -> int:
    return await in_app(client, lambda: Account.count().where(Account.email == "new@example.cn"))


@pytest.mark.usefixtures("demo")
async def test_an_invitation_links_the_seat_with_the_name(client: Client) -> None:
    await _admin(client)
    name = (await in_app(client, lambda: seat_names(P)))[1]
    before = await in_app(client, lambda: _seats(P))
    answer = await _invite(client, name, P)
    assert answer.status_code == 303, answer.text[:500]
    after = await in_app(client, lambda: _seats(P))
    assert [seat for seat, _ in after] == [seat for seat, _ in before]  # no seat added
    account = await in_app(
        client, lambda: Account.select(Account.id).where(Account.email == "new@example.cn").first()
    )
    assert account is not None
    assert dict(after)[name] == account["id"]


@pytest.mark.usefixtures("demo")
async def test_a_typo_is_refused_beside_the_name_listing_the_seats(client: Client) -> None:
    await _admin(client)
    seats = await in_app(client, lambda: seat_names(P))
    before = await in_app(client, lambda: _seats(P))
    answer = await _invite(client, seats[0] + "x", P)
    assert_form_refused(answer, status=422)
    message = f"该项目的监督委员会没有名为“{seats[0]}x”的席位。现有席位：{'、'.join(seats)}。"
    assert f'<p class="field-error" id="e-invite-name">{message}' in answer.text  # beside it
    assert await in_app(client, lambda: _seats(P)) == before
    assert await _accounts(client) == 0


@pytest.mark.usefixtures("demo")
async def test_in_english_the_refusal_lists_the_seats_too(client: Client) -> None:
    await _admin(client)
    await client.get("/lang/en")
    seats = await in_app(client, lambda: seat_names(P))
    answer = await _invite(client, "Nobody", P)
    assert_form_refused(answer, status=422)
    assert (
        f"This project&#39;s committee has no seat named Nobody. Its seats: {', '.join(seats)}."
        in answer.text
    )


@pytest.mark.usefixtures("demo")
async def test_no_seat_is_added_to_a_published_project(client: Client) -> None:
    await _admin(client)
    before = await in_app(client, lambda: _seats(P))
    answer = await _invite(client, "新委员", P, add_seat=True)
    assert_form_refused(answer, "该项目已发布，席位须由监督委员会决定变更", status=422)
    assert '<p class="field-error" id="e-invite-add_seat">该项目已发布' in answer.text
    assert await in_app(client, lambda: _seats(P)) == before
    assert await _accounts(client) == 0


async def _draft() -> None:
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


@pytest.mark.usefixtures("demo")
async def test_a_seat_is_added_to_a_draft_only_when_asked(client: Client) -> None:
    await in_app(client, _draft)
    await _admin(client)
    refused = await _invite(client, "新委员", DRAFT)
    assert_form_refused(refused, "现有席位：暂无", status=422)
    assert await in_app(client, lambda: _seats(DRAFT)) == []
    added = await _invite(client, "新委员", DRAFT, add_seat=True)
    assert added.status_code == 303, added.text[:500]
    seats = await in_app(client, lambda: _seats(DRAFT))
    assert [seat for seat, _ in seats] == ["新委员"]
    assert seats[0][1] is not None


def test_the_rule_is_one_for_the_command_line_and_the_web() -> None:
    seats = [("张建国", None), ("王阿姨", 7)]
    assert seat_refusal("张建国", "fundraising", seats, None, False) is None
    assert seat_refusal("张建国x", "fundraising", seats, None, False) is SeatRefusal.NO_SEAT
    assert seat_refusal("王阿姨", "fundraising", seats, 8, False) is SeatRefusal.HELD
    assert seat_refusal("王阿姨", "fundraising", seats, 7, False) is None
    assert seat_refusal("新人", "fundraising", seats, None, True) is SeatRefusal.PUBLISHED
    assert seat_refusal("新人", "draft", seats, None, True) is None
