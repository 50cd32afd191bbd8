"""Logging in with throttling, changing a password, and single-use password links.

Throttling lives in the database so every worker counts the same failures: after
`MAX_FAILURES_PER_ACCOUNT` failed password checks for one e-mail (since its last success) or
`MAX_FAILURES_PER_ADDRESS` from one network address within `THROTTLE_WINDOW`, the password is no
longer checked and the answer is 429 until the window passes. A check is recorded *before* the
password is verified, in a write transaction that counts the window's failures and inserts the
attempt while it holds the e-mail's and the address's locks (PostgreSQL: transaction-scoped
advisory locks; SQLite: its single writer), so however many requests arrive at once, no more
than the limit are ever verified; the attempt is marked succeeded after a correct password. The
current password on `/account/password` goes through the same check, counted against the
account's e-mail and the address. Reset mails are throttled the same way
(`MAX_RESETS_PER_EMAIL`, `MAX_RESETS_PER_ADDRESS` per `RESET_WINDOW`), silently.

Password links (reset and invitation) are random, stored as their SHA-256, expire, and are spent
by their first use.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Any

from piccolo.querystring import QueryString

from linju.platform.accounts.audit import Actor, record_audit
from linju.platform.accounts.mailer import Mail
from linju.platform.accounts.outbox import deliver
from linju.platform.accounts.passwords import hash_password, password_problem, verify_password
from linju.platform.accounts.services import normalise_email
from linju.platform.accounts.sessions import end_all_sessions, token_digest
from linju.platform.accounts.tables import (
    Account,
    LoginAttempt,
    PasswordResetRequest,
    PasswordToken,
)
from linju.platform.db import get_engine, is_postgres, write_transaction
from linju.platform.i18n import translate_in
from linju.platform.jobs.housekeeping import delete_in_batches
from linju.platform.jobs.queue import enqueue
from linju.platform.jobs.registry import JobContext
from linju.platform.kernel.clock import utc_now
from linju.platform.kernel.errors import N_, DomainError, RuleViolation, ValidationErrors
from linju.platform.settings import Settings, get_settings

THROTTLE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 20
ATTEMPTS_KEPT = timedelta(days=1)
RESET_WINDOW = timedelta(hours=1)
MAX_RESETS_PER_EMAIL = 3
MAX_RESETS_PER_ADDRESS = 10
RESET_LIFETIME = timedelta(hours=2)
PASSWORD_MAIL_JOB = "accounts.password_mail"  # noqa: S105 - a job name, not a secret
INVITE_LIFETIME = timedelta(days=7)


class LoginThrottled(DomainError):
    status = 429
    title = "Too many requests"


class BadCredentials(RuleViolation):
    pass


# Advisory lock namespaces (PostgreSQL's two-key form, which never meets the one-key locks of
# migrations): one per kind of key, so a login and a reset request never wait for each other.
_LOGIN_EMAIL_LOCK = 0x4C4A0001
_LOGIN_ADDRESS_LOCK = 0x4C4A0002
_RESET_EMAIL_LOCK = 0x4C4A0003
_RESET_ADDRESS_LOCK = 0x4C4A0004


def _lock_key(value: str) -> int:
    """A signed 32-bit key for `value` (collisions only make two keys share a lock)."""
    return int.from_bytes(hashlib.sha256(value.encode("utf-8")).digest()[:4], "big", signed=True)


async def _serialise(*locks: tuple[int, str]) -> None:
    """Inside a write transaction: wait for, and hold until it ends, the lock of each
    (namespace, key), in the order given (always e-mail then address: no deadlock). SQLite's
    write transactions are serial already (BEGIN IMMEDIATE)."""
    if not is_postgres():
        return
    for namespace, value in locks:
        await get_engine().run_querystring(
            QueryString(
                "SELECT 1 AS locked FROM pg_advisory_xact_lock({}, {})",
                namespace,
                _lock_key(value),
            )
        )


async def _failures(email: str, address: str) -> tuple[int, int]:
    """Failed (or still running) checks in the window: for the e-mail since its last success,
    and from the address."""
    since = utc_now() - THROTTLE_WINDOW
    last_success = (
        await LoginAttempt.select(LoginAttempt.at)
        .where((LoginAttempt.email == email) & (LoginAttempt.succeeded == True))  # noqa: E712
        .order_by(LoginAttempt.at, ascending=False)
        .first()
    )
    account_since = max(since, last_success["at"]) if last_success else since
    by_account = await LoginAttempt.count().where(
        (LoginAttempt.email == email)
        & (LoginAttempt.succeeded == False)  # noqa: E712
        & (LoginAttempt.at > account_since)
    )
    by_address = await LoginAttempt.count().where(
        (LoginAttempt.address == address)
        & (LoginAttempt.succeeded == False)  # noqa: E712
        & (LoginAttempt.at > since)
    )
    return by_account, by_address


async def _begin_check(email: str, address: str) -> int:
    """Record a password check before it is made; its id, or LoginThrottled (nothing recorded).

    The count and the insert happen in one transaction holding the e-mail's and the address's
    locks, so concurrent checks see each other: a check under way counts as a failure until it
    is marked succeeded.
    """
    async with write_transaction():
        await _serialise((_LOGIN_EMAIL_LOCK, email), (_LOGIN_ADDRESS_LOCK, address))
        by_account, by_address = await _failures(email, address)
        if by_account >= MAX_FAILURES_PER_ACCOUNT or by_address >= MAX_FAILURES_PER_ADDRESS:
            raise LoginThrottled(N_("Too many failed logins; try again in 15 minutes"))
        now = utc_now()
        await LoginAttempt.delete().where(LoginAttempt.at < now - ATTEMPTS_KEPT)
        rows = await LoginAttempt.insert(
            LoginAttempt(email=email, address=address, succeeded=False, at=now)
        ).returning(LoginAttempt.id)
    return int(rows[0]["id"])


async def _check_succeeded(attempt_id: int) -> None:
    async with write_transaction():
        await LoginAttempt.update({LoginAttempt.succeeded: True}).where(
            LoginAttempt.id == attempt_id
        )


async def authenticate(email: str, password: str, address: str) -> int:
    """The account id for a correct e-mail and password; raises BadCredentials or LoginThrottled.

    The same message answers an unknown e-mail and a wrong password, so the form does not tell
    who has an account.
    """
    email = normalise_email(email)[:254]
    address = address[:64]
    attempt_id = await _begin_check(email, address)
    account = (
        await Account.select(Account.id, Account.password_hash, Account.is_active)
        .where(Account.email == email)
        .first()
    )
    ok = await verify_password(account["password_hash"] if account else None, password)
    if not ok or account is None or not account["is_active"]:
        raise BadCredentials(N_("The e-mail or the password is wrong"))
    await _check_succeeded(attempt_id)
    return int(account["id"])


async def change_password(
    actor: Actor, account_id: int, current: str, new: str, address: str
) -> None:
    """Set a new password after checking the current one, throttled like a login (against the
    account's e-mail and the address); every session of the account ends."""
    account = (
        await Account.select(Account.email, Account.password_hash)
        .where(Account.id == account_id)
        .first()
    )
    if account is None:
        raise ValidationErrors({"current": N_("The current password is wrong")})
    attempt_id = await _begin_check(account["email"], address[:64])
    problems: dict[str, str] = {}
    if await verify_password(account["password_hash"], current):
        await _check_succeeded(attempt_id)
    else:
        problems["current"] = N_("The current password is wrong")
    problem = password_problem(new)
    if problem:
        problems["new"] = problem
    if problems:
        raise ValidationErrors(problems)
    new_hash = await hash_password(new)
    async with write_transaction():
        await Account.update(
            {Account.password_hash: new_hash, Account.password_changed_at: utc_now()}
        ).where(Account.id == account_id)
        await end_all_sessions(account_id)
        await record_audit(actor, "account.password.change", "account", account_id)


def password_token(seed: str) -> str:
    """The link's token, derived from a stored seed with the secret key.

    The mail job's arguments hold only the seed: a copy of the database (jobs included) hands
    out no working link without the key, and every attempt of the job mails the same link.
    """
    key = get_settings().secret_key.encode("utf-8")
    digest = hmac.new(key, b"linju password token\0" + seed.encode("ascii"), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode("ascii")


async def issue_password_token(account_id: int, purpose: str) -> str:
    """A single-use link token's seed; call inside the transaction that makes the account (an
    invitation), and hand the seed to `queue_password_mail` in the same transaction. A reset's
    token is issued by its mail job instead (`password_mail_job`)."""
    seed = secrets.token_urlsafe(32)
    lifetime = INVITE_LIFETIME if purpose == "invite" else RESET_LIFETIME
    now = utc_now()
    await PasswordToken.insert(
        PasswordToken(
            token_hash=token_digest(password_token(seed)),
            account=account_id,
            purpose=purpose,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    return seed


def password_link(token: str) -> str:
    return f"{get_settings().base_url}/password/reset/{token}"


def password_mail(email: str, token: str, purpose: str, locale: str) -> Mail:
    link = password_link(token)
    if purpose == "invite":
        subject = translate_in(locale, "You are invited to Linju")
        body = translate_in(
            locale,
            "An account was made for you on Linju. Choose your password here "
            "(the link works once, for 7 days): %(link)s",
            link=link,
        )
    else:
        subject = translate_in(locale, "Reset your Linju password")
        body = translate_in(
            locale,
            "Someone asked to reset the password of this account. If it was you, choose a "
            "new password here (the link works once, for 2 hours): %(link)s",
            link=link,
        )
    return Mail(to=email, subject=subject, body=body)


async def queue_password_mail(email: str, seed: str, purpose: str, locale: str) -> None:
    """Queue the link's mail; call in the transaction that issued the token."""
    await enqueue(
        PASSWORD_MAIL_JOB, {"to": email, "seed": seed, "purpose": purpose, "locale": locale}
    )


async def password_mail_job(args: dict[str, Any], ctx: JobContext) -> None:
    """Mail a password link: an invitation's (its seed in the arguments), or a reset's.

    A reset job is queued for every request that was not throttled, whether or not the e-mail
    has an account, so the request does the same work either way; the job looks the account up,
    issues the token in its own transaction and mails only to an active account. The token is
    derived from the job's own key (fixed at enqueue), so every attempt mails the same link.
    """
    if "seed" in args:
        seed = str(args["seed"])
    else:
        found = await _issue_reset_token(args["to"], _reset_seed(ctx))
        if found is None:
            return
        seed = found
    token = password_token(seed)
    await deliver(ctx, password_mail(args["to"], token, args["purpose"], args["locale"]))


def _reset_seed(ctx: JobContext) -> str:
    return f"reset.{ctx.key}"


async def _issue_reset_token(email: str, seed: str) -> str | None:
    """The reset link's seed once its token is stored (by this attempt or an earlier one of the
    same job); None when no active account has this e-mail."""
    async with write_transaction():
        account = (
            await Account.select(Account.id)
            .where((Account.email == email) & (Account.is_active == True))  # noqa: E712
            .first()
        )
        if account is None:
            return None
        digest = token_digest(password_token(seed))
        if not await PasswordToken.exists().where(PasswordToken.token_hash == digest):
            now = utc_now()
            await PasswordToken.insert(
                PasswordToken(
                    token_hash=digest,
                    account=int(account["id"]),
                    purpose="reset",
                    created_at=now,
                    expires_at=now + RESET_LIFETIME,
                )
            )
    return seed


async def request_password_reset(email: str, address: str, locale: str) -> None:
    """Queue a reset mail for this e-mail; say nothing either way (no account probing).

    The request never looks at accounts: it records the request and queues the job for a known
    and an unknown e-mail alike (the job mails only an active account). Beyond
    `MAX_RESETS_PER_EMAIL` for the e-mail or `MAX_RESETS_PER_ADDRESS` from the address within
    `RESET_WINDOW`, it records and queues nothing, and still says nothing.
    """
    email = normalise_email(email)[:254]
    address = address[:64]
    async with write_transaction():
        await _serialise((_RESET_EMAIL_LOCK, email), (_RESET_ADDRESS_LOCK, address))
        now = utc_now()
        since = now - RESET_WINDOW
        by_email = await PasswordResetRequest.count().where(
            (PasswordResetRequest.email == email) & (PasswordResetRequest.at > since)
        )
        by_address = await PasswordResetRequest.count().where(
            (PasswordResetRequest.address == address) & (PasswordResetRequest.at > since)
        )
        if by_email >= MAX_RESETS_PER_EMAIL or by_address >= MAX_RESETS_PER_ADDRESS:
            return
        await PasswordResetRequest.delete().where(PasswordResetRequest.at < now - ATTEMPTS_KEPT)
        await PasswordResetRequest.insert(
            PasswordResetRequest(email=email, address=address, at=now)
        )
        await enqueue(PASSWORD_MAIL_JOB, {"to": email, "purpose": "reset", "locale": locale})


async def token_is_valid(token: str) -> bool:
    row = (
        await PasswordToken.select(PasswordToken.id)
        .where(
            (PasswordToken.token_hash == token_digest(token))
            & PasswordToken.used_at.is_null()
            & (PasswordToken.expires_at > utc_now())
        )
        .first()
    )
    return row is not None


async def reset_password(token: str, new: str) -> int:
    """Spend the link and set the password; returns the account id. Every session ends."""
    problem = password_problem(new)
    if problem:
        raise ValidationErrors({"new": problem})
    new_hash = await hash_password(new)
    async with write_transaction():
        query = PasswordToken.select(PasswordToken.id, PasswordToken.account).where(
            (PasswordToken.token_hash == token_digest(token))
            & PasswordToken.used_at.is_null()
            & (PasswordToken.expires_at > utc_now())
        )
        if is_postgres():
            query = query.lock_rows("UPDATE")
        row = await query.first()
        if row is None:
            raise RuleViolation(N_("This link has expired or was already used"))
        account_id = int(row["account"])
        await PasswordToken.update({PasswordToken.used_at: utc_now()}).where(
            PasswordToken.id == row["id"]
        )
        await Account.update(
            {Account.password_hash: new_hash, Account.password_changed_at: utc_now()}
        ).where(Account.id == account_id)
        await end_all_sessions(account_id)
        await record_audit(
            Actor(id=account_id, label=f"account:{account_id}"),
            "account.password.reset",
            "account",
            account_id,
        )
    return account_id


async def prune_login_attempts(settings: Settings, batch: int) -> int:
    """Housekeeping: the password checks older than `ATTEMPTS_KEPT` (the throttle counts the last
    `THROTTLE_WINDOW`; a login deletes them too, but only when someone logs in)."""
    return await delete_in_batches(LoginAttempt, LoginAttempt.at < utc_now() - ATTEMPTS_KEPT, batch)


async def prune_reset_requests(settings: Settings, batch: int) -> int:
    """Housekeeping: the reset requests older than `ATTEMPTS_KEPT` (the throttle counts the last
    `RESET_WINDOW`)."""
    old = PasswordResetRequest.at < utc_now() - ATTEMPTS_KEPT
    return await delete_in_batches(PasswordResetRequest, old, batch)


async def prune_password_links(settings: Settings, batch: int) -> int:
    """Housekeeping: the password links expired for longer than LINJU_KEEP_PASSWORD_LINKS (used
    or not, an expired link is refused; its audit record, if it was used, stays)."""
    if settings.keep_password_links is None:
        return 0
    old = PasswordToken.expires_at < utc_now() - settings.keep_password_links
    return await delete_in_batches(PasswordToken, old, batch)
