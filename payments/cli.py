"""`linju payments …`: the payment adapter's commands (contract.md, "Command line")."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from linju.platform.commands import CommandError, run_async


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
def refund(donation_id: str, amount: str, reason: str, actor: str) -> None:
    """Refund (part of) a confirmed donation through its gateway."""
    from linju.payments.gateway import GatewayError
    from linju.payments.services import refund_donation
    from linju.platform.kernel.money import InvalidYuan, parse_yuan

    try:
        fen = parse_yuan(amount)
    except InvalidYuan as exc:
        raise CommandError(f"--amount: {exc}") from None
    if fen <= 0:
        raise CommandError(f"--amount: a refund must be more than zero, got {amount!r}")

    async def go() -> str:
        try:
            return await refund_donation(donation_id, fen, reason, actor)
        except GatewayError as exc:
            raise CommandError(f"the payment provider refused: {exc}") from exc

    click.echo(f"refund {run_async(go)} of {fen} fen for {donation_id}: done")
