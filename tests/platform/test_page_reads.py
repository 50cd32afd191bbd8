"""The platform's read helpers on both engines: rows as Piccolo would give them, one snapshot."""

from __future__ import annotations

import pytest

from linju.platform.db import read_snapshot, select_rows, write_transaction
from linju.projects.core import read as queries
from linju.projects.core.tables import BudgetLine, CommitteeMember
from linju.projects.demo import load_demo

pytestmark = pytest.mark.usefixtures("db")
SLUG = "tongqu-leyuan"


async def test_select_rows_gives_what_piccolo_gives() -> None:
    assert await load_demo()
    project = await queries.get_project(SLUG)
    for ascending in (True, False):
        expected = await (
            BudgetLine.select(BudgetLine.id, BudgetLine.title, BudgetLine.amount_fen)
            .where(BudgetLine.project == project.id)
            .order_by(BudgetLine.position, ascending=ascending)
        )
        rows = await select_rows(
            BudgetLine.id,
            BudgetLine.title,
            BudgetLine.amount_fen,
            where=[(BudgetLine.project, project.id)],
            order_by=[(BudgetLine.position, ascending)],
        )
        assert rows == expected
        assert len(rows) >= 2
    everything = await CommitteeMember.select().where(CommitteeMember.project == project.id)
    every_column = await select_rows(
        where=[(CommitteeMember.project, project.id)], order_by=[(CommitteeMember.id, True)]
    )
    assert every_column == sorted(everything, key=lambda row: row["id"])
    chair = everything[0]
    both = await select_rows(
        CommitteeMember.name,
        where=[(CommitteeMember.project, project.id), (CommitteeMember.role, chair["role"])],
        limit=1,
    )
    assert both == [{"name": chair["name"]}]
    assert await select_rows(where=[(CommitteeMember.project, -1)]) == []


async def test_a_read_snapshot_reads_rows_and_joins_a_write_transaction() -> None:
    assert await load_demo()
    project = await queries.get_project(SLUG)
    async with read_snapshot():
        inside = await queries.get_project(SLUG)
        lines = await select_rows(where=[(BudgetLine.project, project.id)])
    assert inside == project
    assert all(isinstance(row, dict) for row in lines)
    async with write_transaction(), read_snapshot():  # joins the writer: sees what it wrote
        await BudgetLine.update({BudgetLine.title: "新标题"}).where(
            BudgetLine.id == project.budget[0].id
        )
        seen = await select_rows(BudgetLine.title, where=[(BudgetLine.id, project.budget[0].id)])
        assert seen == [{"title": "新标题"}]
