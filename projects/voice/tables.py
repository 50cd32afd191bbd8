"""Tables of residents' voice: columns only (rules in rules.py, use cases in services/).

A household (building · unit · room, no names) is the unit of voice: it holds one code (only
its SHA-256 is stored) and any number of phone sessions (only the SHA-256 of each cookie's id is
stored). A need is posted by a household or, heard at a meeting, by a community steward; a
support is one household's, at most once per need (a unique index, migration), online or on
paper (recorded by one steward, counted once a second steward confirms it). Part 2's ballots
follow the support's shape: one row per (poll, household), the channel, recorded_by and
confirmed_by (docs/adr/0033-residents-voice.md).
"""

from __future__ import annotations

from piccolo.columns import (
    BigInt,
    Boolean,
    ForeignKey,
    Integer,
    OnDelete,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from linju.platform.accounts.tables import Account
from linju.projects.core.tables import Community, Project


class Household(Table, tablename="household"):
    """A home of a community; (community, building, unit, room) is unique (migration)."""

    id = Serial(primary_key=True)
    community = ForeignKey(
        references=Community, on_delete=OnDelete.restrict, null=False, index=True
    )
    building = Varchar(length=16)
    unit = Varchar(length=16, default="")
    room = Varchar(length=16)
    code_hash = Varchar(length=64, default="", index=True)  # SHA-256 of the current code
    code_issued_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()


class HouseholdSession(Table, tablename="household_session"):
    """A phone that entered the household's code: only the SHA-256 of the cookie's id."""

    id = Serial(primary_key=True)
    token_hash = Varchar(length=64, unique=True)
    household = ForeignKey(references=Household, on_delete=OnDelete.cascade, null=False, index=True)
    created_at = Timestamptz()
    expires_at = Timestamptz()


class CodeAttempt(Table, tablename="household_code_attempt"):
    """A household code entered, recorded before it is checked (the throttle's count)."""

    id = Serial(primary_key=True)
    community = ForeignKey(references=Community, on_delete=OnDelete.cascade, null=False, index=True)
    address = Varchar(length=64, index=True)
    succeeded = Boolean(default=False)
    at = Timestamptz(index=True)


class CommunitySteward(Table, tablename="community_steward"):
    """A resident the secretary named a steward of the community: the second person of its
    paper records. (community, account) is unique (migration)."""

    id = Serial(primary_key=True)
    community = ForeignKey(references=Community, on_delete=OnDelete.cascade, null=False, index=True)
    account = ForeignKey(references=Account, on_delete=OnDelete.cascade, null=False, index=True)
    named_by = BigInt(null=True, default=None)
    named_at = Timestamptz()


class VoiceSettings(Table, tablename="voice_settings"):
    """A community's rules of voice; a community without a row uses the defaults (rules.py)."""

    id = Serial(primary_key=True)
    community = ForeignKey(
        references=Community, on_delete=OnDelete.cascade, null=False, unique=True
    )
    threshold_percent = Integer(default=5)
    answer_days = Integer(default=14)


class Need(Table, tablename="need"):
    id = Serial(primary_key=True)
    community = ForeignKey(
        references=Community, on_delete=OnDelete.restrict, null=False, index=True
    )
    title = Varchar(length=100)
    body = Text(default="")  # what is needed
    place = Varchar(length=200, default="")  # where
    author_household = ForeignKey(
        references=Household, on_delete=OnDelete.restrict, null=True, default=None
    )
    heard_by = BigInt(null=True, default=None)  # the steward's account: heard at a meeting
    status = Varchar(length=16, default="open", index=True)
    created_at = Timestamptz()
    status_changed_at = Timestamptz()
    review_started_at = Timestamptz(null=True, default=None)
    answered_by = BigInt(null=True, default=None)
    decline_reason = Text(default="")
    project = ForeignKey(references=Project, on_delete=OnDelete.restrict, null=True, default=None)


class NeedPhoto(Table, tablename="need_photo"):
    id = Serial(primary_key=True)
    need = ForeignKey(references=Need, on_delete=OnDelete.cascade, null=False, index=True)
    url = Varchar(length=255)
    sha256 = Varchar(length=64)
    position = Integer(default=0)


class Support(Table, tablename="need_support"):
    """One household's support of a need; (need, household) is unique (migration), so a
    household that supported on paper cannot support online, nor twice either way."""

    id = Serial(primary_key=True)
    need = ForeignKey(references=Need, on_delete=OnDelete.cascade, null=False, index=True)
    household = ForeignKey(
        references=Household, on_delete=OnDelete.restrict, null=False, index=True
    )
    channel = Varchar(length=8, default="online")  # "online" or "paper"
    recorded_by = BigInt(null=True, default=None)  # paper: the steward who recorded it
    confirmed_by = BigInt(null=True, default=None)  # paper: the second steward
    confirmed_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()
