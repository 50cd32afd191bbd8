"""`linju voice households import COMMUNITY FILE.csv`: register a community's households from a
CSV (`building,unit,room`, one household a line). Every household of the file, or none: a bad
file exits 2 with one line naming every bad line by its number, and nothing is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from linju.platform.commands import CommandError, run_async


@click.group()
def voice() -> None:
    """Residents' voice: households and their codes."""


@voice.group()
def households() -> None:
    """A community's households."""


@households.command("import")
@click.argument("community")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
def import_households(community: str, file: Path) -> None:
    """Register every household of FILE (a UTF-8 CSV) in COMMUNITY, or none."""
    from linju.platform.accounts.audit import COMMAND_LINE
    from linju.platform.db import pool_lifespan
    from linju.platform.i18n import translate_in
    from linju.projects.voice.services.households import CsvRefused, import_households

    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"cannot read {file}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise CommandError(f"{file} is not UTF-8 text") from exc

    async def go() -> Any:
        async with pool_lifespan():
            return await import_households(COMMAND_LINE, community, text)

    try:
        count = run_async(go)
    except CsvRefused as refused:
        lines = "; ".join(f"line {p.line}: {translate_in('en', p.message)}" for p in refused.lines)
        raise CommandError(f"{file}: nothing was added; {lines}") from refused
    click.echo(f"{count} households added to {community}")
