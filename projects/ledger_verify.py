"""Verify a ledger: the hash chain and every invariant of ledger.md, on any stream of entries.

The same checker runs over an export file (no database needed) and over the database, so a
resident's check and the platform's own check cannot disagree. It stops at the first entry that
breaks something and says which `seq` (or which line of a file) and what is wrong.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from linju.projects.ledger_format import (
    AT_PATTERN,
    CURRENCY_PATTERN,
    ENTRY_MEMBERS,
    GENESIS_HASH,
    HASH_PATTERN,
    POSTING_MEMBERS,
    EntryKind,
    entry_hash,
    figures_delta,
    fund_account,
    is_known_account,
)

KINDS = frozenset(kind.value for kind in EntryKind)


@dataclass(slots=True)
class ChainState:
    """What verification has established so far: the head and the figures folded from entries."""

    project: str | None = None
    seq: int = 0
    hash: str = GENESIS_HASH
    balance: int = 0
    raised: int = 0
    spent: int = 0
    donations_count: int = 0


@dataclass(frozen=True, slots=True)
class Fault:
    """The first thing that is wrong: where (seq, and line for files) and what."""

    message: str
    seq: int | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = []
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.seq is not None:
            where.append(f"seq {self.seq}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


@dataclass(slots=True)
class VerifyResult:
    state: ChainState = field(default_factory=ChainState)
    fault: Fault | None = None

    @property
    def ok(self) -> bool:
        return self.fault is None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _entry_problem(entry: Any, state: ChainState) -> str | None:
    """Why this entry cannot follow `state`, or None. Cheapest checks first."""
    if not isinstance(entry, dict):
        return "an entry must be a JSON object"
    members = set(entry)
    if members != ENTRY_MEMBERS:
        missing, extra = ENTRY_MEMBERS - members, members - ENTRY_MEMBERS
        parts = []
        if missing:
            parts.append("missing " + ", ".join(sorted(missing)))
        if extra:
            parts.append("unexpected " + ", ".join(sorted(extra)))
        return "members: " + "; ".join(parts)
    project, seq = entry["project"], entry["seq"]
    if not isinstance(project, str) or not project:
        return "project must be a non-empty string"
    if state.project is not None and project != state.project:
        return f"project is {project!r}, expected {state.project!r}"
    if not _is_int(seq) or seq != state.seq + 1:
        return f"seq is {seq!r}, expected {state.seq + 1} (gap, duplicate or reordering)"
    if not isinstance(entry["at"], str) or not AT_PATTERN.match(entry["at"]):
        return "at must be RFC 3339 UTC with microseconds, like 2026-11-23T08:15:30.123456Z"
    if entry["kind"] not in KINDS:
        return f"kind {entry['kind']!r} is not one of {', '.join(sorted(KINDS))}"
    if not isinstance(entry["memo"], str):
        return "memo must be a string"
    if not isinstance(entry["ref"], str) or not entry["ref"]:
        return "ref must be a non-empty string"
    postings = entry["postings"]
    if not isinstance(postings, list) or len(postings) < 2:
        return "postings must be a list of two or more postings"
    sums: dict[str, int] = {}
    for index, posting in enumerate(postings):
        if not isinstance(posting, dict) or set(posting) != POSTING_MEMBERS:
            return f"posting {index} must have exactly account, amount and currency"
        if not isinstance(posting["account"], str) or not is_known_account(posting["account"]):
            return f"posting {index} has an unknown account {posting['account']!r}"
        if not _is_int(posting["amount"]):
            return f"posting {index} amount must be an integer number of minor units"
        if not isinstance(posting["currency"], str) or not CURRENCY_PATTERN.match(
            posting["currency"]
        ):
            return f"posting {index} currency must be an ISO 4217 code"
        sums[posting["currency"]] = sums.get(posting["currency"], 0) + posting["amount"]
    unbalanced = sorted(currency for currency, total in sums.items() if total != 0)
    if unbalanced:
        return f"postings do not sum to zero in {', '.join(unbalanced)}"
    if entry["prev"] != state.hash:
        return f"prev does not match the hash of seq {state.seq}"
    if not isinstance(entry["hash"], str) or not HASH_PATTERN.match(entry["hash"]):
        return "hash must be 64 lowercase hex characters"
    if entry_hash(entry) != entry["hash"]:
        return "hash does not match the entry's canonical bytes (the entry was altered)"
    balance, _, _ = figures_delta(postings, project)
    if state.balance + balance < 0:
        return f"the fund {fund_account(project)} would go below zero"
    return None


def advance(state: ChainState, entry: Mapping[str, Any]) -> None:
    """Fold a verified entry into the state."""
    balance, raised, spent = figures_delta(entry["postings"], entry["project"])
    state.project = entry["project"]
    state.seq = entry["seq"]
    state.hash = entry["hash"]
    state.balance += balance
    state.raised += raised
    state.spent += spent
    if entry["kind"] in (EntryKind.DONATION, EntryKind.OFFLINE_DONATION):
        state.donations_count += 1


def check_next(state: ChainState, entry: Any, line: int | None = None) -> Fault | None:
    """Check one entry against what is established so far and fold it in if it is sound.

    For callers that read entries in pages (the database check) rather than from one iterable.
    """
    problem = _entry_problem(entry, state)
    if problem is not None:
        seq = entry.get("seq") if isinstance(entry, dict) else None
        return Fault(problem, seq=seq if _is_int(seq) else None, line=line)
    advance(state, entry)
    return None


def verify_entries(
    entries: Iterable[tuple[int | None, Any]], project: str | None = None
) -> VerifyResult:
    """Verify `(line, entry)` pairs in order; line is None when entries do not come from a file."""
    result = VerifyResult(state=ChainState(project=project))
    for line, entry in entries:
        fault = check_next(result.state, entry, line)
        if fault is not None:
            result.fault = fault
            return result
    return result


class MalformedLine(ValueError):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line


def read_jsonl(path: Path) -> Iterator[tuple[int | None, Any]]:
    """Entries of a JSONL export with their line numbers; MalformedLine names a bad line."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                raise MalformedLine(number, "empty line")
            try:
                yield number, json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise MalformedLine(number, f"not a JSON object ({exc})") from exc


def verify_file(path: Path) -> VerifyResult:
    """Verify an export file offline. A malformed line is a fault at that line."""
    try:
        return verify_entries(read_jsonl(path))
    except MalformedLine as exc:
        return VerifyResult(fault=Fault(str(exc).split(": ", 1)[1], line=exc.line))
