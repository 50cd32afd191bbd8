"""docker-compose.yml is the production shape (docs/adr/0013-production-shape.md), read as data.

No Docker is needed: the file is parsed with PyYAML, its `${VAR}` placeholders are filled in the
way compose fills them, and the environment each app process would get is handed to
`load_settings`, so a misspelt or unknown setting fails here and not on a server. Where the
`docker compose` plugin is installed, `docker compose config` checks the file too; `make
compose-smoke` starts the stack for real on a machine with Docker.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from linju.platform.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
SETTINGS_FILE = ROOT / "platform" / "settings.py"

APP_SERVICES = ("roles", "migrate", "web", "worker")  # the processes of the app image
LONG_RUNNING = ("postgres", "s3", "web", "worker")
ONE_SHOT = ("bucket-init", "roles", "migrate")
# What web and worker must both be given, with the same value (a shared database and bucket).
SHARED_SETTINGS = (
    "DATABASE_URL",
    "LINJU_BASE_URL",
    "LINJU_SECRET_KEY",
    "LINJU_SANDBOX_WEBHOOK_SECRET",
    "LINJU_STORAGE_URL",
    "LINJU_S3_ENDPOINT_URL",
    "LINJU_S3_REGION",
    "LINJU_S3_ACCESS_KEY_ID",
    "LINJU_S3_SECRET_ACCESS_KEY",
)
# Secrets the file must not carry a value for: compose refuses to start without them.
REQUIRED_SECRETS = (
    "LINJU_SECRET_KEY",
    "LINJU_SANDBOX_WEBHOOK_SECRET",
    "LINJU_S3_SECRET_ACCESS_KEY",
)
# The values a test run gives the variables that have no default.
TEST_ENVIRONMENT = {name: f"test-{name.lower()}-" + "x" * 32 for name in REQUIRED_SECRETS}
# The compose file names no default gateway (the sandbox takes no real money): the operator must.
TEST_ENVIRONMENT["LINJU_PAYMENT_GATEWAY"] = "sandbox"

# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message}, ${NAME?message}; $$ is a `$`.
PLACEHOLDER = re.compile(
    r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
)


class UnsetVariableError(Exception):
    pass


def interpolate(text: str, environment: Mapping[str, str]) -> str:
    """Fill the placeholders as compose does (only the forms this file uses)."""

    def fill(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group("name"), match.group("op"), match.group("arg") or ""
        value = environment.get(name)
        is_unset = value is None or (value == "" and op is not None and op.startswith(":"))
        if op in (":?", "?") and is_unset:
            raise UnsetVariableError(f"{name}: {arg}")
        if op in (":-", "-") and is_unset:
            return arg
        return value or ""

    return PLACEHOLDER.sub(fill, text)


def _as_dict(value: object) -> dict[str, Any]:
    assert isinstance(value, dict), value
    return value


def _raw() -> dict[str, Any]:
    return _as_dict(yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8")))


def _services(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: _as_dict(service) for name, service in _as_dict(document["services"]).items()}


def _environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment, as a mapping of strings (compose accepts a list too)."""
    raw = service.get("environment", {})
    if isinstance(raw, list):
        raw = dict(item.split("=", 1) for item in raw)
    return {str(name): "" if value is None else str(value) for name, value in raw.items()}


def _command(service: dict[str, Any]) -> list[str]:
    command = service.get("command", [])
    return shlex.split(command) if isinstance(command, str) else [str(part) for part in command]


def _depends_on(service: dict[str, Any]) -> dict[str, str]:
    raw = service.get("depends_on", {})
    if isinstance(raw, list):
        return dict.fromkeys(raw, "service_started")
    return {name: _as_dict(spec).get("condition", "service_started") for name, spec in raw.items()}


@pytest.fixture(scope="module")
def raw_services() -> dict[str, dict[str, Any]]:
    """The services as written, placeholders and all."""
    return _services(_raw())


def interpolate_values(node: object, environment: Mapping[str, str]) -> object:
    """Fill the placeholders of every string of the parsed file (compose fills values, after
    parsing, so `${UNSET:-}` is an empty string, not YAML's null)."""
    if isinstance(node, str):
        return interpolate(node, environment)
    if isinstance(node, dict):
        return {key: interpolate_values(value, environment) for key, value in node.items()}
    if isinstance(node, list):
        return [interpolate_values(item, environment) for item in node]
    return node


@pytest.fixture(scope="module")
def services() -> dict[str, dict[str, Any]]:
    """The services with every placeholder filled from TEST_ENVIRONMENT or its default."""
    return _services(_as_dict(interpolate_values(_raw(), TEST_ENVIRONMENT)))


def settings_read_by_the_app() -> set[str]:
    """Every variable name platform/settings.py reads with `env.get("NAME"`."""
    source = SETTINGS_FILE.read_text(encoding="utf-8")
    return set(re.findall(r'env\.get\(\s*"([A-Z][A-Z0-9_]*)"', source))


def s3_service_name(services: dict[str, dict[str, Any]]) -> str:
    host = urlsplit(_environment(services["web"])["LINJU_S3_ENDPOINT_URL"]).hostname
    assert host is not None
    return host


def load_with(
    environment: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Settings:
    """load_settings with exactly this environment (no .env, nothing of the test run's)."""
    for name in [*settings_read_by_the_app(), "LINJU_VAR_DIR"]:
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("LINJU_VAR_DIR", str(tmp_path / "var"))
    return load_settings(env_file=tmp_path / "absent.env")


def test_the_placeholders_are_filled_as_compose_fills_them() -> None:
    env = {"SET": "value", "EMPTY": ""}
    assert interpolate("${SET} ${SET:-d} ${EMPTY:-d} ${EMPTY-d} ${UNSET-d} $$SET", env) == (
        "value value d  d $SET"
    )
    with pytest.raises(UnsetVariableError, match="EMPTY: say so"):
        interpolate("${EMPTY:?say so}", env)


def test_every_part_of_the_shape_is_there(services: dict[str, dict[str, Any]]) -> None:
    assert {"postgres", "web", "worker", "migrate", "bucket-init"} <= set(services)
    assert s3_service_name(services) in services
    assert "seaweedfs" in services[s3_service_name(services)]["image"]


def test_images_are_pinned_and_none_is_minio(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        image = str(service.get("image", ""))
        assert image, f"{name}: give the image a name and tag"
        assert "minio" not in image.lower(), f"{name}: MinIO's community edition is unmaintained"
        if "@sha256:" in image:
            continue
        last_part = image.rsplit("/", 1)[-1]
        assert ":" in last_part, f"{name}: {image} is not pinned to a tag"
        assert last_part.rsplit(":", 1)[1] != "latest", f"{name}: {image} is pinned to latest"


def test_the_app_image_is_built_once_and_used_by_every_app_process(
    services: dict[str, dict[str, Any]],
) -> None:
    builders = [name for name, service in services.items() if "build" in service]
    assert builders == ["web"]
    assert {services[name]["image"] for name in APP_SERVICES} == {services["web"]["image"]}


def test_web_serves_two_workers_on_every_interface(services: dict[str, dict[str, Any]]) -> None:
    command = _command(services["web"])
    assert command[:2] == ["linju", "serve"]
    assert command[command.index("--workers") + 1] == "2"
    assert command[command.index("--host") + 1] == "0.0.0.0"  # noqa: S104 - inside its container
    port = command[command.index("--port") + 1]
    assert f"127.0.0.1:{port}:{port}" in services["web"]["ports"]


def test_worker_and_migrate_run_their_commands(services: dict[str, dict[str, Any]]) -> None:
    assert _command(services["worker"]) == ["linju", "worker"]
    assert _command(services["migrate"]) == ["linju", "migrate"]


def test_web_and_worker_share_the_database_the_bucket_and_the_secrets(
    services: dict[str, dict[str, Any]],
) -> None:
    web, worker, migrate = (_environment(services[name]) for name in ("web", "worker", "migrate"))
    for name in SHARED_SETTINGS:
        assert web.get(name), f"web lacks {name}"
        assert worker.get(name) == web[name], f"worker's {name} differs from web's"
        assert migrate.get(name) == web[name], f"migrate's {name} differs from web's"
    assert urlsplit(web["DATABASE_URL"]).hostname == "postgres"
    assert web["LINJU_STORAGE_URL"].startswith("s3://")
    assert web["LINJU_RUN_JOBS_IN_SERVE"] == "false"


def test_secrets_have_no_default_in_the_file(raw_services: dict[str, dict[str, Any]]) -> None:
    for service in APP_SERVICES:
        environment = _environment(raw_services[service])
        for name in REQUIRED_SECRETS:
            assert re.fullmatch(rf"\$\{{{name}:\?[^}}]+\}}", environment[name]), (
                f"{service}: {name} must be ${{{name}:?message}}, not {environment[name]!r}"
            )
    with pytest.raises(UnsetVariableError, match="LINJU_SECRET_KEY"):
        interpolate_values(_raw(), {})


def _password_variables(service: dict[str, Any]) -> set[str]:
    """The variables `linju db create-roles` is told to read passwords from."""
    command = _command(service)
    return {command[i + 1] for i, part in enumerate(command) if part.endswith("-password-env")}


def test_every_name_given_to_the_app_is_a_setting_it_reads(
    services: dict[str, dict[str, Any]],
) -> None:
    known = settings_read_by_the_app()
    assert {"DATABASE_URL", "LINJU_STORAGE_URL", "LINJU_S3_ENDPOINT_URL"} <= known  # parsed
    for service in APP_SERVICES:
        allowed = known | _password_variables(services[service])
        unknown = set(_environment(services[service])) - allowed
        assert not unknown, f"{service}: platform/settings.py reads no {sorted(unknown)}"


@pytest.mark.parametrize("service", APP_SERVICES)
def test_the_settings_load_and_select_postgres_and_s3(
    service: str,
    services: dict[str, dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    settings = load_with(_environment(services[service]), monkeypatch, tmp_path)
    assert settings.database_url.startswith("postgresql://")
    assert (settings.s3_bucket, settings.s3_prefix) == ("linju", "uploads")
    assert settings.s3_endpoint_url == f"http://{s3_service_name(services)}:8333"
    assert settings.s3_access_key_id
    assert settings.s3_secret_access_key == TEST_ENVIRONMENT["LINJU_S3_SECRET_ACCESS_KEY"]
    assert settings.secret_key == TEST_ENVIRONMENT["LINJU_SECRET_KEY"]
    assert settings.run_jobs_in_serve is (service != "web")
    assert not (tmp_path / "var").exists(), "no secret may be generated per machine"


def test_migrations_run_as_the_owner_and_the_app_connects_as_a_role_that_owns_nothing(
    services: dict[str, dict[str, Any]],
) -> None:
    """docs/adr/0016-database-roles.md: `roles` makes both roles as PostgreSQL's superuser with
    the passwords the URLs carry; `migrate` reaches the database as the owner, web and worker
    as the application role, and have no way in as the owner."""
    roles = services["roles"]
    command = _command(roles)
    assert command[:3] == ["linju", "db", "create-roles"]
    owner, app = command[command.index("--owner") + 1], command[command.index("--app") + 1]
    assert owner != app
    environment = _environment(roles)
    superuser = urlsplit(environment["DATABASE_URL"])
    postgres = _environment(services["postgres"])
    assert (superuser.username, superuser.password) == (
        postgres["POSTGRES_USER"],
        postgres["POSTGRES_PASSWORD"],
    )

    def password(option: str) -> str:
        return environment[command[command.index(option) + 1]]

    owner_url = urlsplit(_environment(services["migrate"])["LINJU_MIGRATE_DATABASE_URL"])
    assert (owner_url.username, owner_url.password) == (owner, password("--owner-password-env"))
    for name in ("web", "worker", "migrate"):
        app_url = urlsplit(_environment(services[name])["DATABASE_URL"])
        assert (app_url.username, app_url.password) == (app, password("--app-password-env"))
        assert app_url.path == superuser.path == owner_url.path == "/" + postgres["POSTGRES_DB"]
    for name in ("web", "worker"):
        assert "LINJU_MIGRATE_DATABASE_URL" not in _environment(services[name]), name


def test_the_bucket_is_made_with_the_apps_own_credentials(
    services: dict[str, dict[str, Any]],
) -> None:
    app = _environment(services["web"])
    init = services["bucket-init"]
    bucket = urlsplit(app["LINJU_STORAGE_URL"]).netloc
    script = " ".join(_command(init))
    assert f"create-bucket --bucket {bucket}" in script
    assert _environment(init) == {
        "AWS_ACCESS_KEY_ID": app["LINJU_S3_ACCESS_KEY_ID"],
        "AWS_SECRET_ACCESS_KEY": app["LINJU_S3_SECRET_ACCESS_KEY"],
        "AWS_DEFAULT_REGION": app["LINJU_S3_REGION"],
        "AWS_ENDPOINT_URL": app["LINJU_S3_ENDPOINT_URL"],
    }
    # The S3 server's admin identity is that same pair.
    s3 = _environment(services[s3_service_name(services)])
    assert s3["AWS_ACCESS_KEY_ID"] == app["LINJU_S3_ACCESS_KEY_ID"]
    assert s3["AWS_SECRET_ACCESS_KEY"] == app["LINJU_S3_SECRET_ACCESS_KEY"]


def test_web_and_worker_start_after_postgres_migrations_and_bucket(
    services: dict[str, dict[str, Any]],
) -> None:
    for name in ("web", "worker"):
        assert _depends_on(services[name]) == {
            "postgres": "service_healthy",
            "roles": "service_completed_successfully",
            "migrate": "service_completed_successfully",
            "bucket-init": "service_completed_successfully",
        }, name
    assert _depends_on(services["migrate"]) == {
        "postgres": "service_healthy",
        "roles": "service_completed_successfully",
    }
    assert _depends_on(services["roles"]) == {"postgres": "service_healthy"}
    assert _depends_on(services["bucket-init"]) == {s3_service_name(services): "service_healthy"}


def test_one_shot_services_run_once_and_are_waited_for(
    services: dict[str, dict[str, Any]],
) -> None:
    """`docker compose up --wait` takes an exited service for a failure unless a running one
    depends on it completing; a restart policy would run it again and again."""
    for name in ONE_SHOT:
        assert services[name].get("restart", "no") == "no", name
        assert any(
            _depends_on(services[other]).get(name) == "service_completed_successfully"
            for other in LONG_RUNNING
        ), name
    for name in LONG_RUNNING:
        assert services[name].get("restart") == "unless-stopped", name


def test_health_checks(services: dict[str, dict[str, Any]]) -> None:
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert "/healthz" in " ".join(services[s3_service_name(services)]["healthcheck"]["test"])
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])
    # The image's own HEALTHCHECK asks port 8000, which only web listens on.
    for name in ("worker", "migrate", "roles"):
        assert services[name]["healthcheck"] == {"disable": True}, name


def test_compose_smoke_is_a_make_target_outside_make_test() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    target = makefile.split("\ncompose-smoke:", 1)[1].split("\n\n", 1)[0]
    assert "docker compose up -d --build --wait" in target
    assert "http://127.0.0.1:8000/healthz" in target
    assert "docker compose down -v" in target
    test_line = next(line for line in makefile.splitlines() if line.startswith("test:"))
    assert "compose-smoke" not in test_line


def _docker_compose_available() -> bool:
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(
        ["docker", "compose", "version"],
        capture_output=True,
        check=False,
        timeout=30,
    )
    return probe.returncode == 0


@pytest.mark.skipif(not _docker_compose_available(), reason="no `docker compose` plugin here")
def test_docker_compose_accepts_the_file() -> None:
    result = subprocess.run(
        ["docker", "compose", "-f", str(COMPOSE_FILE), "config", "--quiet"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env={**os.environ, **TEST_ENVIRONMENT},
    )
    assert result.returncode == 0, result.stderr


def test_the_compose_file_refuses_to_start_without_a_chosen_gateway() -> None:
    without_gateway = {k: v for k, v in TEST_ENVIRONMENT.items() if k != "LINJU_PAYMENT_GATEWAY"}
    with pytest.raises(UnsetVariableError, match="LINJU_PAYMENT_GATEWAY"):
        interpolate_values(_raw(), without_gateway)
