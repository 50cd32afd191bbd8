"""The repository stands alone on its documentation: nothing cites a file outside it.

The ledger's format, the public contract and the architecture live under `docs/`
(docs/ledger.md, docs/contract.md, docs/architecture.md). Every tracked file outside `tests/`
is searched for a path into a sibling folder of specifications that a reader of the
repository does not have. Pure: git and the files, no database.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Written in pieces so that this file would not match itself if it were ever searched.
FORBIDDEN = ("../" + "shared", "shared" + "/docs")


def _tracked_files() -> list[Path]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    listing = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True
    ).stdout
    names = [name for name in listing.decode("utf-8").split("\0") if name]
    return [ROOT / name for name in names if not name.startswith("tests/")]


def test_no_tracked_file_outside_tests_cites_a_path_outside_the_repository() -> None:
    offenders = []
    for path in _tracked_files():
        if not path.is_file():  # tracked but deleted in the working tree
            continue
        text = path.read_bytes().decode("utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            if any(needle in line for needle in FORBIDDEN):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "cite docs/ instead:\n" + "\n".join(offenders)
