"""Password hashing with argon2id (argon2-cffi's defaults follow RFC 9106's recommendations).

Hashing and verifying cost tens of milliseconds of CPU on purpose; they run in a thread so one
login does not stall every other request on the event loop.
"""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from linju.platform.kernel.errors import N_

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256

_hasher = PasswordHasher()  # argon2id
# Verified when an e-mail has no account, so a login takes as long whether or not it exists.
_DUMMY_HASH = _hasher.hash("linju-dummy-password-for-constant-time")


def password_problem(password: str) -> str | None:
    """Why a new password is refused (a message id), or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return N_("A password needs at least 10 characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        return N_("A password can have at most 256 characters")
    return None


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


def _verify(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and bool(stored_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when `password` matches; an empty or missing hash never matches (but costs the same)."""
    return await asyncio.to_thread(_verify, stored_hash or "", password)
