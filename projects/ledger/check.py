"""The platform checking its own books: a project's ledger in the database, entry by entry.

The chain and every invariant are checked by the same verifier residents run on an export
(`verify.py`), fed a page of entries at a time; then the head row, a cache the append service
keeps, must equal what the entries fold to, or the project page would show figures the ledger
does not support.
"""

from __future__ import annotations

from linju.projects.ledger import read as ledger_read
from linju.projects.ledger.tables import LedgerHead
from linju.projects.ledger.verify import ChainState, Fault, VerifyResult, check_next


async def verify_project(slug: str) -> VerifyResult:
    """Verify one project's ledger in the database, up to its head at the start of the check."""
    ledger = await ledger_read.find_ledger(slug, include_drafts=True)
    result = VerifyResult(state=ChainState(project=slug))
    async for entry in ledger_read.iter_entries(ledger):
        fault = check_next(result.state, entry)
        if fault is not None:
            result.fault = fault
            return result
    result.fault = await _head_fault(ledger, result.state)
    return result


async def _head_fault(ledger: ledger_read.LedgerRef, state: ChainState) -> Fault | None:
    if state.seq != ledger.head_seq:
        return Fault(
            f"the ledger ends at seq {state.seq} but its head row says {ledger.head_seq}",
            seq=state.seq + 1,
        )
    head = await LedgerHead.select().where(LedgerHead.project == ledger.project_id).first()
    assert head is not None  # find_ledger found it
    expected = {
        "hash": state.hash,
        "balance_fen": state.balance,
        "raised_fen": state.raised,
        "spent_fen": state.spent,
        "donations_count": state.donations_count,
    }
    wrong = [
        f"{name} is {head[name]!r}, the entries give {value!r}"
        for name, value in expected.items()
        if head[name] != value and head["seq"] == ledger.head_seq
    ]
    if wrong:
        return Fault("head row: " + "; ".join(wrong), seq=state.seq)
    return None
