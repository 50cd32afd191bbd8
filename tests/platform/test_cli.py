"""The `linju` command's exit codes: 2 with one line on stderr for bad usage or settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# The console script installed beside the interpreter running the tests.
LINJU = str(Path(sys.executable).parent / "linju")


def run_linju(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LINJU, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        check=False,
    )


@pytest.mark.parametrize(
    "args",
    [["no-such-command"], ["serve", "--port", "not-a-port"], ["serve", "--port", "70000"]],
)
def test_bad_usage_exits_2_with_one_line(args: list[str]) -> None:
    result = run_linju(*args)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("linju: ")


def test_a_bad_setting_stops_the_program_naming_it() -> None:
    result = run_linju("migrate", env={"DATABASE_URL": "mysql://nope"})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "linju: DATABASE_URL: must start with sqlite:/// or postgresql://"
    ]


def test_help_lists_the_contract_commands() -> None:
    result = run_linju("--help")
    assert result.returncode == 0
    for command in ("serve", "migrate", "demo"):
        assert command in result.stdout
