"""Webhook signatures in Stripe's scheme, for every provider that signs that way.

Header: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` (several `v1` allowed, for
secret rotation). A signature is believed only if one `v1` matches in constant time and `t` is
within the tolerance of now, so a captured callback cannot be replayed later. The sandbox signs
with this module and both webhook routes verify with it: one code path, tested against
stripe-python's own verifier.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from linju.payments.gateway import InvalidSignature

DEFAULT_TOLERANCE_SECONDS = 300
SCHEME = "v1"


def compute_signature(body: bytes, secret: str, timestamp: int) -> str:
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def sign(body: bytes, secret: str, timestamp: int | None = None) -> str:
    """The signature header for `body`, as the provider sends it."""
    moment = int(time.time()) if timestamp is None else timestamp
    return f"t={moment},{SCHEME}={compute_signature(body, secret, moment)}"


def _parse_header(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep:
            raise InvalidSignature("malformed signature header")
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError as exc:
                raise InvalidSignature("malformed timestamp in signature header") from exc
        elif key == SCHEME:
            signatures.append(value)
    if timestamp is None:
        raise InvalidSignature("no timestamp in signature header")
    if not signatures:
        raise InvalidSignature(f"no {SCHEME} signature in signature header")
    return timestamp, signatures


def verify(
    body: bytes,
    header: str | None,
    secret: str,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
    now: int | None = None,
) -> None:
    """Raise InvalidSignature unless `header` signs `body` with `secret`, recently enough."""
    if not header:
        raise InvalidSignature("no signature header")
    if not secret:
        raise InvalidSignature("no webhook secret configured")
    timestamp, signatures = _parse_header(header)
    expected = compute_signature(body, secret, timestamp)
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise InvalidSignature("signature does not match")
    moment = int(time.time()) if now is None else now
    if abs(moment - timestamp) > tolerance:
        raise InvalidSignature("signature timestamp outside the tolerance")
