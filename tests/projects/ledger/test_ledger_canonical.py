"""The fast canonical encoder writes exactly ledger.md's bytes, and the fast verifier path
decides exactly as the careful one does."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from linju.projects.ledger.format import canonical_bytes
from linju.projects.ledger.verify import verify_file


def definition(entry: dict[str, Any]) -> bytes:
    """ledger.md's definition, verbatim."""
    without_hash = {key: value for key, value in entry.items() if key != "hash"}
    return json.dumps(
        without_hash, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


def test_every_code_point_is_written_as_the_definition_writes_it() -> None:
    characters = "".join(
        chr(code) for code in range(sys.maxunicode + 1) if not 0xD800 <= code <= 0xDFFF
    )
    for start in range(0, len(characters), 4096):
        entry = {"memo": characters[start : start + 4096], "seq": 1, "hash": "x"}
        assert canonical_bytes(entry) == definition(entry)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=300)
@given(entry=st.dictionaries(st.text(max_size=10), json_values, max_size=8))
def test_any_json_object_is_written_as_the_definition_writes_it(entry: dict[str, Any]) -> None:
    assert canonical_bytes(entry) == definition(entry)


def test_integers_beyond_64_bits_fall_back_to_the_definition() -> None:
    entry = {"postings": [{"amount": 2**70}, {"amount": -(2**70)}], "hash": "x"}
    assert canonical_bytes(entry) == definition(entry)


def test_a_line_the_fast_parser_reads_differently_is_judged_by_the_standard_one(
    tmp_path: Path,
) -> None:
    """orjson reads 2**64 as a float; the verdict must still name the line as json reads it."""
    path = tmp_path / "big.jsonl"
    line = {
        "project": "p",
        "seq": 2**64,
        "at": "2026-11-23T08:15:30.123456Z",
        "kind": "donation",
        "memo": "",
        "ref": "r",
        "postings": [],
        "prev": "0" * 64,
        "hash": "0" * 64,
    }
    path.write_text(json.dumps(line) + "\n", "utf-8")
    result = verify_file(path)
    assert result.fault is not None
    assert result.fault.line == 1
    assert result.fault.seq == 2**64
    assert result.fault.message.startswith(f"seq is {2**64}, expected 1")
