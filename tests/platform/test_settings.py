"""Settings: contract.md's table, validated at start, one message naming the bad setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from linju.platform import settings as settings_module
from linju.platform.settings import SettingsError, load_settings

NAMES = (
    "DATABASE_URL",
    "LINJU_BASE_URL",
    "LINJU_SECRET_KEY",
    "LINJU_PAYMENT_GATEWAY",
    "LINJU_SANDBOX_WEBHOOK_SECRET",
    "STRIPE_API_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "STRIPE_API_BASE",
    "LINJU_DEFAULT_LOCALE",
    "LINJU_MAX_DONATION_FEN",
    "LINJU_SECURE_COOKIES",
    "LINJU_ALLOW_SANDBOX",
    "LINJU_MIGRATE_DATABASE_URL",
)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LINJU_VAR_DIR", str(tmp_path / "var"))
    return tmp_path


def test_defaults_follow_the_contract(clean_env: Path) -> None:
    settings = load_settings(env_file=clean_env / "absent.env")
    assert settings.database_url == "sqlite:///var/linju.db"
    assert settings.base_url == "http://127.0.0.1:8000"
    assert settings.payment_gateway == "sandbox"
    assert settings.default_locale == "zh_CN"
    assert settings.max_donation_fen == 5_000_000
    assert not settings.secure_cookies


def test_secrets_are_generated_once_and_kept(clean_env: Path) -> None:
    first = load_settings(env_file=clean_env / "absent.env")
    second = load_settings(env_file=clean_env / "absent.env")
    assert len(first.secret_key) >= 32
    assert first.secret_key == second.secret_key
    assert first.sandbox_webhook_secret == second.sandbox_webhook_secret
    assert first.secret_key != first.sandbox_webhook_secret
    assert (clean_env / "var" / "secret_key").stat().st_mode & 0o077 == 0


def test_dotenv_is_read_and_the_environment_wins(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = clean_env / ".env"
    env_file.write_text(
        "LINJU_DEFAULT_LOCALE=en\nLINJU_BASE_URL=https://linju.example\nLINJU_ALLOW_SANDBOX=true\n"
    )
    assert load_settings(env_file=env_file).default_locale == "en"
    assert load_settings(env_file=env_file).secure_cookies
    monkeypatch.setenv("LINJU_DEFAULT_LOCALE", "zh_CN")
    assert load_settings(env_file=env_file).default_locale == "zh_CN"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", "mysql://x/y"),
        ("DATABASE_URL", "sqlite://"),
        ("DATABASE_URL", "postgresql://127.0.0.1:notaport/db"),
        ("DATABASE_URL", "postgresql://127.0.0.1:5432/"),
        ("LINJU_BASE_URL", "ftp://example.org"),
        ("LINJU_BASE_URL", "not a url"),
        ("LINJU_SECRET_KEY", "short"),
        ("LINJU_PAYMENT_GATEWAY", "paypal"),
        ("LINJU_DEFAULT_LOCALE", "fr"),
        ("STRIPE_WEBHOOK_SECRET", "not-whsec"),
        ("STRIPE_API_BASE", "localhost:12111"),
        ("LINJU_MAX_DONATION_FEN", "50000.5"),
        ("LINJU_MAX_DONATION_FEN", "-1"),
        ("LINJU_SECURE_COOKIES", "maybe"),
    ],
)
def test_a_malformed_setting_is_named(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as raised:
        load_settings(env_file=clean_env / "absent.env")
    assert str(raised.value).startswith(f"{name}:")
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize("missing", ["STRIPE_API_KEY", "STRIPE_WEBHOOK_SECRET"])
def test_stripe_needs_its_keys(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, missing: str
) -> None:
    monkeypatch.setenv("LINJU_PAYMENT_GATEWAY", "stripe")
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_123")
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_abc")
    monkeypatch.delenv(missing)
    with pytest.raises(SettingsError, match=f"^{missing}:"):
        load_settings(env_file=clean_env / "absent.env")


def test_postgres_urls_are_accepted_and_normalised(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/linju")
    settings = load_settings(env_file=clean_env / "absent.env")
    assert settings.database_url == "postgresql://postgres@127.0.0.1:5432/linju"


def test_the_owners_url_names_the_same_postgres_database(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    absent = clean_env / "absent.env"
    assert load_settings(env_file=absent).migrate_database_url is None
    monkeypatch.setenv("DATABASE_URL", "postgresql://linju_app:a@db.internal/linju")
    monkeypatch.setenv(
        "LINJU_MIGRATE_DATABASE_URL", "postgres://linju_owner:o@db.internal:5432/linju"
    )
    assert load_settings(env_file=absent).migrate_database_url == (
        "postgresql://linju_owner:o@db.internal:5432/linju"
    )
    for owner_url, message in [
        ("postgresql://linju_owner@db.internal/other", "must name the database DATABASE_URL"),
        ("postgresql://linju_owner@elsewhere/linju", "must name the database DATABASE_URL"),
        ("sqlite:///var/linju.db", "must be a postgresql:// URL"),
        ("mysql://x@db/linju", "must start with sqlite:/// or postgresql://"),
    ]:
        monkeypatch.setenv("LINJU_MIGRATE_DATABASE_URL", owner_url)
        with pytest.raises(SettingsError, match=f"^LINJU_MIGRATE_DATABASE_URL: {message}"):
            load_settings(env_file=absent)
    monkeypatch.setenv("DATABASE_URL", "sqlite:///var/linju.db")
    monkeypatch.setenv("LINJU_MIGRATE_DATABASE_URL", "postgresql://linju_owner@db.internal/linju")
    with pytest.raises(SettingsError, match=r"^LINJU_MIGRATE_DATABASE_URL: needs a PostgreSQL"):
        load_settings(env_file=absent)


def test_get_settings_is_cached() -> None:
    assert settings_module.get_settings() is settings_module.get_settings()


def test_the_sandbox_is_refused_on_an_https_site_unless_allowed(clean_env: Path) -> None:
    env = clean_env / "https.env"
    env.write_text("LINJU_BASE_URL=https://linju.example.cn\n", encoding="utf-8")
    with pytest.raises(SettingsError) as refused:
        load_settings(env_file=env)
    assert str(refused.value).startswith("LINJU_PAYMENT_GATEWAY: the sandbox takes no real money")
    env.write_text(
        "LINJU_BASE_URL=https://linju.example.cn\nLINJU_ALLOW_SANDBOX=true\n", encoding="utf-8"
    )
    assert load_settings(env_file=env).allow_sandbox
    http = clean_env / "http.env"
    http.write_text("LINJU_BASE_URL=http://127.0.0.1:8000\n", encoding="utf-8")
    assert load_settings(env_file=http).payment_gateway == "sandbox"  # a developer's machine
