"""The ledger's public format (ledger.md): entry members, accounts, canonical bytes, hashes.

Pure functions, no database: the append service, the exporters and the verifier all use these,
so there is exactly one definition of what an entry is and how it is hashed.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any

import orjson

GENESIS_HASH = "0" * 64
ENTRY_MEMBERS = frozenset(
    {"project", "seq", "at", "kind", "memo", "ref", "postings", "prev", "hash"}
)
POSTING_MEMBERS = frozenset({"account", "amount", "currency"})
AT_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
HASH_PATTERN = re.compile(r"^[0-9a-f]{64}$")
CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}$")
_SLUG = r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?"
ACCOUNT_PATTERNS = (
    re.compile(rf"^fund:{_SLUG}$"),
    re.compile(r"^donors:(?:online|offline)$"),
    re.compile(rf"^sponsor:{_SLUG}$"),
    re.compile(rf"^fees:{_SLUG}$"),
    re.compile(r"^payees$"),
    re.compile(rf"^community:{_SLUG}$"),
)


class EntryKind(StrEnum):
    DONATION = "donation"
    OFFLINE_DONATION = "offline_donation"
    MATCHING = "matching"
    FEE = "fee"
    REFUND = "refund"
    EXPENDITURE = "expenditure"
    TRANSFER = "transfer"
    REVERSAL = "reversal"


DONATION_KINDS = frozenset({EntryKind.DONATION, EntryKind.OFFLINE_DONATION})


def fund_account(project_slug: str) -> str:
    return f"fund:{project_slug}"


@lru_cache(maxsize=4096)
def is_known_account(account: str) -> bool:
    """Cached: a ledger names the same few accounts over and over."""
    return any(pattern.match(account) for pattern in ACCOUNT_PATTERNS)


def format_at(moment: datetime) -> str:
    """RFC 3339 in UTC with microseconds, as hashed: `2026-11-23T08:15:30.123456Z`."""
    if moment.tzinfo is None:
        raise ValueError("ledger times must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_bytes(entry: Mapping[str, Any]) -> bytes:
    """The bytes an entry's hash covers: the entry without `hash`, exactly as ledger.md says.

    ledger.md defines them with Python's `json.dumps(sort_keys=True, separators=(",", ":"),
    ensure_ascii=False)`. orjson with sorted keys writes the same bytes for every value an
    entry can hold (checked for every code point in tests/projects/ledger/test_ledger_canonical.py)
    about five times faster, which is what lets a resident verify a million entries in
    seconds. Whatever orjson refuses (integers beyond 64 bits, lone surrogates, odd keys) goes
    through the definition itself, which decides.
    """
    without_hash = {key: value for key, value in entry.items() if key != "hash"}
    try:
        return orjson.dumps(without_hash, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return json.dumps(
            without_hash, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode("utf-8")


def entry_hash(entry: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_bytes(entry)).hexdigest()


def public_entry(
    *,
    project: str,
    seq: int,
    at: str,
    kind: str,
    memo: str,
    ref: str,
    postings: Sequence[Mapping[str, Any]],
    prev: str,
) -> dict[str, Any]:
    """The exported entry object, `hash` included, with members in ledger.md's order."""
    entry: dict[str, Any] = {
        "project": project,
        "seq": seq,
        "at": at,
        "kind": kind,
        "memo": memo,
        "ref": ref,
        "postings": [
            {"account": p["account"], "amount": p["amount"], "currency": p["currency"]}
            for p in postings
        ],
        "prev": prev,
    }
    entry["hash"] = entry_hash(entry)
    return entry


def figures_delta(postings: Sequence[Mapping[str, Any]], project_slug: str) -> tuple[int, int, int]:
    """How one entry moves the project's (balance, raised, spent), read from its accounts.

    Derived from accounts rather than kinds, so anyone can recompute the figures from an export
    and reversals need no special case: *raised* is what came from donors and sponsors (less
    what went back to them: refunds and reversed donations or matches), *spent* is what went to
    payees (less reversed expenditures), *balance* is the fund.
    """
    fund = fund_account(project_slug)
    balance = raised = spent = 0
    for posting in postings:
        account, amount = posting["account"], posting["amount"]
        if account == fund:
            balance += amount
        elif account.startswith(("donors:", "sponsor:")):
            raised -= amount
        elif account == "payees":
            spent += amount
    return balance, raised, spent
