"""`linju payments reconcile` and `linju payments refund`, run as the real command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from linju.payments.sandbox import SandboxOutcome, finish_session
from linju.platform.jobs.worker import drain_jobs

from .helpers import donation_row, entries

pytestmark = pytest.mark.usefixtures("demo")
SLUG = "tongqu-leyuan"
LINJU = str(Path(sys.executable).parent / "linju")


def _linju(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([LINJU, *args], capture_output=True, text=True, check=False, timeout=120)


async def test_reconcile_applies_a_missed_webhook_once_and_a_refund_is_asked_for(
    client: httpx.AsyncClient,
) -> None:
    created = (
        await client.post(
            f"/api/v1/projects/{SLUG}/donations",
            json={"amount": {"amount": 2_000, "currency": "CNY"}, "anonymous": True},
        )
    ).json()
    # The donor paid, but the sandbox's webhook never arrived (the platform was down).
    await finish_session(created["checkout_url"].rsplit("/", 1)[1], SandboxOutcome.SUCCEED)
    assert (await donation_row(created["id"]))["status"] == "pending"

    first = _linju("payments", "reconcile", "--since", "2020-01-01")
    assert first.returncode == 0, first.stderr
    assert "2 applied" in first.stdout  # the payment and its fee
    row = await donation_row(created["id"])
    assert row["status"] == "succeeded"
    mine = [e for e in await entries(SLUG) if e["public_ref"] == created["id"]]
    assert [e["kind"] for e in mine] == ["donation", "fee"]
    assert mine[0]["memo"] == "匿名（测试模式，不收真钱）"

    again = _linju("payments", "reconcile")
    assert again.returncode == 0, again.stderr
    assert "0 applied" in again.stdout
    assert len([e for e in await entries(SLUG) if e["public_ref"] == created["id"]]) == 2

    # Asked for: one line, and a worker sends it.
    asked = _linju("payments", "refund", created["id"], "--amount", "5", "--reason", "重复捐款")
    assert asked.returncode == 0, asked.stderr
    [line] = asked.stdout.strip().splitlines()
    assert line.endswith(
        f"of 500 fen for {created['id']}: requested; a worker sends it to the payment provider"
    )
    assert (await donation_row(created["id"]))["refunded_fen"] == 0
    await drain_jobs()
    assert (await donation_row(created["id"]))["refunded_fen"] == 500
    # With --now the command runs the jobs due itself and says how the refund ended.
    now = _linju("payments", "refund", created["id"], "--amount", "3", "--reason", "再退", "--now")
    assert now.returncode == 0, now.stderr
    assert now.stdout.strip().endswith(
        "of 300 fen for " + created["id"] + ": confirmed by the payment provider"
    )
    assert (await donation_row(created["id"]))["refunded_fen"] == 800
    too_much = _linju("payments", "refund", created["id"], "--amount", "12.01", "--reason", "再退")
    assert too_much.returncode == 2
    assert len(too_much.stderr.strip().splitlines()) == 1
    assert (await donation_row(created["id"]))["refunded_fen"] == 800
    assert len([e for e in await entries(SLUG, "refund") if e["public_ref"] == created["id"]]) == 2


@pytest.mark.parametrize("since", ["last tuesday", "0001-01-01", "9999-12-31T23:59:59"])
def test_a_bad_since_is_exit_2_with_one_line(since: str) -> None:
    result = _linju("payments", "reconcile", "--since", since)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("linju: --since")
    assert len(result.stderr.strip().splitlines()) == 1
