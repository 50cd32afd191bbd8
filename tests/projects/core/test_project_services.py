"""Project services on a real database (run on SQLite and on PostgreSQL)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from linju.platform.kernel.clock import local_today
from linju.platform.kernel.errors import Conflict, NotFound, RuleViolation, ValidationErrors
from linju.projects.core import read as queries
from linju.projects.core.rules import BudgetLinePlan, CommitteeRole, CommitteeSeat, ProjectStatus
from linju.projects.core.services.communities import create_community
from linju.projects.core.services.projects import (
    ProjectDraft,
    PublicationRefused,
    change_status,
    create_project,
    publish,
)
from linju.projects.core.tables import BudgetLine, CommitteeMember, Community, Project
from linju.projects.demo import load_demo
from linju.projects.ledger.tables import LedgerHead

pytestmark = pytest.mark.usefixtures("db")

SEATS = [
    CommitteeSeat("张建国", CommitteeRole.CHAIR, "管理"),
    CommitteeSeat("李敏", CommitteeRole.MEMBER, "法律"),
    CommitteeSeat("王师傅", CommitteeRole.MEMBER, "维修"),
]


def a_draft(**changes: object) -> ProjectDraft:
    fields: dict[str, object] = {
        "community_slug": "lvjingyuan",
        "slug": "tongqu-leyuan",
        "title": "童趣乐园",
        "goal_fen": 1_200_000,
        "deadline": local_today() + timedelta(days=30),
        "budget": [BudgetLinePlan("跷跷板", 500_000), BudgetLinePlan("转椅", 700_000)],
        "committee": list(SEATS),
    }
    fields.update(changes)
    return ProjectDraft(**fields)  # type: ignore[arg-type]


@pytest.fixture
async def community(db: str) -> None:
    await create_community("lvjingyuan", "绿景苑社区", "青山区")


async def test_create_community_refuses_bad_and_duplicate_slugs() -> None:
    await create_community("lvjingyuan", "绿景苑社区", "青山区")
    with pytest.raises(Conflict):
        await create_community("lvjingyuan", "另一个", "青山区")
    with pytest.raises(RuleViolation):
        await create_community("Bad Slug", "名字", "青山区")
    with pytest.raises(RuleViolation):
        await create_community("ok", " ", "青山区")
    assert await Community.count() == 1


@pytest.mark.usefixtures("community")
async def test_a_project_starts_as_a_draft_with_its_budget_committee_and_empty_head() -> None:
    project_id = await create_project(a_draft())
    row = await Project.select().where(Project.id == project_id).first()
    assert row is not None
    assert row["status"] == "draft"
    assert await BudgetLine.count().where(BudgetLine.project == project_id) == 2
    assert await CommitteeMember.count().where(CommitteeMember.project == project_id) == 3
    head = await LedgerHead.select().where(LedgerHead.project == project_id).first()
    assert head is not None
    assert (head["seq"], head["hash"], head["balance_fen"]) == (0, "0" * 64, 0)


@pytest.mark.usefixtures("community")
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"slug": "Not A Slug"}, "slug"),
        ({"title": ""}, "title"),
        ({"title": "长" * 20_000}, "title"),
        ({"goal_fen": 0}, "goal"),
        ({"goal_fen": 12.5}, "goal"),
        ({"budget": [BudgetLinePlan("跷跷板", 1)]}, "budget"),
        ({"committee": SEATS[:2]}, "committee"),
        ({"deadline": date(2020, 1, 1)}, "deadline"),
    ],
)
async def test_bad_drafts_are_refused_and_nothing_is_written(
    changes: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationErrors) as raised:
        await create_project(a_draft(**changes))
    assert field in raised.value.problems
    assert await Project.count() == 0
    assert await BudgetLine.count() == 0
    assert await CommitteeMember.count() == 0


async def test_a_project_needs_an_existing_community() -> None:
    with pytest.raises(NotFound):
        await create_project(a_draft(community_slug="nowhere"))
    assert await Project.count() == 0


@pytest.mark.usefixtures("community")
async def test_duplicate_project_slug_is_a_conflict() -> None:
    await create_project(a_draft())
    with pytest.raises(Conflict):
        await create_project(a_draft(title="又一个"))
    assert await Project.count() == 1


@pytest.mark.usefixtures("community")
async def test_publishing_without_committee_or_budget_lists_every_reason() -> None:
    await create_project(a_draft(budget=[], committee=[]))
    with pytest.raises(PublicationRefused) as raised:
        await publish("tongqu-leyuan")
    assert "The budget needs at least one line" in raised.value.reasons
    assert "The supervision committee needs at least three members" in raised.value.reasons
    row = await Project.select(Project.status).where(Project.slug == "tongqu-leyuan").first()
    assert row == {"status": "draft"}


@pytest.mark.usefixtures("community")
async def test_the_lifecycle_moves_only_along_legal_transitions() -> None:
    await create_project(a_draft())
    await publish("tongqu-leyuan")
    with pytest.raises(Conflict):
        await change_status("tongqu-leyuan", ProjectStatus.COMPLETED)
    with pytest.raises(Conflict):
        await publish("tongqu-leyuan")
    for status in (ProjectStatus.FUNDED, ProjectStatus.IN_PROGRESS, ProjectStatus.COMPLETED):
        await change_status("tongqu-leyuan", status)
    with pytest.raises(Conflict):
        await change_status("tongqu-leyuan", ProjectStatus.CANCELLED)
    with pytest.raises(NotFound):
        await change_status("nope", ProjectStatus.FUNDED)


@pytest.mark.usefixtures("community")
async def test_drafts_are_not_public() -> None:
    await create_project(a_draft())
    assert await queries.list_projects() == []
    assert await queries.list_projects(status=ProjectStatus.DRAFT) == []
    with pytest.raises(NotFound):
        await queries.get_project("tongqu-leyuan")
    detail = await queries.get_project("tongqu-leyuan", include_drafts=True)
    assert detail.summary.title == "童趣乐园"


async def test_demo_loads_once_into_an_empty_database() -> None:
    assert await load_demo() is True
    communities = await queries.list_communities()
    assert [c.name for c in communities] == ["绿景苑社区", "和平里社区", "翠微苑社区"]
    playground = await queries.get_project("tongqu-leyuan")
    assert playground.summary.goal.amount == 1_200_000
    assert playground.summary.status is ProjectStatus.FUNDRAISING
    assert sum(line.amount.amount for line in playground.budget) == 1_200_000
    assert {m.background.split("：")[0] for m in playground.committee} == {"管理", "法律", "维修"}
    reading = await queries.get_project("yuelanshi")
    assert reading.summary.status is ProjectStatus.FUNDRAISING
    garden = await queries.get_project("wuding-huayuan")
    assert garden.summary.status is ProjectStatus.COMPLETED
    before = await Project.count()
    assert await load_demo() is False
    assert await Project.count() == before
