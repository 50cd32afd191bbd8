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


# Hearings (听证会 / 议事会), part 2 of issue 17 (docs/adr/0032-hearings-secret-ballots.md).
# A ballot is one household's at most once per hearing, online or on paper (a unique index);
# its choices are secret and are deleted at the close, once the tally is written (frozen by a
# trigger, migration).


class Hearing(Table, tablename="hearing"):
    """A poll of the community's households on a need or a draft project (exactly one)."""

    id = Serial(primary_key=True)
    community = ForeignKey(
        references=Community, on_delete=OnDelete.restrict, null=False, index=True
    )
    need = ForeignKey(
        references=Need, on_delete=OnDelete.restrict, null=True, default=None, index=True
    )
    project = ForeignKey(
        references=Project, on_delete=OnDelete.restrict, null=True, default=None, index=True
    )
    title = Varchar(length=100)
    opened_by = BigInt()  # the steward's account
    opens_at = Timestamptz()
    closes_at = Timestamptz(index=True)
    meeting_at = Timestamptz(null=True, default=None)
    meeting_place = Varchar(length=200, default="")
    created_at = Timestamptz()
    closed_at = Timestamptz(null=True, default=None)  # set once, when the tally is computed
    households_at_close = Integer(null=True, default=None)  # the turnout's denominator
    ballots_at_close = Integer(null=True, default=None)


class HearingQuestion(Table, tablename="hearing_question"):
    id = Serial(primary_key=True)
    hearing = ForeignKey(references=Hearing, on_delete=OnDelete.cascade, null=False, index=True)
    position = Integer(default=0)
    text = Varchar(length=200)
    kind = Varchar(length=8, default="single")  # "single" or "multiple"
    max_choices = Integer(default=1)


class HearingOption(Table, tablename="hearing_option"):
    id = Serial(primary_key=True)
    question = ForeignKey(
        references=HearingQuestion, on_delete=OnDelete.cascade, null=False, index=True
    )
    position = Integer(default=0)
    text = Varchar(length=100)


class Ballot(Table, tablename="hearing_ballot"):
    """One household's ballot; (hearing, household) is unique (migration), whichever the
    channel, so a household that voted on paper cannot vote online and vice versa."""

    id = Serial(primary_key=True)
    hearing = ForeignKey(references=Hearing, on_delete=OnDelete.restrict, null=False, index=True)
    household = ForeignKey(
        references=Household, on_delete=OnDelete.restrict, null=False, index=True
    )
    channel = Varchar(length=8, default="online")  # "online" or "paper"
    recorded_by = BigInt(null=True, default=None)  # paper: the steward who recorded it
    confirmed_by = BigInt(null=True, default=None)  # paper: the second steward
    confirmed_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()
    changed_at = Timestamptz()


class BallotChoice(Table, tablename="hearing_ballot_choice"):
    """A ballot's chosen option: secret, shown by no route, deleted at the close."""

    id = Serial(primary_key=True)
    ballot = ForeignKey(references=Ballot, on_delete=OnDelete.cascade, null=False, index=True)
    question = ForeignKey(
        references=HearingQuestion, on_delete=OnDelete.restrict, null=False, index=True
    )
    option = ForeignKey(
        references=HearingOption, on_delete=OnDelete.restrict, null=False, index=True
    )


class HearingTally(Table, tablename="hearing_tally"):
    """An option's votes, written once at the close; UPDATE and DELETE refused (trigger)."""

    id = Serial(primary_key=True)
    hearing = ForeignKey(references=Hearing, on_delete=OnDelete.restrict, null=False, index=True)
    question = ForeignKey(
        references=HearingQuestion, on_delete=OnDelete.restrict, null=False, index=True
    )
    option = ForeignKey(
        references=HearingOption, on_delete=OnDelete.restrict, null=False, index=True
    )
    votes = Integer(default=0)


class HearingMinutes(Table, tablename="hearing_minutes"):
    """The meeting's minutes (services/minutes.py): signed off, anchoring the log's checkpoint
    and, for a project's hearing, the project's ledger head."""

    id = Serial(primary_key=True)
    hearing = ForeignKey(references=Hearing, on_delete=OnDelete.restrict, null=False, unique=True)
    summary = Text(default="")
    attendees = Text(default="")
    decisions = Text(default="")
    drafted_by = BigInt()
    drafted_at = Timestamptz()
    log_checkpoint = Text(default="")  # the signed checkpoint's text anchored
    log_size = BigInt(null=True, default=None)
    project_head = Varchar(length=64, default="")  # the project's ledger head (project hearings)
    signed_off_at = Timestamptz(null=True, default=None)


class MinutesSignoff(Table, tablename="hearing_minutes_signoff"):
    """One signer's sign-off of the minutes; (minutes, account) is unique (migration)."""

    id = Serial(primary_key=True)
    minutes = ForeignKey(
        references=HearingMinutes, on_delete=OnDelete.cascade, null=False, index=True
    )
    account = BigInt()
    at = Timestamptz()
