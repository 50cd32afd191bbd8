"""The `linju` command (contract.md, "Command line").

Exit codes: 0 success, 1 a check found a fault, 2 bad usage or bad input with one line on
stderr. Settings are validated before anything else runs, and PICCOLO_CONF is set before any
table is imported.
"""

from __future__ import annotations

import sys

import click

from linju.payments.cli import payments
from linju.platform.accounts.cli import users
from linju.platform.commands import CommandError, fail, run_async
from linju.platform.db import use_linju_piccolo_conf
from linju.platform.jobs.cli import housekeeping, jobs, worker
from linju.platform.roles_cli import db
from linju.platform.settings import SettingsError, get_settings
from linju.platform.storage_cli import storage
from linju.projects.core.cli import host
from linju.projects.ledger.cli import ledger
from linju.projects.ledger.log.cli import log, witness
from linju.projects.spending.cli import projects
from linju.projects.voice.cli import voice


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Linju 邻聚: civic crowdfunding with a public, verifiable ledger."""
    use_linju_piccolo_conf()
    get_settings()  # validate every setting before any command does anything
    from linju.platform.app import wire  # the areas' ports, after the settings are known

    wire()


@cli.command()
def migrate() -> None:
    """Apply pending database migrations (as LINJU_MIGRATE_DATABASE_URL's owner when set)."""
    from linju.platform.db import connect_as_owner
    from linju.platform.migrate import migrate as apply_pending

    connect_as_owner()
    report = run_async(lambda: apply_pending(verbose=True))
    click.echo(report.strip() or "migrations: up to date")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
def serve(host: str, port: int, workers: int) -> None:
    """Apply migrations (see `prepare_database`), then serve the application."""
    import uvicorn

    from linju.platform.migrate import prepare_database

    run_async(prepare_database)
    uvicorn.run(
        "linju.platform.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        access_log=False,  # our request log writes one structured line per request
        log_level="info",
    )


@cli.command()
def demo() -> None:
    """Load the demo communities and projects into an empty database."""
    from linju.platform.migrate import prepare_database
    from linju.projects.demo import load_demo

    async def go() -> bool:
        await prepare_database()
        return await load_demo()

    loaded = run_async(go)
    click.echo("demo: loaded" if loaded else "demo: the database is not empty; nothing changed")


# Each area's commands are a click group in its own `cli.py`, which imports only the shell
# (`platform.commands`); the root adds them here, so importing an area's cli never imports this.
cli.add_command(users)
cli.add_command(ledger)
cli.add_command(log)
cli.add_command(witness)
cli.add_command(payments)
cli.add_command(projects)
cli.add_command(storage)
cli.add_command(jobs)
cli.add_command(worker)
cli.add_command(housekeeping)
cli.add_command(db)
cli.add_command(host)
cli.add_command(voice)


def main(argv: list[str] | None = None) -> None:
    """Entry point: turn every expected failure into one line and the contract's exit code."""
    from linju.platform.kernel.errors import DomainError, ValidationErrors
    from linju.platform.migrate import OwnerMigrationFailed

    try:
        cli.main(args=argv, prog_name="linju", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except OwnerMigrationFailed as exc:  # `linju migrate` has said why, in one line
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        fail("aborted")
    except click.ClickException as exc:
        fail(exc.format_message().replace("\n", " "))
    except SettingsError as exc:
        fail(str(exc))
    except ValidationErrors as exc:
        fail(f"{exc}: " + "; ".join(f"{field}: {msg}" for field, msg in exc.problems.items()))
    except (CommandError, DomainError) as exc:
        fail(str(exc))
    sys.exit(0)


if __name__ == "__main__":  # pragma: no cover
    main()
