"""Addresses that carry a secret are logged without it.

A donor's receipt (`/donations/{token}`), a password reset link and a sandbox checkout are
reached by a link whose path *is* the key: whoever has the address can open the page. The logs
must not become a list of those keys, so the request log and the unexpected-error log write
the path through `loggable`, which replaces the secret with `[secret]`.

Each area names its own addresses (a regular expression over the whole path, whose groups are
the secrets) and the composition root registers them (`platform.app.wire`); the platform knows
no area's routes. `tests/platform/test_secret_paths.py` checks that every route whose path
parameter is a token or a session is covered.
"""

from __future__ import annotations

import re

REDACTED = "[secret]"

_patterns: list[str] = []
_combined: re.Pattern[str] | None = None


def register_secret_paths(*patterns: str) -> None:
    """Add addresses whose groups are secrets; `(?:/.*)?` after the last group covers what is
    below (an official receipt under a donor's receipt). Registering one again changes nothing."""
    global _combined
    for pattern in patterns:
        if pattern not in _patterns:
            re.compile(pattern)  # a wrong one fails here, alone, naming itself
            _patterns.append(pattern)
    _combined = re.compile("|".join(f"(?:{p})" for p in _patterns)) if _patterns else None


def loggable(path: str) -> str:
    """`path` with the secrets of a registered address replaced by `[secret]`."""
    if _combined is None:
        return path
    match = _combined.fullmatch(path)
    if match is None:
        return path
    kept: list[str] = []
    end = 0
    for index in range(1, len(match.groups()) + 1):
        start, stop = match.span(index)
        if start < 0:
            continue
        kept += [path[end:start], REDACTED]
        end = stop
    return "".join([*kept, path[end:]])
