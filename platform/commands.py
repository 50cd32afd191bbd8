"""What every area's commands share: exit codes, the bad-input error and running a coroutine.

Area command groups (`<area>/cli.py`) import this module, never the composition root
(`platform/cli.py`), which imports them: so any `cli` module can be imported on its own.
Exit codes (docs/contract.md): 0 success, 1 a check found a fault, 2 bad usage or bad input with
one line on stderr.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine
from typing import Any, NoReturn

import click

EXIT_FAULT = 1
EXIT_USAGE = 2


class CommandError(Exception):
    """Bad input to a command: one line on stderr, exit 2."""


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    click.echo(f"linju: {message}", err=True)
    sys.exit(code)


def run_async(factory: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    return asyncio.run(factory())
