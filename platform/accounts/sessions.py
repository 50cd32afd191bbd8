"""Server-side sessions in the database, shared by every worker.

The cookie holds a random id (256 bits); the table holds only its SHA-256, so a copy of the
database does not hand out live sessions. Every login makes a new id (no session fixation);
logout deletes the row; a session expires after `SESSION_LIFETIME` whatever happens.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from linju.platform.accounts.services import CurrentUser, load_user
from linju.platform.accounts.tables import Session
from linju.platform.db import write_transaction
from linju.platform.jobs.housekeeping import delete_in_batches
from linju.platform.kernel.clock import utc_now
from linju.platform.settings import Settings

SESSION_COOKIE = "linju_session"
SESSION_LIFETIME = timedelta(days=14)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


async def start_session(account_id: int, replacing: str | None = None) -> str:
    """A new session for the account; the id the browser held before (if any) is dropped."""
    token = secrets.token_urlsafe(32)
    now = utc_now()
    async with write_transaction():
        if replacing:
            await Session.delete().where(Session.token_hash == token_digest(replacing))
        await Session.delete().where(Session.expires_at < now)  # housekeeping, indexed
        await Session.insert(
            Session(
                token_hash=token_digest(token),
                account=account_id,
                created_at=now,
                expires_at=now + SESSION_LIFETIME,
            )
        )
    return token


async def end_session(token: str) -> None:
    async with write_transaction():
        await Session.delete().where(Session.token_hash == token_digest(token))


async def end_all_sessions(account_id: int) -> None:
    """After a password change or reset, every other device must log in again."""
    await Session.delete().where(Session.account == account_id)


async def user_for_token(token: str | None) -> CurrentUser | None:
    if not token or len(token) > 100:
        return None
    row = (
        await Session.select(Session.account)
        .where((Session.token_hash == token_digest(token)) & (Session.expires_at > utc_now()))
        .first()
    )
    if row is None:
        return None
    return await load_user(int(row["account"]))


async def prune_expired_sessions(settings: Settings, batch: int) -> int:
    """Housekeeping: delete the sessions past their expiry (refused already; a login deletes
    them too, but only when someone logs in)."""
    return await delete_in_batches(Session, Session.expires_at < utc_now(), batch)
