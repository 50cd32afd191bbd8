"""`linju users create` (contract.md): make an account with one role from the command line.

The password is read from stdin when stdin is not a terminal (one line, for scripts), or
prompted twice. Bad input exits 2 with one line (CommandError or a domain error; cli.main
formats both).
"""

from __future__ import annotations

import sys

import click

from linju.platform.commands import CommandError, run_async


def _read_password() -> str:
    if sys.stdin is not None and not sys.stdin.isatty():
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise CommandError("users create: no password on stdin")
        return password
    value: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return value


@click.group()
def users() -> None:
    """Accounts of admins, secretaries and committee members."""


@users.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice(["admin", "secretary", "committee"]))
@click.option("--community", default=None, help="the community's slug (secretary)")
@click.option("--project", default=None, help="the project's slug (committee member)")
def create(email: str, name: str, role: str, community: str | None, project: str | None) -> None:
    """Create an account (or add a role to an existing one)."""
    from linju.platform.accounts.audit import COMMAND_LINE
    from linju.platform.accounts.services import NewAccount, Role, create_account
    from linju.platform.i18n import translate_in
    from linju.platform.kernel.errors import ValidationErrors
    from linju.platform.migrate import apply_migrations

    if role == "secretary" and not community:
        raise CommandError("users create: --community is required for a secretary")
    if role == "committee" and not project:
        raise CommandError("users create: --project is required for a committee member")
    password = _read_password()
    new = NewAccount(
        email=email,
        display_name=name,
        role=Role(role),
        community_slug=community if role == "secretary" else None,
        project_slug=project if role == "committee" else None,
        password=password,
    )

    async def go() -> int:
        await apply_migrations()
        return await create_account(COMMAND_LINE, new)

    try:
        account_id = run_async(go)
    except ValidationErrors as exc:
        first_field, message = next(iter(exc.problems.items()))
        raise CommandError(f"users create: {first_field}: {translate_in('en', message)}") from exc
    click.echo(f"users: account {account_id} ({email.strip().lower()}) is {role}")
