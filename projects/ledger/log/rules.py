"""What the log holds, as rules: an entry's leaf data and whether it continues its project.
Pure (docs/transparency.md, "The log")."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import orjson

from linju.projects.ledger.format import GENESIS_HASH, entry_hash
from linju.projects.ledger.log.tiles import MAX_LEAF


class LeafTooLong(ValueError):
    pass


def leaf_data(entry: Mapping[str, Any]) -> bytes:
    """The canonical bytes of the whole exported entry, with its `hash` member. orjson with
    sorted keys writes exactly what the definition (`json.dumps(..., sort_keys=True,
    separators=(",", ":"), ensure_ascii=False)`) writes for every value an entry holds, as
    the ledger's canonical bytes rely on (docs/adr/0004-ledger.md); what orjson refuses goes
    through the definition itself."""
    try:
        data = orjson.dumps(entry, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        data = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    if len(data) > MAX_LEAF:
        raise LeafTooLong(f"{entry.get('project')} #{entry.get('seq')} is over 65,535 bytes")
    return data


def continues(entry: Mapping[str, Any], last_seq: int, last_hash: str | None) -> str | None:
    """None when `entry` is the next of its project after (last_seq, last_hash); else why not."""
    expected_prev = last_hash if last_seq else GENESIS_HASH
    if entry.get("seq") != last_seq + 1:
        return f"seq {entry.get('seq')} does not follow {last_seq}"
    if entry.get("prev") != expected_prev:
        return f"prev of seq {entry.get('seq')} is not the hash of seq {last_seq}"
    if entry_hash(entry) != entry.get("hash"):
        return f"the hash of seq {entry.get('seq')} is not the hash of its content"
    return None


def origin_from_base_url(base_url: str) -> str:
    """`http://127.0.0.1:8000/` → `127.0.0.1:8000/log`: host, port and path, no scheme, no
    trailing slash, then `/log`."""
    rest = base_url.split("://", 1)[-1].rstrip("/")
    return f"{rest}/log"
