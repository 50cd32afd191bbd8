"""A witness added after the latest checkpoint was signed gets it at the integrator's next
run, even when there is nothing new to integrate; a witness whose last attempt failed is left
to the witness job's retries."""

from __future__ import annotations

from pathlib import Path

import pytest

from linju.platform.jobs import queue
from linju.platform.settings import get_settings
from linju.projects.ledger.log.jobs import integrate_job, witness_job
from linju.projects.ledger.log.services import (
    WITNESS_JOB,
    integrate,
    latest_checkpoint,
    log_signer,
)
from linju.projects.ledger.log.tables import LogCosignature, LogWitness
from linju.projects.ledger.log.witnessing import witnesses_waiting
from tests.projects.ledger.ledger_support import donate, new_project
from tests.projects.ledger.log.test_log_end_to_end import witness_process

pytestmark = pytest.mark.usefixtures("db")


async def _witness_jobs() -> int:
    return sum(1 for job in await queue.list_jobs() if job.name == WITNESS_JOB)


async def test_a_witness_added_later_cosigns_without_waiting_for_an_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    slug = await new_project("log-late-witness")
    for n in range(3):
        await donate(slug, 100 + n, f"w{n}")
    assert (await integrate()).size == 3  # signed with no witness configured
    head = await latest_checkpoint()
    assert head is not None
    assert await witnesses_waiting() is False
    with witness_process(tmp_path, "late.example", log_signer().verifier.vkey()) as (
        prefix,
        vkey,
    ):
        monkeypatch.setenv("LINJU_WITNESSES", f"{prefix} {vkey}")
        get_settings.cache_clear()
        try:
            assert await witnesses_waiting() is True
            assert await _witness_jobs() == 0
            await integrate_job({}, None)  # type: ignore[arg-type]  # nothing new to integrate
            assert (await latest_checkpoint()) == head  # nothing signed
            assert await _witness_jobs() == 1  # but the witness is asked
            await integrate_job({}, None)  # type: ignore[arg-type]
            assert await _witness_jobs() == 1  # once
            await witness_job({}, None)  # type: ignore[arg-type]  # what the worker runs
            lines = await LogCosignature.select(LogCosignature.line).where(
                LogCosignature.checkpoint == head.id
            )
            assert len(lines) == 1
            assert lines[0]["line"].startswith("— late.example ")
            assert await witnesses_waiting() is False

            # A witness that failed is the witness job's to retry, not every integrator run's.
            await LogCosignature.delete(force=True)  # (not append-only: a test shortcut)
            await LogWitness.update({LogWitness.last_error: "503: down"}, force=True)
            assert await witnesses_waiting() is False
        finally:
            monkeypatch.delenv("LINJU_WITNESSES")
            get_settings.cache_clear()
