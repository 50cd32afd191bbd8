"""A job's stored payload: its arguments and the random key that names it for good."""

from __future__ import annotations

import secrets
from typing import Any

import orjson


def pack(args: dict[str, Any]) -> bytes:
    """The stored payload: the job's arguments and its random key (JobContext.key)."""
    return orjson.dumps({"key": secrets.token_hex(16), "args": args})


def unpack(payload: bytes | str | None) -> tuple[str, dict[str, Any]]:
    data = orjson.loads(payload or b"{}")
    return str(data.get("key", "")), dict(data.get("args") or {})
