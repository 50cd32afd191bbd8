"""Verify a ledger: the hash chain and every invariant of ledger.md, on any stream of entries.

The same checker runs over an export file (no database needed) and over the database, so a
resident's check and the platform's own check cannot disagree. It stops at the first entry that
breaks something and says which `seq` (or which line of a file) and what is wrong.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Iterable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from linju.projects.ledger.format import (
    AT_PATTERN,
    CURRENCY_PATTERN,
    DONATION_KINDS,
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
    if not isinstance(entry["kind"], str) or entry["kind"] not in KINDS:
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


_SEEN_CURRENCIES: set[str] = set()  # codes already matched against CURRENCY_PATTERN


def _sound_figures(entry: Any, state: ChainState) -> tuple[int, int, int] | None:
    """The entry's figures if it certainly follows `state` soundly, else None.

    The fast path for the common case, at least as strict as `_entry_problem`: it checks the
    same things with exact types and cached patterns, and says nothing about what is wrong;
    when it returns None, `_entry_problem` looks again and explains. Profiled on a million
    entries, this is what keeps verification above 200,000 entries a second.
    """
    if type(entry) is not dict or entry.keys() != ENTRY_MEMBERS:
        return None
    project, seq, kind = entry["project"], entry["seq"], entry["kind"]
    if type(project) is not str or not project or type(seq) is not int or seq != state.seq + 1:
        return None
    if state.project is not None and project != state.project:
        return None
    at, ref, postings = entry["at"], entry["ref"], entry["postings"]
    if type(at) is not str or AT_PATTERN.match(at) is None:
        return None
    if type(kind) is not str or kind not in KINDS or type(entry["memo"]) is not str:
        return None
    if type(ref) is not str or not ref or type(postings) is not list or len(postings) < 2:
        return None
    sums: dict[str, int] = {}
    for posting in postings:
        if type(posting) is not dict or posting.keys() != POSTING_MEMBERS:
            return None
        account, amount, currency = posting["account"], posting["amount"], posting["currency"]
        if type(account) is not str or type(amount) is not int or type(currency) is not str:
            return None
        if currency not in _SEEN_CURRENCIES:
            if CURRENCY_PATTERN.match(currency) is None:
                return None
            _SEEN_CURRENCIES.add(currency)
        if not is_known_account(account):
            return None
        sums[currency] = sums.get(currency, 0) + amount
    if any(sums.values()) or entry["prev"] != state.hash:
        return None
    digest = entry["hash"]
    if type(digest) is not str or HASH_PATTERN.match(digest) is None:
        return None
    if entry_hash(entry) != digest:
        return None
    figures = figures_delta(postings, project)
    if state.balance + figures[0] < 0:
        return None
    return figures


def check_next(state: ChainState, entry: Any, line: int | None = None) -> Fault | None:
    """Check one entry against what is established so far and fold it in if it is sound.

    For callers that read entries in pages (the database check) rather than from one iterable.
    """
    figures = _sound_figures(entry, state)
    if figures is None:
        problem = _entry_problem(entry, state)
        if problem is not None:
            seq = entry.get("seq") if isinstance(entry, dict) else None
            return Fault(problem, seq=seq if _is_int(seq) else None, line=line)
        figures = figures_delta(entry["postings"], entry["project"])
    _fold(state, entry, figures)
    return None


def _fold(state: ChainState, entry: Mapping[str, Any], figures: tuple[int, int, int]) -> None:
    state.project = entry["project"]
    state.seq = entry["seq"]
    state.hash = entry["hash"]
    state.balance += figures[0]
    state.raised += figures[1]
    state.spent += figures[2]
    if entry["kind"] in DONATION_KINDS:
        state.donations_count += 1


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


def parse_line(raw: bytes, number: int) -> Any:
    """One line of JSONL as Python values, exactly as `json.loads` reads it.

    orjson parses about three times faster; where it could read a line differently (it turns
    integers beyond 64 bits into floats, refuses NaN) the standard parser decides, see
    `verify_file`.
    """
    if not raw.strip():
        raise MalformedLine(number, "empty line")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return parse_line_strictly(raw, number)


def parse_line_strictly(raw: bytes, number: int) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedLine(number, f"not a JSON object ({exc})") from exc


# Files this large are checked by several processes at once (see `verify_file`).
PARALLEL_MIN_BYTES = 64 * 1024 * 1024
# A balance no ledger reaches: chunks checked without knowing their opening balance start
# here, so the never-below-zero check is left to the parent, which knows it.
_FLOATING_BALANCE = 10**30


@dataclass(frozen=True, slots=True)
class _Range:
    start: int  # byte offset of the range's first line
    end: int  # byte offset just past its last line


@dataclass(frozen=True, slots=True)
class _RangeReport:
    """What a worker established about one range, relative to an opening it had to assume."""

    ok: bool
    lines: int
    opening: tuple[Any, Any, Any]  # the first entry's (project, seq - 1, prev)
    closing: ChainState  # with balance relative to the opening balance
    lowest_balance: int  # the lowest running balance, relative to the opening balance


def _verify_range(
    path: Path, where: _Range, first_line: int, state: ChainState
) -> tuple[VerifyResult, int, int]:
    """Verify the lines of one byte range from `state`: (result, lines read, lowest balance).

    Lines are parsed fast; a line that looks wrong is parsed again by the standard parser
    and checked again, so the verdict and its message are always the standard parser's.
    """
    result = VerifyResult(state=state)
    lowest = state.balance
    number = first_line - 1
    try:
        with path.open("rb") as handle:
            handle.seek(where.start)
            position = where.start
            for raw in handle:
                if position >= where.end:
                    break
                position += len(raw)
                number += 1
                fault = check_next(state, parse_line(raw, number), number)
                if fault is not None:
                    fault = check_next(state, parse_line_strictly(raw, number), number)
                if fault is not None:
                    result.fault = fault
                    break
                if state.balance < lowest:
                    lowest = state.balance
    except MalformedLine as exc:
        result.fault = Fault(str(exc).split(": ", 1)[1], line=exc.line)
    return result, number - first_line + 1, lowest


def _check_range(path: Path, where: _Range) -> _RangeReport:
    """A worker's share: verify a range assuming its first entry links to what came before."""
    with path.open("rb") as handle:
        handle.seek(where.start)
        first_raw = handle.readline()
    try:
        first = parse_line_strictly(first_raw, 1)
    except MalformedLine:
        first = None
    if (
        not isinstance(first, dict)
        or not _is_int(first.get("seq"))
        or not isinstance(first.get("project"), str)
        or not isinstance(first.get("prev"), str)
    ):
        return _RangeReport(False, 0, (None, None, None), ChainState(), 0)
    project, prev = str(first["project"]), str(first["prev"])
    opening = (project, first["seq"] - 1, prev)
    state = ChainState(project=project, seq=first["seq"] - 1, hash=prev, balance=_FLOATING_BALANCE)
    result, lines, lowest = _verify_range(path, where, 1, state)
    state.balance -= _FLOATING_BALANCE
    return _RangeReport(result.ok, lines, opening, state, lowest - _FLOATING_BALANCE)


def _ranges(path: Path, size: int, parts: int) -> list[_Range]:
    """`parts` byte ranges that start and end at line boundaries."""
    starts = [0]
    with path.open("rb") as handle:
        for part in range(1, parts):
            handle.seek(max(size * part // parts, starts[-1]))
            if handle.tell() > 0:
                handle.readline()  # to the start of the next line
            if handle.tell() < size and handle.tell() > starts[-1]:
                starts.append(handle.tell())
    return [_Range(start, end) for start, end in zip(starts, [*starts[1:], size], strict=True)]


def verify_file(
    path: Path, workers: int | None = None, parallel_min_bytes: int = PARALLEL_MIN_BYTES
) -> VerifyResult:
    """Verify an export file offline. A malformed line is a fault at that line.

    A large file is cut into ranges checked by one process per core, each assuming its first
    entry links to the range before; the parent then checks exactly those links, the project
    and the running balance across ranges, in order. At the first range with anything wrong,
    it verifies sequentially from that range's start with the true state, so the verdict and
    the message are the same as a single pass would give.
    """
    size = path.stat().st_size
    workers = workers if workers is not None else min(os.cpu_count() or 1, 8)
    if workers < 2 or size < parallel_min_bytes:
        return _verify_range(path, _Range(0, size), 1, ChainState())[0]
    ranges = _ranges(path, size, workers)
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=len(ranges), mp_context=context) as pool:
        reports = list(pool.map(_check_range, [path] * len(ranges), ranges))
    state, line = ChainState(), 1
    for where, report in zip(ranges, reports, strict=True):
        links = report.opening == (
            report.opening[0] if state.project is None else state.project,
            state.seq,
            state.hash,
        )
        if not report.ok or not links or state.balance + report.lowest_balance < 0:
            return _verify_range(path, _Range(where.start, size), line, state)[0]
        closing = report.closing
        state = ChainState(
            project=closing.project,
            seq=closing.seq,
            hash=closing.hash,
            balance=state.balance + closing.balance,
            raised=state.raised + closing.raised,
            spent=state.spent + closing.spent,
            donations_count=state.donations_count + closing.donations_count,
        )
        line += report.lines
    return VerifyResult(state=state)
