"""The registry is the list of gateways; settings accept exactly the names it lists."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from linju.payments.registry import FACTORIES, gateway_named
from linju.platform.settings import GATEWAYS, SettingsError, load_settings


def test_every_gateway_settings_accept_is_built_under_its_own_name(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("LINJU_VAR_DIR", str(tmp_path))
    settings = replace(
        load_settings(env_file=tmp_path / "absent.env"),
        stripe_api_key="sk_test_registry",
        stripe_webhook_secret="whsec_registry",
    )
    assert tuple(FACTORIES) == GATEWAYS
    for name in GATEWAYS:
        assert gateway_named(name, settings).name == name


def test_a_gateway_settings_do_not_know_is_refused_naming_the_choices(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("LINJU_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("LINJU_PAYMENT_GATEWAY", "paypal")
    with pytest.raises(SettingsError, match=r"^LINJU_PAYMENT_GATEWAY: must be one of") as refused:
        load_settings(env_file=tmp_path / "absent.env")
    assert all(name in str(refused.value) for name in GATEWAYS)
