"""Webhook signatures: Stripe's scheme, checked against an independent HMAC and stripe-python."""

from __future__ import annotations

import hashlib
import hmac

import pytest
import stripe

from linju.payments import signatures
from linju.payments.gateway import InvalidSignature

SECRET = "whsec_test_secret_0123456789abcdef"
BODY = b'{"id":"evt_1","type":"checkout.session.completed"}'
NOW = 1_764_000_000


def _independent_header(body: bytes, secret: str, t: int) -> str:
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def test_a_good_signature_is_believed() -> None:
    signatures.verify(BODY, _independent_header(BODY, SECRET, NOW), SECRET, now=NOW)
    assert signatures.sign(BODY, SECRET, NOW) == _independent_header(BODY, SECRET, NOW)


def test_rotation_any_matching_v1_is_enough() -> None:
    good = _independent_header(BODY, SECRET, NOW).split("v1=")[1]
    signatures.verify(BODY, f"t={NOW},v1={'0' * 64},v1={good},v0=ignored", SECRET, now=NOW)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "garbage",
        "t=abc,v1=00",
        f"v1={'0' * 64}",
        f"t={NOW}",
        f"t={NOW},v0={'0' * 64}",
        f"t={NOW},v1={'0' * 64}",
    ],
)
def test_bad_or_malformed_headers_are_refused(header: str | None) -> None:
    with pytest.raises(InvalidSignature):
        signatures.verify(BODY, header, SECRET, now=NOW)


def test_a_changed_body_or_another_secret_is_refused() -> None:
    header = _independent_header(BODY, SECRET, NOW)
    with pytest.raises(InvalidSignature):
        signatures.verify(BODY + b" ", header, SECRET, now=NOW)
    with pytest.raises(InvalidSignature):
        signatures.verify(BODY, header, SECRET + "x", now=NOW)


def test_stale_signatures_are_refused_at_300_seconds() -> None:
    signatures.verify(BODY, _independent_header(BODY, SECRET, NOW - 300), SECRET, now=NOW)
    with pytest.raises(InvalidSignature):
        signatures.verify(BODY, _independent_header(BODY, SECRET, NOW - 301), SECRET, now=NOW)
    with pytest.raises(InvalidSignature):
        signatures.verify(BODY, _independent_header(BODY, SECRET, NOW + 301), SECRET, now=NOW)


def test_stripe_python_accepts_what_we_sign_and_we_accept_what_it_accepts() -> None:
    header = signatures.sign(BODY, SECRET)
    assert stripe.WebhookSignature.verify_header(BODY.decode(), header, SECRET, tolerance=300)
    signatures.verify(BODY, header, SECRET)
