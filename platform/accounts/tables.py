"""The accounts area's tables: columns only. Rules live in the services beside this module.

Residents need no account; accounts exist for the people who hold a role: platform admins,
community secretaries and supervision-committee members. A committee member's role is the
`account_id` of their seat in `projects.core.tables.CommitteeMember`, so the public committee
and the people who log in to vote are one list.
"""

from __future__ import annotations

from piccolo.columns import (
    BigInt,
    Boolean,
    ForeignKey,
    LazyTableReference,
    OnDelete,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table


class Account(Table, tablename="account"):
    id = Serial(primary_key=True)
    email = Varchar(length=254, unique=True)  # stored lower-cased: unique whatever the case
    display_name = Varchar(length=100)
    password_hash = Varchar(length=255, default="")  # empty until the invite link is used
    is_admin = Boolean(default=False)
    # The host charity's finance staff: they issue official donation receipts (docs/adr/0030).
    is_host_finance = Boolean(default=False)
    is_active = Boolean(default=True)
    created_at = Timestamptz()
    password_changed_at = Timestamptz(null=True, default=None)


class SecretaryRole(Table, tablename="secretary_role"):
    """An account is the secretary of a community (one row per pair)."""

    id = Serial(primary_key=True)
    account = ForeignKey(references=Account, on_delete=OnDelete.cascade, null=False, index=True)
    community: ForeignKey[Table] = ForeignKey(
        # lazily: the shell imports no area (docs/adr/0011-house-plan.md)
        references=LazyTableReference("Community", app_name="projects"),
        on_delete=OnDelete.cascade,
        null=False,
        index=True,
    )
    created_at = Timestamptz()


class Session(Table, tablename="account_session"):
    """A server-side session: only the SHA-256 of the cookie's random id is stored."""

    id = Serial(primary_key=True)
    token_hash = Varchar(length=64, unique=True)
    account = ForeignKey(references=Account, on_delete=OnDelete.cascade, null=False, index=True)
    created_at = Timestamptz()
    expires_at = Timestamptz()


class LoginAttempt(Table, tablename="login_attempt"):
    """Every password check (a login, or the current password on /account/password), recorded
    before the check and marked `succeeded` after it, so throttling is shared by all workers and
    a check under way already counts as a failure."""

    id = Serial(primary_key=True)
    email = Varchar(length=254, index=True)
    address = Varchar(length=64, index=True)
    succeeded = Boolean(default=False)
    at = Timestamptz(index=True)


class PasswordResetRequest(Table, tablename="password_reset_request"):
    """A reset mail asked for (whether or not the account exists), to throttle them per e-mail
    and per address; throttled requests are not recorded."""

    id = Serial(primary_key=True)
    email = Varchar(length=254, index=True)
    address = Varchar(length=64, index=True)
    at = Timestamptz(index=True)


class PasswordToken(Table, tablename="password_token"):
    """A single-use, expiring link to set a password (reset or invitation); stored hashed."""

    id = Serial(primary_key=True)
    token_hash = Varchar(length=64, unique=True)
    account = ForeignKey(references=Account, on_delete=OnDelete.cascade, null=False, index=True)
    purpose = Varchar(length=16, default="reset")  # "reset" or "invite"
    created_at = Timestamptz()
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)


class AuditRecord(Table, tablename="audit_record"):
    """Who did what privileged action, when, to which object, with the values before and after."""

    id = Serial(primary_key=True)
    at = Timestamptz(index=True)
    actor_id = BigInt(null=True, default=None)  # null for the command line
    actor_label = Varchar(length=254)
    action = Varchar(length=64, index=True)
    object_type = Varchar(length=32)
    object_id = Varchar(length=100)
    before = Text(default="")  # JSON, or empty when the object did not exist
    after = Text(default="")  # JSON, or empty when the object no longer exists


class SentMail(Table, tablename="sent_mail"):
    """One message handed to the mail server by a job: recorded once per (job, recipient).

    Mail is at-least-once: a worker that dies after the send and before this row commits sends
    again on the retry, with the same Message-ID, so the recipient's mail system can drop the
    copy; this row is then written once (the Message-ID is unique).
    """

    id = Serial(primary_key=True)
    message_id = Varchar(length=200, unique=True)
    job_key = Varchar(length=64, index=True)
    recipient = Varchar(length=254)
    subject = Varchar(length=300)
    sent_at = Timestamptz()
