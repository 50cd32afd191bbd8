"""`linju projects …`: a project's money at its end (contract.md, "Command line").

`settle SLUG` resumes the settlement of a cancelled project by hand: the same work as its
`projects.settle` job (matches reversed, every online refund still owed asked once, a refund
that failed for good asked again), then one line of where the settlement stands.
"""

from __future__ import annotations

import click

from linju.platform.commands import CommandError, run_async


@click.group()
def projects() -> None:
    """Projects: settle a cancelled project's money."""


@projects.command()
@click.argument("slug")
def settle(slug: str) -> None:
    """Return what a cancelled project still holds (a worker sends the refunds)."""
    from linju.platform.db import pool_lifespan
    from linju.platform.kernel.errors import Conflict, NotFound
    from linju.projects.spending.services.cancellation import Settlement
    from linju.projects.spending.services.cancellation import settle as run

    async def go() -> Settlement:
        async with pool_lifespan():
            try:
                return await run(slug)
            except NotFound:
                raise CommandError(f"no project {slug}") from None
            except Conflict:
                raise CommandError(
                    f"project {slug} is not being settled (only a cancelled project is)"
                ) from None

    result = run_async(go)
    progress = result.progress
    assert progress is not None
    state = "refunds in progress" if progress.in_progress else "settled, the fund is at zero"
    click.echo(
        f"settle {slug}: {state}, {progress.done}/{progress.total} given back, fund "
        f"{progress.balance} fen; {len(result.refunds_requested)} refunds asked now (a worker "
        f"sends them), {len(result.reversed_seqs)} matches reversed, "
        f"{len(result.offline_to_return)} offline gifts for the secretary to return"
        + (f"; could not ask: {'; '.join(result.failures)}" if result.failures else "")
    )
