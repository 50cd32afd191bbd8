"""The fake Stripe as the configured gateway, for any test that asks for `fake_stripe`.

A pytest plugin (registered in tests/conftest.py), so every module uses the same fixtures
instead of its own copy. `stripe_client` is the shared `client`, started after `fake_stripe` set
the Stripe settings the app is built on.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from linju.platform.settings import get_settings
from tests.client_support import AppClient
from tests.fakes.stripe_server import FakeStripe, running_fake_stripe

WEBHOOK_SECRET = "whsec_test_" + "s" * 32
STRIPE_ENV = {
    "LINJU_PAYMENT_GATEWAY": "stripe",
    "STRIPE_API_KEY": "sk_test_linju_fake",
    "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
}


@pytest.fixture
def fake_stripe() -> Iterator[FakeStripe]:
    """The fake Stripe, the configured gateway for this test."""
    with running_fake_stripe() as fake:
        os.environ.update({**STRIPE_ENV, "STRIPE_API_BASE": fake.url})
        get_settings.cache_clear()
        try:
            yield fake
        finally:
            for name in (*STRIPE_ENV, "STRIPE_API_BASE"):
                os.environ.pop(name, None)
            get_settings.cache_clear()


@pytest.fixture
def stripe_client(fake_stripe: FakeStripe, client: AppClient) -> AppClient:
    """The app, started after `fake_stripe` set the Stripe settings it is built on."""
    return client
