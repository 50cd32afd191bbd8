"""Communities, projects, budget lines and committee seats: columns only.

Money columns are BigInt minor units (fen) beside a currency code; Piccolo's SQLite adapter
turns Decimal into float process-wide, so no Numeric column holds money anywhere.
"""

from __future__ import annotations

from piccolo.columns import (
    BigInt,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    OnDelete,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table


class Community(Table, tablename="community"):
    id = Serial(primary_key=True)
    slug = Varchar(length=64, unique=True)
    name = Varchar(length=100)
    district = Varchar(length=100)
    description = Text(default="")
    created_at = Timestamptz()


class Host(Table, tablename="host"):
    """The platform's host charity: one row per deployment (docs/adr/0027-host-and-fund.md)."""

    id = Serial(primary_key=True)
    name = Varchar(length=100)
    credit_code = Varchar(length=18)  # 统一社会信用代码, checked by python-stdnum
    fundraising_qualified = Boolean(default=False)  # 公募资格
    qualified_on = Date(null=True, default=None)
    registration_authority = Varchar(length=100, default="")
    contact = Varchar(length=200, default="")
    designated_platforms = Text(default="")  # one a line
    filing_required = Boolean(default=True)
    updated_at = Timestamptz()


class Project(Table, tablename="project"):
    id = Serial(primary_key=True)
    slug = Varchar(length=64, unique=True)
    community = ForeignKey(
        references=Community, on_delete=OnDelete.restrict, null=False, index=True
    )
    title = Varchar(length=200)
    summary = Varchar(length=500, default="")
    story = Text(default="")
    goal_fen = BigInt()
    currency = Varchar(length=3, default="CNY")
    deadline = Date(null=True, default=None)
    status = Varchar(length=16, default="draft", index=True)
    cover_image = Varchar(length=255, default="")
    accepts_donations_when_funded = Boolean(default=False)
    created_at = Timestamptz()
    status_changed_at = Timestamptz()
    # The project's charity fund of the host and its filed fundraising plan (ADR 0027).
    fund_name = Varchar(length=200, default="")
    filing_number = Varchar(length=64, default="")  # 备案编号 on 慈善中国
    plan_starts_on = Date(null=True, default=None)
    plan_ends_on = Date(null=True, default=None)


class BudgetLine(Table, tablename="budget_line"):
    id = Serial(primary_key=True)
    project = ForeignKey(references=Project, on_delete=OnDelete.cascade, null=False, index=True)
    title = Varchar(length=200)
    amount_fen = BigInt()
    position = Integer(default=0)


class CommitteeMember(Table, tablename="committee_member"):
    id = Serial(primary_key=True)
    project = ForeignKey(references=Project, on_delete=OnDelete.cascade, null=False, index=True)
    name = Varchar(length=100)
    role = Varchar(length=16, default="member")  # "chair" or "member"
    background = Varchar(length=200, default="")
    account_id = BigInt(null=True, default=None)  # linked to an account once accounts exist
    position = Integer(default=0)


class ProjectPhoto(Table, tablename="project_photo"):
    """A photo of a project's gallery (the cover is `Project.cover_image`).

    Registered in the Piccolo app `stewardship`, where its migration has always been; a draft's
    gallery is part of the project itself, so the class lives here with the project.
    """

    id = Serial(primary_key=True)
    project = ForeignKey(references=Project, on_delete=OnDelete.restrict, null=False, index=True)
    url = Varchar(length=255)
    sha256 = Varchar(length=64)
    position = Integer(default=0)
    added_at = Timestamptz()
