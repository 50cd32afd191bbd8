"""Settings from the environment and `.env`, validated once at start.

A setting that is missing or malformed must stop the program with one line that names it
(contract.md), so every check raises `SettingsError` whose message starts with the variable's name.
Settings are a frozen dataclass behind a cached `get_settings()`: read once, never mutated.
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import dotenv_values

# The payment gateways LINJU_PAYMENT_GATEWAY may name, the first the default. The list of
# gateways is payments/registry.py, but the shell imports no area, so their names are kept here
# and the registry refuses to load unless its gateways are exactly these: a new gateway is named
# in both places, and every message and choice about gateways is made from this tuple.
GATEWAYS = ("sandbox", "stripe")
LOCALES = ("zh_CN", "en")


class SettingsError(Exception):
    """A setting is missing or malformed; the message names it."""


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str
    base_url: str
    secret_key: str
    payment_gateway: str
    sandbox_webhook_secret: str
    stripe_api_key: str | None
    stripe_webhook_secret: str | None
    stripe_api_base: str | None
    default_locale: str
    var_dir: Path
    max_donation_fen: int
    secure_cookies: bool
    smtp_url: str | None = None  # smtp:// or smtps://user:password@host:port; None: console
    mail_from: str = "linju@localhost"
    # Uploads: None is the local folder var/uploads; else the S3 bucket and key prefix.
    s3_bucket: str | None = None
    s3_prefix: str = ""
    s3_endpoint_url: str | None = None  # an S3-compatible server; None: AWS itself
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None
    # How often the worker asks the payment provider what happened (None: never, by schedule).
    reconcile_every: timedelta | None = timedelta(hours=1)
    # Whether `linju serve` runs the SQLite job runner in-process (always off on PostgreSQL,
    # where `linju worker` processes run the jobs).
    run_jobs_in_serve: bool = True
    # The sandbox takes no real money: on an https site it runs only when this says so.
    allow_sandbox: bool = False
    # PostgreSQL: the owner role's URL, through which `linju migrate` (and the migration step of
    # serve, worker, demo and jobs) applies migrations; None: through DATABASE_URL
    # (docs/adr/0016-database-roles.md).
    migrate_database_url: str | None = None
    # The transparency log (docs/transparency.md): its origin (also its key's name), its signer
    # key (None: generated once into var/log_key by the log), the witnesses as (submission
    # prefix, verifier key) and how many cosignatures a receipt needs (None: all of them).
    log_origin: str = "127.0.0.1:8000/log"
    log_key: str | None = None
    witnesses: tuple[tuple[str, str], ...] = ()
    witness_quorum: int | None = None
    # Housekeeping (docs/adr/0039-housekeeping.md): how often the daily job deletes what is of
    # no further use (None: never by schedule; `linju housekeeping run` by hand), how long the
    # job log and its statistics are kept (PostgreSQL), and how long a password link is kept
    # after it expired (None: for ever, both).
    housekeeping_every: timedelta | None = timedelta(days=1)
    keep_job_log: timedelta | None = timedelta(days=14)
    keep_password_links: timedelta | None = timedelta(days=7)


def _read_environment(env_file: Path) -> dict[str, str]:
    """The process environment wins over `.env`, as with every twelve-factor tool."""
    values: dict[str, str] = {}
    if env_file.is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ)
    return values


def _secret_from_file(path: Path, name: str) -> str:
    """Generate a secret once and keep it under var/, so restarts keep sessions and signatures."""
    try:
        if path.is_file():
            value = path.read_text(encoding="utf-8").strip()
            if len(value) >= 32:
                return value
        path.parent.mkdir(parents=True, exist_ok=True)
        value = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(value)
        return value
    except OSError as exc:
        raise SettingsError(f"{name}: cannot read or create {path}: {exc.strerror}") from exc


_VKEY = re.compile(r"^[^+\s]+\+[0-9a-f]{8}\+[A-Za-z0-9+/=]+$")


def _log_origin(value: str | None, base_url: str) -> str:
    if value is None:
        return base_url.split("://", 1)[1].rstrip("/") + "/log"
    if not value or "+" in value or any(c.isspace() for c in value):
        raise SettingsError("LINJU_LOG_ORIGIN: must be non-empty, without spaces or +")
    return value


def _log_key(value: str | None) -> str | None:
    if not value:
        return None
    if not re.match(r"^PRIVATE\+KEY\+[^+\s]+\+[0-9a-f]{8}\+[A-Za-z0-9+/=]+$", value.strip()):
        raise SettingsError("LINJU_LOG_KEY: must be PRIVATE+KEY+<name>+<key ID>+<base64 key>")
    return value.strip()


def _witnesses(value: str | None) -> tuple[tuple[str, str], ...]:
    out = []
    for item in (value or "").split(";"):
        if not item.strip():
            continue
        parts = item.split()
        if len(parts) != 2 or not _VKEY.match(parts[1]):
            raise SettingsError("LINJU_WITNESSES: each witness is `PREFIX VKEY`, separated by ;")
        out.append((_http_url("LINJU_WITNESSES", parts[0]), parts[1]))
    return tuple(out)


def _quorum(value: str | None, witnesses: int) -> int | None:
    if value is None or value == "":
        return None
    if not value.isascii() or not value.isdigit() or int(value) > witnesses:
        raise SettingsError(
            f"LINJU_WITNESS_QUORUM: a whole number from 0 to the {witnesses} witnesses configured"
        )
    return int(value)


def _database_url(value: str, name: str = "DATABASE_URL") -> str:
    parts = urlsplit(value)
    if parts.scheme == "sqlite":
        if not parts.path or parts.path == "/":
            raise SettingsError(
                f"{name}: a SQLite URL needs a file path, e.g. sqlite:///var/linju.db"
            )
        return value
    if parts.scheme in ("postgresql", "postgres"):
        if not parts.hostname or not parts.path.strip("/"):
            raise SettingsError(f"{name}: a PostgreSQL URL needs a host and a database name")
        try:
            parts.port  # noqa: B018 - parsing the port validates it
        except ValueError as exc:
            raise SettingsError(f"{name}: the port is not a number") from exc
        return "postgresql" + value[len(parts.scheme) :]
    raise SettingsError(f"{name}: must start with sqlite:/// or postgresql://")


def _migrate_database_url(value: str | None, database_url: str) -> str | None:
    """`LINJU_MIGRATE_DATABASE_URL`: the owner role's way into the very database DATABASE_URL
    names (same host, port and database name), PostgreSQL only."""
    if not value:
        return None
    name = "LINJU_MIGRATE_DATABASE_URL"
    url = _database_url(value, name)
    if not url.startswith("postgresql"):
        raise SettingsError(f"{name}: must be a postgresql:// URL (SQLite has no roles)")
    if not database_url.startswith("postgresql"):
        raise SettingsError(f"{name}: needs a PostgreSQL DATABASE_URL (SQLite has no roles)")

    def place(address: str) -> tuple[str | None, int, str]:
        parts = urlsplit(address)
        return parts.hostname, parts.port or 5432, parts.path.strip("/")

    if place(url) != place(database_url):
        raise SettingsError(
            f"{name}: must name the database DATABASE_URL names (same host, port and database)"
        )
    return url


def _http_url(name: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(f"{name}: must be an http:// or https:// address, got {value!r}")
    return value.rstrip("/")


def _positive_int(name: str, value: str) -> int:
    try:
        number = int(value)
    except ValueError as exc:
        raise SettingsError(f"{name}: must be a whole number of fen, got {value!r}") from exc
    if number <= 0:
        raise SettingsError(f"{name}: must be positive")
    return number


def _boolean(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise SettingsError(f"{name}: must be true or false, got {value!r}")


def _smtp_url(value: str | None) -> str | None:
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise SettingsError("LINJU_SMTP_URL: must be smtp://host:port or smtps://user:pass@host")
    try:
        parts.port  # noqa: B018 - parsing the port validates it
    except ValueError as exc:
        raise SettingsError("LINJU_SMTP_URL: the port is not a number") from exc
    return value


def _mail_from(value: str) -> str:
    if "@" not in value or any(ch in value for ch in "\r\n"):
        raise SettingsError(f"LINJU_MAIL_FROM: must be an e-mail address, got {value!r}")
    return value


def _storage_url(value: str) -> tuple[str | None, str]:
    """`LINJU_STORAGE_URL`: empty or `local` for var/uploads, or `s3://bucket/prefix`."""
    if value in ("", "local"):
        return None, ""
    parts = urlsplit(value)
    if parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
        raise SettingsError("LINJU_STORAGE_URL: must be local or s3://bucket/prefix")
    return parts.netloc, parts.path.strip("/")


_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _duration(name: str, value: str) -> timedelta | None:
    """`30s`, `15m`, `1h`, `1d`; `0` or `off` turns the schedule off (a retention: keeps for
    ever)."""
    text = value.strip().lower()
    if text in ("0", "off", "never"):
        return None
    unit = _DURATION_UNITS.get(text[-1:]) if text else None
    if unit is None or not text[:-1].isdigit() or int(text[:-1]) <= 0:
        raise SettingsError(f"{name}: must be like 30s, 15m, 1h or 1d, or off; got {value!r}")
    return timedelta(seconds=int(text[:-1]) * unit)


def load_settings(env_file: Path | None = None) -> Settings:
    """Read and validate every setting; raise SettingsError naming the first bad one."""
    env = _read_environment(env_file or Path(".env"))
    var_dir = Path(env.get("LINJU_VAR_DIR", "var"))
    database_url = _database_url(env.get("DATABASE_URL", "sqlite:///var/linju.db"))
    base_url = _http_url("LINJU_BASE_URL", env.get("LINJU_BASE_URL", "http://127.0.0.1:8000"))
    gateway = env.get("LINJU_PAYMENT_GATEWAY", GATEWAYS[0])
    if gateway not in GATEWAYS:
        raise SettingsError(f"LINJU_PAYMENT_GATEWAY: must be one of {', '.join(GATEWAYS)}")
    locale = env.get("LINJU_DEFAULT_LOCALE", "zh_CN")
    if locale not in LOCALES:
        raise SettingsError(f"LINJU_DEFAULT_LOCALE: must be one of {', '.join(LOCALES)}")
    secret_key = env.get("LINJU_SECRET_KEY") or _secret_from_file(
        var_dir / "secret_key", "LINJU_SECRET_KEY"
    )
    if len(secret_key) < 32:
        raise SettingsError("LINJU_SECRET_KEY: must be at least 32 characters")
    sandbox_secret = env.get("LINJU_SANDBOX_WEBHOOK_SECRET") or _secret_from_file(
        var_dir / "sandbox_webhook_secret", "LINJU_SANDBOX_WEBHOOK_SECRET"
    )
    stripe_key = env.get("STRIPE_API_KEY") or None
    stripe_secret = env.get("STRIPE_WEBHOOK_SECRET") or None
    stripe_base = env.get("STRIPE_API_BASE") or None
    if gateway == "stripe":
        if not stripe_key:
            raise SettingsError("STRIPE_API_KEY: required when LINJU_PAYMENT_GATEWAY is stripe")
        if not stripe_secret:
            raise SettingsError(
                "STRIPE_WEBHOOK_SECRET: required when LINJU_PAYMENT_GATEWAY is stripe"
            )
    if stripe_secret and not stripe_secret.startswith("whsec_"):
        raise SettingsError("STRIPE_WEBHOOK_SECRET: must start with whsec_")
    if stripe_base:
        stripe_base = _http_url("STRIPE_API_BASE", stripe_base)
    allow_sandbox = _boolean("LINJU_ALLOW_SANDBOX", env.get("LINJU_ALLOW_SANDBOX", "false"))
    if gateway == GATEWAYS[0] and base_url.startswith("https://") and not allow_sandbox:
        raise SettingsError(
            "LINJU_PAYMENT_GATEWAY: the sandbox takes no real money; a public (https) site needs "
            "stripe, or LINJU_ALLOW_SANDBOX=true for a demonstration"
        )
    witnesses = _witnesses(env.get("LINJU_WITNESSES"))
    s3_bucket, s3_prefix = _storage_url(env.get("LINJU_STORAGE_URL", "").strip())
    s3_endpoint = env.get("LINJU_S3_ENDPOINT_URL") or None
    if s3_endpoint:
        s3_endpoint = _http_url("LINJU_S3_ENDPOINT_URL", s3_endpoint)
    return Settings(
        database_url=database_url,
        base_url=base_url,
        secret_key=secret_key,
        payment_gateway=gateway,
        sandbox_webhook_secret=sandbox_secret,
        stripe_api_key=stripe_key,
        stripe_webhook_secret=stripe_secret,
        stripe_api_base=stripe_base,
        default_locale=locale,
        var_dir=var_dir,
        max_donation_fen=_positive_int(
            "LINJU_MAX_DONATION_FEN", env.get("LINJU_MAX_DONATION_FEN", "5000000")
        ),
        secure_cookies=_boolean(
            "LINJU_SECURE_COOKIES",
            env.get("LINJU_SECURE_COOKIES", str(base_url.startswith("https"))),
        ),
        smtp_url=_smtp_url(env.get("LINJU_SMTP_URL")),
        mail_from=_mail_from(env.get("LINJU_MAIL_FROM", "linju@localhost")),
        s3_bucket=s3_bucket,
        s3_prefix=s3_prefix,
        s3_endpoint_url=s3_endpoint,
        s3_region=env.get("LINJU_S3_REGION") or "us-east-1",
        s3_access_key_id=env.get("LINJU_S3_ACCESS_KEY_ID") or None,
        s3_secret_access_key=env.get("LINJU_S3_SECRET_ACCESS_KEY") or None,
        reconcile_every=_duration("LINJU_RECONCILE_EVERY", env.get("LINJU_RECONCILE_EVERY", "1h")),
        allow_sandbox=allow_sandbox,
        migrate_database_url=_migrate_database_url(
            env.get("LINJU_MIGRATE_DATABASE_URL"), database_url
        ),
        run_jobs_in_serve=_boolean(
            "LINJU_RUN_JOBS_IN_SERVE", env.get("LINJU_RUN_JOBS_IN_SERVE", "true")
        ),
        log_origin=_log_origin(env.get("LINJU_LOG_ORIGIN"), base_url),
        log_key=_log_key(env.get("LINJU_LOG_KEY")),
        witnesses=witnesses,
        witness_quorum=_quorum(env.get("LINJU_WITNESS_QUORUM"), len(witnesses)),
        housekeeping_every=_duration(
            "LINJU_HOUSEKEEPING_EVERY", env.get("LINJU_HOUSEKEEPING_EVERY", "1d")
        ),
        keep_job_log=_duration("LINJU_KEEP_JOB_LOG", env.get("LINJU_KEEP_JOB_LOG", "14d")),
        keep_password_links=_duration(
            "LINJU_KEEP_PASSWORD_LINKS", env.get("LINJU_KEEP_PASSWORD_LINKS", "7d")
        ),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
