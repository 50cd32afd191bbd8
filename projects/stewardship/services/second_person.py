"""The second person: money one steward records counts only once somebody else confirms it.

An offline gift (cash, a transfer) and a matching pledge are both recorded by one steward with
their evidence (the receipt, the sponsor's letter) and wait, counted nowhere, until a committee
member who is not the recorder confirms them (docs/adr/0019-pledges-two-people.md). This is the
one piece of code that takes such a record for its decision: the row is locked (`SELECT … FOR
UPDATE` on PostgreSQL; SQLite's BEGIN IMMEDIATE serialises writers), must belong to the project
in the path, must not be decided already, and the person deciding must not be its recorder.
Call it inside the decision's write transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from piccolo.columns import Column
from piccolo.table import Table

from linju.platform.db import is_postgres
from linju.platform.kernel.errors import Conflict, NotFound, RuleViolation
from linju.projects.stewardship.rules import second_person_problem


async def record_to_decide(
    table: type[Table],
    key: Column,
    value: object,
    project_slug: str,
    columns: Sequence[Column],
    *,
    decided: Sequence[Column],
    confirmers: tuple[int | None, ...],
    not_found: str,
    already_decided: str,
) -> dict[str, Any]:
    """The row whose `key` is `value`, locked, with `columns`; refused when it is not this
    project's (404), when any of the `decided` timestamps is set (409), or when one of the
    `confirmers` (account ids; None for none) recorded it (422). The table needs `project`
    and `recorded_by` columns."""
    project: Any = getattr(table, "project")  # noqa: B009 - a column every such table has
    query = table.select(
        getattr(table, "id"),  # noqa: B009
        project.slug.as_alias("project_slug"),
        getattr(table, "recorded_by"),  # noqa: B009
        *decided,
        *columns,
    ).where(key == value)
    if is_postgres():
        query = query.lock_rows("UPDATE", of=(table,))
    row = await query.first()
    if row is None or row["project_slug"] != project_slug:
        raise NotFound(not_found, id=value)
    if any(row[column._meta.name] is not None for column in decided):
        raise Conflict(already_decided)
    problem = second_person_problem(row["recorded_by"], confirmers)
    if problem is not None:
        raise RuleViolation(problem)
    return dict(row)
