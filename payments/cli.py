"""`linju payments …`: the payment adapter's commands (contract.md, "Command line")."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from linju.platform.commands import CommandError, run_async
from linju.platform.kernel.inputs import FIRST_DAY, LAST_DAY


@click.group()
def payments() -> None:
    """Payments: reconcile with the provider, refund a donation."""


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--since: not an ISO date or time: {value!r}") from exc
    if not FIRST_DAY <= moment.date() <= LAST_DAY:  # the edge's range for days (ADR 0017)
        raise CommandError(f"--since: not between {FIRST_DAY} and {LAST_DAY}: {value!r}")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@payments.command()
@click.option("--since", "since", default=None, help="ISO date or time (default: 3 days ago)")
def reconcile(since: str | None) -> None:
    """Ask the gateway what happened and apply what the webhooks missed."""
    from linju.payments.gateway import GatewayError
    from linju.payments.reconcile import reconcile as run

    start = _since(since)

    async def go() -> str:
        from linju.platform.db import pool_lifespan

        async with pool_lifespan():
            try:
                summary = await run(start)
            except GatewayError as exc:
                raise CommandError(f"the payment provider could not be asked: {exc}") from exc
        for problem in summary.refused:
            click.echo(f"refused: {problem}", err=True)
        return summary.line()

    click.echo(run_async(go))


@payments.command()
@click.argument("donation_id")
@click.option("--amount", "amount", required=True, help="yuan, e.g. 50 or 12.5")
@click.option("--reason", required=True)
@click.option("--actor", default="cli", show_default=True, help="who decided the refund")
@click.option(
    "--now",
    is_flag=True,
    help="Also run the jobs due now (as `linju worker --drain`), then say where the refund stands.",
)
def refund(donation_id: str, amount: str, reason: str, actor: str, now: bool) -> None:
    """Ask for a refund of (part of) a confirmed donation; a worker sends it to its gateway."""
    from linju.payments.services import refund_donation
    from linju.platform.kernel.money import InvalidYuan, parse_yuan

    try:
        fen = parse_yuan(amount)
    except InvalidYuan as exc:
        raise CommandError(f"--amount: {exc}") from None
    if fen <= 0:
        raise CommandError(f"--amount: a refund must be more than zero, got {amount!r}")

    async def go() -> tuple[str, str]:
        from linju.platform.db import pool_lifespan

        async with pool_lifespan():
            refund_id = await refund_donation(donation_id, fen, reason, actor)
            if not now:
                return refund_id, "requested; a worker sends it to the payment provider"
            return refund_id, await _after_running_jobs(refund_id)

    refund_id, outcome = run_async(go)
    click.echo(f"refund {refund_id} of {fen} fen for {donation_id}: {outcome}")


async def _after_running_jobs(refund_id: str) -> str:
    """Run what is due (this refund's job among it); where the refund stands then, in words."""
    from linju.platform.jobs.worker import drain_jobs
    from linju.projects.donations.rules import refund_stage
    from linju.projects.donations.services import refund_state

    await drain_jobs()
    state = await refund_state(refund_id)
    stage = refund_stage(state.status) if state is not None else ""
    return {
        "sent": "sent; waiting for the payment provider to confirm it",
        "requested": "requested; the payment provider did not answer, a worker tries again",
        "failed": "failed; the payment provider did not refund it",
    }.get(stage, "confirmed by the payment provider")  # or superseded by the provider's report
