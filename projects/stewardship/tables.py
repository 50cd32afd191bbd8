"""Tables of the secretary's work: columns only (rules in projects/services/*).

None of these rows is money on the ledger by itself: an offline donation posts an
`offline_donation` entry, and a matching pledge draws, only once a second person (a committee
member) confirms it, and a matching draw is recorded here beside the `matching` entry it
posted, so the pledge's cap can be enforced under a row lock and a refund can find the match to
reverse.
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

from linju.projects.core.tables import Project


class OfflineDonation(Table, tablename="offline_donation"):
    id = Serial(primary_key=True)
    public_id = Varchar(length=32, unique=True)  # random; the ledger entry's ref
    project = ForeignKey(references=Project, on_delete=OnDelete.restrict, null=False, index=True)
    amount_fen = BigInt()
    currency = Varchar(length=3, default="CNY")
    donor_name = Varchar(length=100, default="")
    anonymous = Boolean(default=False)
    received_on = Date()
    method = Varchar(length=16, default="cash")  # "cash" or "transfer"
    evidence_path = Varchar(length=255, default="")
    evidence_sha256 = Varchar(length=64, default="")
    recorded_by = BigInt()  # account id of the secretary
    recorded_at = Timestamptz()
    confirmed_by = BigInt(null=True, default=None)  # account id of a committee member
    confirmed_at = Timestamptz(null=True, default=None)
    ledger_seq = BigInt(null=True, default=None)


class MatchingPledge(Table, tablename="matching_pledge"):
    """A sponsor gives `ratio_num/ratio_den` of each donation in the window, up to the cap."""

    id = Serial(primary_key=True)
    project = ForeignKey(references=Project, on_delete=OnDelete.restrict, null=False, index=True)
    sponsor_slug = Varchar(length=64)
    sponsor_name = Varchar(length=100)
    ratio_num = Integer()
    ratio_den = Integer()
    cap_fen = BigInt()
    drawn_fen = BigInt(default=0)  # kept with each draw and reversal, under the row's lock
    currency = Varchar(length=3, default="CNY")
    starts_at = Timestamptz()
    ends_at = Timestamptz()
    created_at = Timestamptz()
    # Two people (docs/adr/0019-pledges-two-people.md): recorded with the sponsor's letter by one
    # steward, it draws nothing until a committee member who is not the recorder confirms it,
    # and then only for donations confirmed after that.
    recorded_by = BigInt(default=0)  # account id of the recorder (0: the command line)
    letter_path = Varchar(length=255, default="")
    letter_sha256 = Varchar(length=64, default="")
    confirmed_by = BigInt(null=True, default=None)  # account id of the committee member
    confirmed_at = Timestamptz(null=True, default=None)
    rejected_by = BigInt(null=True, default=None)
    rejected_at = Timestamptz(null=True, default=None)
    decided_by_name = Varchar(length=100, default="")  # the deciding member's committee seat
    decision_reason = Varchar(length=1000, default="")


class MatchDraw(Table, tablename="match_draw"):
    """One donation's match: drawn once (unique donation_ref), reversed at most once."""

    id = Serial(primary_key=True)
    pledge = ForeignKey(
        references=MatchingPledge, on_delete=OnDelete.restrict, null=False, index=True
    )
    donation_ref = Varchar(length=100, unique=True)
    amount_fen = BigInt()
    ledger_seq = BigInt()
    drawn_at = Timestamptz()
    reversed_at = Timestamptz(null=True, default=None)


class ProjectUpdate(Table, tablename="project_update"):
    id = Serial(primary_key=True)
    project = ForeignKey(references=Project, on_delete=OnDelete.restrict, null=False, index=True)
    body = Text()
    photos = Text(default="[]")  # JSON list of stored photo paths
    author_id = BigInt()
    posted_at = Timestamptz(index=True)


class InKindContribution(Table, tablename="in_kind_contribution"):
    """Labour, goods or space given to a project: shown on its page, never money on the ledger."""

    id = Serial(primary_key=True)
    project = ForeignKey(references=Project, on_delete=OnDelete.restrict, null=False, index=True)
    kind = Varchar(length=8)  # "labour", "goods" or "space"
    contributor = Varchar(length=100)
    description = Varchar(length=300)
    labour_hours = Integer(default=0)
    estimated_value_fen = BigInt(default=0)
    location = Varchar(length=200, default="")
    recorded_by = BigInt()
    recorded_at = Timestamptz()


class Disclosure(Table, tablename="disclosure"):
    """A published disclosure (项目公示, docs/adr/0029-disclosures.md): frozen once written.

    The table refuses UPDATE and DELETE by trigger (`disclosure_append_only`), so the figures
    residents printed stay the figures on the page. `figures` is the snapshot (JSON) built from
    the ledger's entries `first_seq`..`head_seq` at publication; `head_hash` lets anyone check
    it against the ledger.
    """

    id = Serial(primary_key=True)
    project = ForeignKey(references=Project, on_delete=OnDelete.restrict, null=False, index=True)
    seq = Integer()  # 1, 2, … per project (unique with the project)
    kind = Varchar(length=8)  # "periodic" or "final"
    period_starts_on = Date()
    period_ends_on = Date()
    currency = Varchar(length=3, default="CNY")
    opening_fen = BigInt()
    closing_fen = BigInt()
    first_seq = BigInt()
    head_seq = BigInt()
    head_hash = Varchar(length=64)
    figures = Text()  # JSON: rules.DisclosureFigures.as_json()
    what_was_done = Text()
    published_by = BigInt()  # the secretary's account id
    published_by_name = Varchar(length=100)
    published_at = Timestamptz()
