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
    """Accounts of admins, secretaries, committee members and the host's finance staff."""


def _seat_problem(
    name: str,
    project: str,
    status: str,
    seats: list[tuple[str, int | None]],
    account_id: int | None,
    add_seat: bool,
) -> str | None:
    """Why a committee member cannot be linked to a seat as asked (one line), or None: the rule
    the admin's invitation applies too (`places.seat_refusal`, docs/adr/0022-drafting.md)."""
    from linju.platform.accounts.places import SeatRefusal, seat_refusal

    refusal = seat_refusal(name, status, seats, account_id, add_seat)
    if refusal is SeatRefusal.HELD:
        return f"users create: the seat of {name} on {project} is held by another account"
    if refusal is SeatRefusal.NO_SEAT:
        names = ", ".join(seat for seat, _ in seats) or "none"
        return (
            f"users create: no seat named {name} on {project}'s committee (seats: {names}); "
            "check the name, or --add-seat adds one to a draft"
        )
    if refusal is SeatRefusal.PUBLISHED:
        return (
            f"users create: {project} is published ({status}): its seats change by a committee "
            "decision, not here; no seat added"
        )
    return None


@users.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option(
    "--role", required=True, type=click.Choice(["admin", "secretary", "committee", "finance"])
)
@click.option("--community", default=None, help="the community's slug (secretary)")
@click.option("--project", default=None, help="the project's slug (committee member)")
@click.option(
    "--add-seat",
    is_flag=True,
    help="add a seat with this name to the committee of a draft (committee member)",
)
def create(
    email: str,
    name: str,
    role: str,
    community: str | None,
    project: str | None,
    add_seat: bool,
) -> None:
    """Create an account (or add a role to an existing one, keeping its password)."""
    from linju.platform.accounts.audit import COMMAND_LINE
    from linju.platform.accounts.places import places
    from linju.platform.accounts.services import (
        NewAccount,
        Role,
        create_account,
        normalise_email,
    )
    from linju.platform.accounts.tables import Account
    from linju.platform.i18n import translate_in
    from linju.platform.kernel.errors import ValidationErrors
    from linju.platform.migrate import apply_migrations

    if role == "secretary" and not community:
        raise CommandError("users create: --community is required for a secretary")
    if role == "committee" and not project:
        raise CommandError("users create: --project is required for a committee member")
    if add_seat and role != "committee":
        raise CommandError("users create: --add-seat is for a committee member")
    address = normalise_email(email)

    async def look() -> int | None:
        """The existing account's id (None: a new one); refuses a seat that cannot be taken."""
        await apply_migrations()
        row = await Account.select(Account.id).where(Account.email == address).first()
        account_id = int(row["id"]) if row is not None else None
        if role == "committee" and project:
            status, seats = await places().committee_seats(project)
            problem = _seat_problem(name, project, status, list(seats), account_id, add_seat)
            if problem:
                raise CommandError(problem)
        return account_id

    existing = run_async(look)
    password = None if existing is not None else _read_password()
    new = NewAccount(
        email=email,
        display_name=name,
        role=Role(role),
        community_slug=community if role == "secretary" else None,
        project_slug=project if role == "committee" else None,
        password=password,
    )

    async def go() -> int:
        return await create_account(COMMAND_LINE, new)

    try:
        account_id = run_async(go)
    except ValidationErrors as exc:
        first_field, message = next(iter(exc.problems.items()))
        raise CommandError(f"users create: {first_field}: {translate_in('en', message)}") from exc
    if existing is not None:
        click.echo(
            f"users: account {account_id} ({address}) already existed: role {role} added, "
            "its password unchanged (none was asked)"
        )
    else:
        click.echo(f"users: account {account_id} ({address}) is {role}")


@users.command("finance")
@click.option("--email", required=True)
@click.option("--revoke", is_flag=True, help="take the role away instead of giving it")
def finance(email: str, revoke: bool) -> None:
    """Give an existing account the host finance role (official receipts), or take it away."""
    from linju.platform.accounts.audit import COMMAND_LINE
    from linju.platform.accounts.services import normalise_email, set_host_finance
    from linju.platform.i18n import translate_in
    from linju.platform.kernel.errors import ValidationErrors
    from linju.platform.migrate import apply_migrations

    async def go() -> bool:
        await apply_migrations()
        return await set_host_finance(COMMAND_LINE, email, not revoke)

    try:
        changed = run_async(go)
    except ValidationErrors as exc:
        first_field, message = next(iter(exc.problems.items()))
        raise CommandError(f"users finance: {first_field}: {translate_in('en', message)}") from exc
    state = "no longer host finance" if revoke else "host finance"
    done = "is now" if changed else "already was"
    if revoke:
        done = "is" if changed else "already was"
    click.echo(f"users: {normalise_email(email)} {done} {state}")
