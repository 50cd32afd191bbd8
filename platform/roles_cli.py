"""`linju db create-roles`: the owner and the application role (docs/adr/0016-database-roles.md)."""

from __future__ import annotations

import os

import click

from linju.platform.commands import fail, run_async
from linju.platform.settings import get_settings


@click.group()
def db() -> None:
    """The database's roles (PostgreSQL)."""


def _password(option: str, name: str | None) -> str | None:
    if name is None:
        return None
    value = os.environ.get(name)
    if not value:
        fail(f"{option}: the environment variable {name} is not set")
    return value


@db.command("create-roles")
@click.option("--owner", required=True, help="The role that owns the schema and migrates.")
@click.option("--app", required=True, help="The role serve and worker connect as; owns nothing.")
@click.option(
    "--owner-password-env",
    metavar="NAME",
    default=None,
    help="Set the owner's password from this environment variable.",
)
@click.option(
    "--app-password-env",
    metavar="NAME",
    default=None,
    help="Set the application role's password from this environment variable.",
)
def create_roles_command(
    owner: str, app: str, owner_password_env: str | None, app_password_env: str | None
) -> None:
    """Make the owner and the application role of DATABASE_URL's database, as its superuser."""
    from linju.platform.roles import create_roles

    url = get_settings().database_url
    if not url.startswith("postgresql"):
        fail("db create-roles: SQLite has no roles; this protection is PostgreSQL's")
    owner_password = _password("--owner-password-env", owner_password_env)
    app_password = _password("--app-password-env", app_password_env)
    made = run_async(lambda: create_roles(url, owner, app, owner_password, app_password))
    click.echo(
        f"db: {made.owner} owns schema public of {made.database} "
        f"({made.objects_given_to_owner} objects given to it) and migrates; "
        f"{made.app} owns nothing and serves"
    )
