"""`linju host show|set`: the platform's host charity (docs/adr/0027-host-and-fund.md).

`set` changes the options given and keeps the others; the first `set` must give every required
detail. Bad input (an invalid credit code, a missing name…) exits 2 with one line, and nothing
is saved.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import click

from linju.platform.commands import CommandError, run_async


@click.group()
def host() -> None:
    """The host charity: the registered charity each project is a fund of."""


def _lines(details: Any) -> list[str]:
    return [
        f"name: {details.name}",
        f"credit code: {details.credit_code}",
        "public fundraising: "
        + (
            f"qualified since {details.qualified_on.isoformat()}"
            if details.fundraising_qualified and details.qualified_on
            else "not qualified"
        ),
        f"registration authority: {details.registration_authority}",
        f"contact: {details.contact}",
        "designated platforms: " + ("; ".join(details.designated_platforms) or "none"),
        "filing required before publishing: " + ("yes" if details.filing_required else "no"),
    ]


@host.command()
def show() -> None:
    """Print the host charity (exit 1 when none is set)."""
    from linju.platform.db import pool_lifespan
    from linju.projects.core.read import host_details

    async def go() -> Any:
        async with pool_lifespan():
            return await host_details()

    details = run_async(go)
    if details is None:
        click.echo("host: none set; `linju host set` names it", err=True)
        raise SystemExit(1)
    for line in _lines(details):
        click.echo(line)


def _day(text: str | None) -> date | None:
    from linju.platform.kernel.inputs import InputRefused, calendar_day

    if text is None or not text.strip():
        return None
    try:
        return calendar_day(text)
    except InputRefused:
        raise CommandError(f"--qualified-on: not a date (YYYY-MM-DD): {text}") from None


@host.command(name="set")
@click.option("--name")
@click.option("--credit-code", help="统一社会信用代码, 18 characters")
@click.option("--qualified/--not-qualified", default=None, help="公募资格")
@click.option("--qualified-on", help="the qualification's issue date, YYYY-MM-DD")
@click.option("--authority", help="the registration authority")
@click.option("--contact")
@click.option("--platform", "platforms", multiple=True, help="a designated platform (repeat)")
@click.option("--filing-required/--filing-optional", default=None)
def set_host(
    name: str | None,
    credit_code: str | None,
    qualified: bool | None,
    qualified_on: str | None,
    authority: str | None,
    contact: str | None,
    platforms: tuple[str, ...],
    filing_required: bool | None,
) -> None:
    """Name the host charity, or change some of its details."""
    from linju.platform.accounts.audit import COMMAND_LINE
    from linju.platform.db import pool_lifespan
    from linju.platform.kernel.errors import ValidationErrors
    from linju.projects.core.services import host as service

    given = {
        "name": name,
        "credit_code": credit_code,
        "fundraising_qualified": qualified,
        "qualified_on": _day(qualified_on),
        "registration_authority": authority,
        "contact": contact,
        "designated_platforms": tuple(platforms) if platforms else None,
        "filing_required": filing_required,
    }
    changes = {key: value for key, value in given.items() if value is not None}

    async def go() -> Any:
        async with pool_lifespan():
            details = service.changed(await service.current_or_empty(), **changes)
            try:
                return await service.save_host(COMMAND_LINE, details)
            except ValidationErrors as exc:
                from linju.platform.i18n import translate_in

                field, problem = next(iter(exc.problems.items()))
                option = {
                    "registration_authority": "authority",
                    "fundraising_qualified": "qualified",
                    "designated_platforms": "platform",
                }.get(field, field)
                raise CommandError(
                    f"--{option.replace('_', '-')}: {translate_in('en', problem)}"
                ) from None

    saved = run_async(go)
    click.echo(f"host: saved {saved.name} ({saved.credit_code})")
