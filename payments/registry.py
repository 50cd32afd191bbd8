"""The list of payment gateways, and the one factory that picks a gateway from settings.

A new provider adds its name and one line here, and its name to `platform.settings.GATEWAYS`
(the shell cannot import this list; see there): the two must agree or nothing starts.
"""

from __future__ import annotations

from collections.abc import Callable

from linju.payments.gateway import GatewayError, PaymentGateway
from linju.platform.kernel.errors import N_
from linju.platform.settings import GATEWAYS, Settings, get_settings

SANDBOX = "sandbox"
STRIPE = "stripe"
# How the donation's review page names the gateway that takes the money (message ids).
LABELS = {
    SANDBOX: N_("The sandbox: a test checkout on this site, no real money"),
    STRIPE: N_("Stripe: bank card, Alipay or WeChat Pay"),
}


def _sandbox(settings: Settings) -> PaymentGateway:
    from linju.payments.sandbox import SandboxGateway

    return SandboxGateway(settings.base_url, settings.sandbox_webhook_secret)


def _stripe(settings: Settings) -> PaymentGateway:
    from linju.payments.stripe_gateway import StripeGateway

    if not settings.stripe_api_key or not settings.stripe_webhook_secret:
        raise GatewayError("Stripe is not configured (STRIPE_API_KEY, STRIPE_WEBHOOK_SECRET)")
    return StripeGateway(
        api_key=settings.stripe_api_key,
        webhook_secret=settings.stripe_webhook_secret,
        api_base=settings.stripe_api_base,
    )


FACTORIES: dict[str, Callable[[Settings], PaymentGateway]] = {
    SANDBOX: _sandbox,
    STRIPE: _stripe,
}
if tuple(FACTORIES) != GATEWAYS:
    raise RuntimeError(f"payments/registry.py has {tuple(FACTORIES)}, settings allow {GATEWAYS}")
_cache: dict[tuple[str, Settings], PaymentGateway] = {}


def gateway_named(name: str, settings: Settings | None = None) -> PaymentGateway:
    """A gateway by name (webhook routes know which provider calls them)."""
    settings = settings or get_settings()
    factory = FACTORIES.get(name)
    if factory is None:
        raise GatewayError(f"no payment gateway {name!r}")
    key = (name, settings)
    if key not in _cache:
        _cache[key] = factory(settings)
    return _cache[key]


def configured_gateway(settings: Settings | None = None) -> PaymentGateway:
    """The gateway new donations go through (LINJU_PAYMENT_GATEWAY)."""
    settings = settings or get_settings()
    return gateway_named(settings.payment_gateway, settings)
