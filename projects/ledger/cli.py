"""`linju ledger …`: check a ledger (in the database or in an export file) and export one.

`verify --file` is the resident's check and must work on any machine with the file alone,
so that path imports nothing that touches the database.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import IO, Any

import click

from linju.platform.commands import EXIT_FAULT, CommandError, run_async
from linju.projects.ledger.verify import VerifyResult


@click.group()
def ledger() -> None:
    """Check and export the public ledgers."""


def _summary(name: str, result: VerifyResult) -> str:
    state = result.state
    return f"{name}: OK, {state.seq} entries, head seq {state.seq} hash {state.hash}"


@ledger.command()
@click.argument("slugs", nargs=-1)
@click.option(
    "--file",
    "file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Check an exported JSONL file offline instead of the database.",
)
def verify(slugs: tuple[str, ...], file: Path | None) -> None:
    """Check the hash chain and every invariant; exit 1 at the first broken entry."""
    if file is not None:
        if slugs:
            raise CommandError("give either --file or project slugs, not both")
        _verify_file(file)
        return
    _verify_database(slugs)


def _verify_file(path: Path) -> None:
    from linju.projects.ledger.verify import verify_file

    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from exc
    result = verify_file(path)
    if result.fault is not None:
        click.echo(f"{path}: BROKEN at {result.fault}")
        sys.exit(EXIT_FAULT)
    click.echo(_summary(str(path), result))


def _verify_database(slugs: tuple[str, ...]) -> None:
    from linju.platform.db import pool_lifespan
    from linju.projects.ledger import read as ledger_read
    from linju.projects.ledger.check import verify_project

    async def go() -> list[tuple[str, VerifyResult]]:
        async with pool_lifespan():
            known = await ledger_read.all_project_slugs()
            unknown = [slug for slug in slugs if slug not in known]
            if unknown:
                raise CommandError(f"no project {unknown[0]}")
            return [(slug, await verify_project(slug)) for slug in (slugs or tuple(known))]

    broken = False
    for slug, result in run_async(go):
        if result.fault is not None:
            broken = True
            click.echo(f"{slug}: BROKEN at {result.fault}")
        else:
            click.echo(_summary(slug, result))
    if broken:
        sys.exit(EXIT_FAULT)


@ledger.command()
@click.argument("slug")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["jsonl", "csv"]),
    default="jsonl",
    show_default=True,
)
@click.option(
    "--output",
    type=click.Path(path_type=Path, dir_okay=False, writable=True),
    default=None,
    help="Write here instead of to standard output.",
)
def export(slug: str, output_format: str, output: Path | None) -> None:
    """Write a project's whole ledger, as the site serves it for download."""
    from linju.platform.db import pool_lifespan
    from linju.projects.ledger import export as ledger_export
    from linju.projects.ledger import read as ledger_read

    encoders: dict[str, Callable[[ledger_read.LedgerRef], AsyncIterator[bytes]]] = {
        "jsonl": ledger_export.jsonl_stream,
        "csv": ledger_export.csv_stream,
    }

    async def go(sink: IO[bytes]) -> None:
        async with pool_lifespan():
            ledger_ref = await ledger_read.find_ledger(slug, include_drafts=True)
            async for chunk in encoders[output_format](ledger_ref):
                sink.write(chunk)

    if output is None:
        run_async(lambda: go(sys.stdout.buffer))
        sys.stdout.buffer.flush()
        return
    partial = output.with_name(output.name + ".partial")
    try:
        with partial.open("wb") as sink:
            run_async(lambda: go(sink))
        partial.replace(output)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise CommandError(f"cannot write {output}: {exc.strerror or exc}") from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


COMMANDS: list[Any] = [ledger]
