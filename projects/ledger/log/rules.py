"""What the log holds, as rules: an entry's leaf data and whether it continues its project.
Pure (docs/transparency.md, "The log")."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import orjson

from linju.projects.ledger.format import ENTRY_MEMBERS, GENESIS_HASH, entry_hash
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


_SORTED = orjson.OPT_SORT_KEYS
_MEMBERS = ENTRY_MEMBERS - {"hash"}  # sorted: `at` first, then where `hash` goes, `kind`, …


def checked_leaf(
    entry: Mapping[str, Any], digest: str, last_seq: int, last_hash: str | None
) -> tuple[bytes, None] | tuple[None, str]:
    """`continues` and `leaf_data` at once, for the integrator: (the leaf's bytes, None) when
    the entry (given WITHOUT its `hash` member, which is `digest`) continues its project after
    (last_seq, last_hash), else (None, why), with exactly their answers.

    The entry's members sorted are `at`, `hash`, `kind`, …: the leaf is its canonical bytes
    (what the hash covers) with `"hash":"<digest>"` set in after the `at` member, so one
    serialisation serves both the hash check and the leaf. Anything out of the ordinary (a
    value orjson refuses, members other than an exported entry's) goes the long way round."""
    seq = entry.get("seq")
    if (
        seq != last_seq + 1
        or entry.get("prev") != (last_hash if last_seq else GENESIS_HASH)
        or entry.keys() != _MEMBERS
    ):
        return _the_long_way(entry, digest, last_seq, last_hash)
    try:
        body = orjson.dumps(entry, option=_SORTED)
        at = len(orjson.dumps(entry["at"])) + 6  # b'{"at":' and the value
    except TypeError:
        return _the_long_way(entry, digest, last_seq, last_hash)
    if body[at : at + 8] != b',"kind":' or hashlib.sha256(body).hexdigest() != digest:
        return _the_long_way(entry, digest, last_seq, last_hash)
    # `digest` is a SHA-256 hex digest: as a JSON string it is itself between quotes.
    data = b"".join((body[:at], b',"hash":"', digest.encode(), b'"', body[at:]))
    if len(data) > MAX_LEAF:
        return _the_long_way(entry, digest, last_seq, last_hash)
    return data, None


def _the_long_way(
    entry: Mapping[str, Any], digest: str, last_seq: int, last_hash: str | None
) -> tuple[bytes, None] | tuple[None, str]:
    whole = {**entry, "hash": digest}
    why = continues(whole, last_seq, last_hash)
    try:
        data = leaf_data(whole)
    except LeafTooLong as error:
        return None, str(error)
    if why is not None:
        return None, why
    return data, None


def origin_from_base_url(base_url: str) -> str:
    """`http://127.0.0.1:8000/` → `127.0.0.1:8000/log`: host, port and path, no scheme, no
    trailing slash, then `/log`."""
    rest = base_url.split("://", 1)[-1].rstrip("/")
    return f"{rest}/log"
