"""Any change to an exported ledger is reported by `verify --file` at the entry it breaks.

Property tests over files built with the public format alone (no database): change one member
of one entry, remove an entry, swap two, or rewrite an entry and recompute its own hash.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linju.projects.ledger.format import GENESIS_HASH, entry_hash, public_entry
from linju.projects.ledger.verify import VerifyResult, verify_file

SLUG = "wuding-huayuan"
FUND = f"fund:{SLUG}"


def chain(amounts: list[int]) -> list[dict[str, Any]]:
    """A valid ledger: donations of `amounts`, each followed by nothing else."""
    entries: list[dict[str, Any]] = []
    prev = GENESIS_HASH
    for index, amount in enumerate(amounts, start=1):
        entry = public_entry(
            project=SLUG,
            seq=index,
            at=f"2026-11-23T08:{index // 60 % 60:02d}:{index % 60:02d}.123456Z",
            kind="donation",
            memo="匿名" if index % 2 else "王阿姨",
            ref=f"don_{index:04d}",
            postings=[
                {"account": FUND, "amount": amount, "currency": "CNY"},
                {
                    "account": "donors:online" if amount > 0 else "payees",
                    "amount": -amount,
                    "currency": "CNY",
                },
            ],
            prev=prev,
        )
        entries.append(entry)
        prev = entry["hash"]
    return entries


def write(path: Path, entries: list[dict[str, Any]]) -> Path:
    path.write_text(
        "".join(json.dumps(entry, ensure_ascii=False) + "\n" for entry in entries), "utf-8"
    )
    return path


ledgers = st.lists(st.integers(min_value=1, max_value=10**9), min_size=2, max_size=12)


def _altered(value: Any, data: st.DataObject) -> Any:
    """A different value of the same shape (or a different type, which must also be caught)."""
    if isinstance(value, bool):  # pragma: no cover - the format has no booleans
        return not value
    if isinstance(value, int):
        return data.draw(st.integers(-(10**12), 10**12).filter(lambda v: v != value))
    if isinstance(value, str):
        return data.draw(st.text(max_size=70).filter(lambda v: v != value))
    raise AssertionError(value)


MEMBERS = ["project", "seq", "at", "kind", "memo", "ref", "prev", "hash"]
POSTING_MEMBERS = ["account", "amount", "currency"]
SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def test_an_untouched_export_verifies(tmp_path: Path) -> None:
    entries = chain([500, 1, 10**9])
    result = verify_file(write(tmp_path / "ok.jsonl", entries))
    assert result.ok
    assert (result.state.seq, result.state.hash) == (3, entries[-1]["hash"])


@SETTINGS
@given(amounts=ledgers, data=st.data())
def test_changing_any_member_of_any_entry_is_caught_there(
    tmp_path: Path, amounts: list[int], data: st.DataObject
) -> None:
    entries = chain(amounts)
    index = data.draw(st.integers(0, len(entries) - 1), label="entry")
    entry = entries[index]
    target = data.draw(st.sampled_from([*MEMBERS, "posting"]), label="member")
    if target == "posting":
        posting = entry["postings"][data.draw(st.integers(0, 1), label="posting")]
        name = data.draw(st.sampled_from(POSTING_MEMBERS), label="posting member")
        posting[name] = _altered(posting[name], data)
    else:
        entry[target] = _altered(entry[target], data)
    result = verify_file(write(tmp_path / "changed.jsonl", entries))
    assert result.fault is not None
    assert result.fault.line == index + 1
    if target != "seq":
        assert result.fault.seq == index + 1


@SETTINGS
@given(amounts=ledgers, data=st.data())
def test_rewriting_an_entry_with_a_fresh_hash_breaks_the_next_link(
    tmp_path: Path, amounts: list[int], data: st.DataObject
) -> None:
    entries = chain(amounts)
    index = data.draw(st.integers(0, len(entries) - 2), label="entry")
    entries[index]["memo"] = _altered(entries[index]["memo"], data)
    entries[index]["hash"] = entry_hash(entries[index])
    result = verify_file(write(tmp_path / "rehashed.jsonl", entries))
    assert result.fault is not None
    assert (result.fault.line, result.fault.seq) == (index + 2, index + 2)
    assert result.fault.message == f"prev does not match the hash of seq {index + 1}"


@SETTINGS
@given(amounts=ledgers, data=st.data())
def test_removing_an_entry_is_caught_where_it_is_missing(
    tmp_path: Path, amounts: list[int], data: st.DataObject
) -> None:
    entries = chain(amounts)
    index = data.draw(st.integers(0, len(entries) - 2), label="removed")
    del entries[index]
    result = verify_file(write(tmp_path / "removed.jsonl", entries))
    assert result.fault is not None
    assert result.fault.line == index + 1
    assert f"expected {index + 1}" in result.fault.message


@SETTINGS
@given(amounts=ledgers, data=st.data())
def test_swapping_two_entries_is_caught_at_the_first(
    tmp_path: Path, amounts: list[int], data: st.DataObject
) -> None:
    entries = chain(amounts)
    first = data.draw(st.integers(0, len(entries) - 2), label="first")
    second = data.draw(st.integers(first + 1, len(entries) - 1), label="second")
    entries[first], entries[second] = entries[second], entries[first]
    result = verify_file(write(tmp_path / "swapped.jsonl", entries))
    assert result.fault is not None
    assert result.fault.line == first + 1
    assert result.fault.seq == second + 1
    assert f"expected {first + 1}" in result.fault.message


def test_truncation_is_seen_only_against_a_kept_head(tmp_path: Path) -> None:
    """Dropping the newest entries leaves a valid, shorter chain: that is why the head is
    printed on the project page and anchored in decisions (ledger.md, guarantee 5)."""
    entries = chain([100, 200, 300])
    result = verify_file(write(tmp_path / "short.jsonl", entries[:2]))
    assert result.ok
    assert result.state.hash != entries[-1]["hash"]


@pytest.mark.parametrize(
    ("text", "line"),
    [("", 1), ("\n", 1), ("[1, 2]\n", 1), ("\xff\n", 1)],
)
def test_malformed_lines_are_named(tmp_path: Path, text: str, line: int) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(text.encode("latin-1"))
    result = verify_file(path)
    if text == "":
        assert result.ok
        assert result.state.seq == 0
        return
    assert result.fault is not None
    assert result.fault.line == line


def _same(one: VerifyResult, other: VerifyResult) -> None:
    assert one.fault == other.fault
    assert one.state == other.state


@settings(max_examples=25, deadline=None)
@given(
    amounts=st.lists(st.integers(min_value=-300, max_value=10**6), min_size=2, max_size=40),
    data=st.data(),
)
def test_checking_in_parallel_gives_the_verdict_of_one_pass(
    amounts: list[int], data: st.DataObject
) -> None:
    """Ranges checked by several processes, then stitched: same fault, same place, same state,
    including a fund that goes below zero (negative amounts are withdrawals here)."""
    entries = chain([amount or 1 for amount in amounts])
    change = data.draw(st.sampled_from(["none", "memo", "remove", "swap", "blank"]))
    index = data.draw(st.integers(0, len(entries) - 2))
    if change == "memo":
        entries[index]["memo"] += "改"
    elif change == "remove":
        del entries[index]
    elif change == "swap":
        entries[index], entries[index + 1] = entries[index + 1], entries[index]
    with tempfile.TemporaryDirectory() as folder:
        path = write(Path(folder) / "ledger.jsonl", entries)
        if change == "blank":
            lines = path.read_text("utf-8").splitlines(keepends=True)
            lines.insert(index, "\n")
            path.write_text("".join(lines), "utf-8")
        workers = data.draw(st.integers(2, 5))
        _same(
            verify_file(path, workers=workers, parallel_min_bytes=0), verify_file(path, workers=1)
        )
