"""`linju demo` goes through the real services, so every page and figure agrees with the ledger."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from linju.platform.kernel import clock
from linju.projects.core import read as queries
from linju.projects.core.rules import ProjectStatus
from linju.projects.core.tables import Community
from linju.projects.demo import load_demo
from linju.projects.donations.services import recent_donations
from linju.projects.ledger.read import find_ledger, iter_entries
from linju.projects.ledger.verify import verify_entries
from linju.projects.spending.tables import Expenditure

pytestmark = pytest.mark.usefixtures("db")
SLUGS = ("tongqu-leyuan", "yuelanshi", "wuding-huayuan")


async def test_every_demo_figure_agrees_with_its_ledger() -> None:
    assert await load_demo()
    for slug in SLUGS:
        project = await queries.get_project(slug)
        ledger = await find_ledger(slug)
        entries = [(None, entry) async for entry in iter_entries(ledger)]
        result = verify_entries(entries, project=slug)
        assert result.ok, result.fault
        assert result.state.seq == project.ledger_head.seq
        assert result.state.raised == project.summary.raised.amount
        assert result.state.balance == project.summary.balance.amount
        assert result.state.spent == project.summary.spent.amount
        assert result.state.donations_count == project.summary.donations_count


async def test_the_demo_donor_wall_and_spending_are_real_records() -> None:
    assert await load_demo()
    wall = await recent_donations(await queries.get_project("tongqu-leyuan"))
    assert {donation.public_name for donation in wall} >= {"王阿姨", "匿名", "小明和妈妈"}
    garden = await queries.get_project("wuding-huayuan")
    assert garden.summary.status is ProjectStatus.COMPLETED
    assert garden.summary.spent.amount == 800_000
    paid = await Expenditure.count().where(Expenditure.status == "paid")
    assert paid == 3
    assert garden.summary.balance.amount == 0  # leftovers went to the community's fund


async def test_the_demo_loads_in_the_early_morning_in_china(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """At 06:55 in Shanghai UTC is still on yesterday: today's payments are not "future"."""
    early_morning_in_china = datetime(2026, 11, 23, 22, 55, tzinfo=UTC)
    monkeypatch.setattr(clock, "utc_now", lambda: early_morning_in_china)
    assert await load_demo()
    assert (await queries.get_project("wuding-huayuan")).summary.spent.amount == 800_000


async def test_a_demo_that_fails_halfway_leaves_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    from linju.projects import demo

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the demo broke halfway")

    monkeypatch.setattr(demo, "demo_completion", broken)
    with pytest.raises(RuntimeError):
        await load_demo()
    assert await Community.count() == 0
    monkeypatch.undo()
    assert await load_demo()


async def test_the_demo_looks_like_a_real_project_covers_galleries_invoices_and_updates() -> None:
    """ADR 0023: drawn at demo time, each invoice its own, photos on every project."""
    from linju.projects.core.tables import Project, ProjectPhoto
    from linju.projects.spending.tables import Attachment
    from linju.projects.stewardship.tables import ProjectUpdate

    assert await load_demo()
    covers = await Project.select(Project.slug, Project.cover_image)
    assert all(row["cover_image"].startswith("/photos/") for row in covers), covers
    assert len({row["cover_image"] for row in covers}) == len(covers)
    for row in await Project.select(Project.id):
        assert await ProjectPhoto.count().where(ProjectPhoto.project == row["id"]) >= 3
    invoices = await Attachment.select(Attachment.sha256).where(Attachment.label == "发票")
    assert len(invoices) == 3
    assert len({row["sha256"] for row in invoices}) == 3, "two invoices share one file"
    garden = await Project.select(Project.id).where(Project.slug == "wuding-huayuan").first()
    assert garden is not None
    assert await ProjectUpdate.count().where(ProjectUpdate.project == garden["id"]) >= 2
