"""The monitor's two faults the end-to-end test does not reach (docs/transparency.md,
`linju log monitor`): a platform that stops serving a leaf it signed ("missing leaf"), and a log
whose leaves do not continue their project's hash chain ("broken chain").

The product's integrator refuses to put a broken chain into the log, so a log with one can only
come from a platform that is no longer honest; the chain check is the monitor's own fold, fed
the leaves such a log would serve.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from linju.platform.db import get_engine
from linju.projects.ledger.log.monitor import MonitorFault, _follow
from linju.projects.ledger.log.rules import leaf_data
from linju.projects.ledger.log.services import integrate
from tests.platform.test_cli import run_linju
from tests.projects.ledger.ledger_support import donate, new_project
from tests.projects.ledger.log.log_support import export


async def test_a_leaf_the_platform_stops_serving_is_named(live_server: str, tmp_path: Path) -> None:
    slug = await new_project("log-missing-leaf")
    await donate(slug, 100, "m1")
    await donate(slug, 200, "m2")
    await integrate()
    async with httpx.AsyncClient(base_url=live_server) as client:
        vkey = (await client.get("/log/key")).text.strip()
    state = tmp_path / "state.json"
    # The entry bundles are where the leaves are served from; the platform drops them.
    await get_engine().run_ddl("DELETE FROM log_tile WHERE level = -1")
    missing = run_linju("log", "monitor", live_server, "--log-key", vkey, "--state", str(state))
    assert missing.returncode == 1, missing.stdout + missing.stderr
    assert missing.stdout.startswith("FAULT missing leaf: /log/tile/entries/000"), missing.stdout
    assert not state.exists()  # nothing kept from a round that failed


async def test_a_leaf_that_does_not_continue_its_chain_is_named(db: str) -> None:
    slug = await new_project("log-broken-chain")
    await donate(slug, 100, "c1")
    await donate(slug, 200, "c2")
    await donate(slug, 300, "c3")
    first, _second, third = await export(slug)

    # The honest order folds without a word.
    honest: dict[str, dict[str, Any]] = {}
    for index, entry in enumerate([first, _second, third]):
        _follow(honest, index, leaf_data(entry))
    assert len(honest[slug]["hashes"]) == 3

    # A log that skips #2: #3's prev is not #1's hash.
    skipped: dict[str, dict[str, Any]] = {}
    _follow(skipped, 0, leaf_data(first))
    with pytest.raises(MonitorFault, match=rf"^broken chain: leaf 1, {slug} "):
        _follow(skipped, 1, leaf_data(third))

    # A leaf that is not an entry at all.
    with pytest.raises(MonitorFault, match=r"^broken chain: leaf 7 is not a JSON entry"):
        _follow({}, 7, b"\xff not json")
    with pytest.raises(MonitorFault, match=r"^broken chain: leaf 8 names no project"):
        _follow({}, 8, json.dumps({"seq": 1}).encode())
