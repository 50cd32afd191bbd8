"""The integrator (docs/transparency.md, "The log" and "Guarantees"): every committed entry in
the tree once, in seq order per project; tiles and entry bundles that add up to the signed
root; each checkpoint consistent with the one before; a broken chain refused and named."""

from __future__ import annotations

import pytest

from linju.projects.ledger.log import merkle
from linju.projects.ledger.log.rules import leaf_data
from linju.projects.ledger.log.services import integrate, latest_checkpoint, outstanding_refusals
from linju.projects.ledger.log.tables import LogCheckpoint, LogRefusal
from tests.projects.ledger.ledger_support import donate, new_project
from tests.projects.ledger.log.log_support import (
    check_the_stored_tree,
    export,
    forget_the_log,
    leaf_count,
    leaves_by_project,
    log_state,
    rewrite_history,
    stored_leaves,
    tamper_memo,
)

pytestmark = pytest.mark.usefixtures("db")


async def test_every_entry_of_every_project_lands_once_in_seq_order() -> None:
    a, b = await new_project("log-a"), await new_project("log-b")
    for n in range(5):
        await donate(a, 100 + n, f"a{n}", memo="王阿姨")
        await donate(b, 200 + n, f"b{n}")
    first = await integrate()
    assert (first.added, first.size, first.refused) == (10, 10, [])
    assert await check_the_stored_tree() == 10
    again = await integrate()
    assert (again.added, again.size, again.signed) == (0, 10, False)
    assert await LogCheckpoint.count() == 1
    for n in range(5, 9):
        await donate(b, 300 + n, f"b{n}")
    assert (await integrate()).size == 14
    assert await check_the_stored_tree() == 14
    by_project = await leaves_by_project()
    assert by_project["log-a"] == await export(a)
    assert by_project["log-b"] == await export(b)
    assert [leaf_data(e) for e in await export(a)] == [
        leaf for leaf in await stored_leaves(14) if b'"project":"log-a"' in leaf
    ]
    assert await leaf_count() == 14


async def test_batches_across_tiles_add_up_to_the_same_tree() -> None:
    slug = await new_project("log-many")
    for n in range(600):
        await donate(slug, 1 + n, f"m{n}")
    done = await integrate(batch=170)
    assert (done.added, done.size) == (600, 600)
    assert await LogCheckpoint.count() == 4  # 170, 340, 510, 600
    assert await check_the_stored_tree() == 600
    head = await latest_checkpoint()
    assert head is not None
    leaves = [merkle.leaf_hash(leaf_data(e)) for e in await export(slug)]
    assert head.root == merkle.tree_hash(600, merkle.reader_over_leaves(leaves))


async def test_one_bulk_batch_writes_what_entry_by_entry_integration_writes() -> None:
    """The same ledger integrated one entry per batch, then (the log forgotten) in one batch:
    every tile and entry bundle byte for byte, the leaf rows, the cursors and the root."""
    a, b = await new_project("log-bulk-a"), await new_project("log-bulk-b")
    memos = ["", "王阿姨", 'a "quoted" \\ memo', "🙂\u2028"]
    for n in range(300):  # two projects interleaved, past a full tile (256 leaves)
        await donate(b if n % 3 == 0 else a, 100 + n, f"k{n}", memo=memos[n % len(memos)])
    one_by_one = await integrate(batch=1)
    assert (one_by_one.added, one_by_one.size, one_by_one.refused) == (300, 300, [])
    assert await LogCheckpoint.count() == 300
    assert await check_the_stored_tree() == 300
    entry_by_entry = await log_state()
    assert len(entry_by_entry["tiles"]) == 2 + 2 + 1  # bundles 0 and 1, tiles 0/0 and 0/1, 1/0

    await forget_the_log()
    assert await leaf_count() == 0
    bulk = await integrate(batch=10_000)
    assert (bulk.added, bulk.size, bulk.refused) == (300, 300, [])
    assert await LogCheckpoint.count() == 1
    assert await log_state() == entry_by_entry
    assert await check_the_stored_tree() == 300


async def test_an_entry_that_does_not_continue_its_projects_last_leaf_is_refused() -> None:
    slug, other = await new_project("log-rewritten"), await new_project("log-honest")
    for n in range(4):
        await donate(slug, 1_000 + n, f"r{n}", memo="王阿姨")
    await integrate()
    before = await latest_checkpoint()
    # The attacker rewrites #2's memo and re-chains #3 and #4 and the head: the export verifies
    # on its own; the next entry appended continues the rewritten chain.
    await rewrite_history(slug, 2, "李四")
    await donate(slug, 5_000, "r4")
    await donate(other, 700, "h0")
    done = await integrate()
    assert done.refused == [f"{slug} #5: prev of seq 5 is not the hash of seq 4"]
    assert done.added == 1  # the honest project goes on
    refusal = await LogRefusal.select(LogRefusal.seq, LogRefusal.reason).first()
    assert refusal == {"seq": 5, "reason": "prev of seq 5 is not the hash of seq 4"}
    after = await latest_checkpoint()
    assert before is not None
    assert after is not None
    assert after.size == before.size + 1
    assert [e["seq"] for e in (await leaves_by_project())[slug]] == [1, 2, 3, 4]
    again = await integrate()  # the project stays stuck at #5, and it is not refused twice
    assert (again.added, again.refused) == (0, [])
    assert await LogRefusal.count() == 1
    assert await outstanding_refusals() == [f"{slug} #5: prev of seq 5 is not the hash of seq 4"]
    assert [e["seq"] for e in (await leaves_by_project())[slug]] == [1, 2, 3, 4]


async def test_an_entry_whose_hash_is_not_its_content_is_refused() -> None:
    """An entry altered in the database before it was integrated, its hash left as it was:
    its prev still continues the chain, but it is not what its hash says."""
    slug = await new_project("log-altered")
    for n in range(3):
        await donate(slug, 100 + n, f"x{n}")
    await integrate()
    await donate(slug, 500, "x3")
    await tamper_memo(slug, 4, "改过的名字")
    done = await integrate()
    assert done.refused == [f"{slug} #4: the hash of seq 4 is not the hash of its content"]
    assert [e["seq"] for e in (await leaves_by_project())[slug]] == [1, 2, 3]
