"""`linju log monitor`: what a district's auditor runs nightly against a platform.

It fetches the checkpoint and checks the log key's signature; checks that the new tree extends
the one kept in the state file (a consistency proof computed from the served tiles, with every
hash of the new part recomputed from the served leaves); checks that every new leaf is a
well-formed entry that continues its project's hash chain; and compares every project's export
with the log's leaves, entry by entry. Only when everything holds is the new state kept. Each
problem is one line naming it: a fork, a bad signature, a broken chain, a missing or rewritten
entry.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import httpx

from linju.projects.ledger.format import entry_hash
from linju.projects.ledger.log import merkle, tiles
from linju.projects.ledger.log.merkle import EMPTY_ROOT, ProofError, leaf_hash, node_hash
from linju.projects.ledger.log.note import (
    NoteError,
    Verifier,
    b64,
    b64decode,
    open_note,
    parse_checkpoint,
)
from linju.projects.ledger.verify import ChainState, check_next


class MonitorFault(Exception):
    """What is wrong, in one line."""


class MonitorError(Exception):
    """The monitor could not do its work (network, state file): not a verdict."""


def _load(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {"size": 0, "root": b64(EMPTY_ROOT), "projects": {}}
    try:
        state: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        b64decode(state["root"])
        int(state["size"])
        dict(state["projects"])
    except (OSError, ValueError, KeyError, TypeError, NoteError) as error:
        raise MonitorError(f"cannot read the state file {path}: {error}") from None
    return state


def _save(path: Path, state: dict[str, Any]) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
    temporary.replace(path)


class _Fetcher:
    def __init__(self, base_url: str, client: httpx.Client) -> None:
        self.base = base_url.rstrip("/")
        self.client = client
        self.cache: dict[tuple[int, int], bytes] = {}

    def get(self, path: str) -> httpx.Response:
        try:
            answer = self.client.get(self.base + path)
        except httpx.HTTPError as error:
            raise MonitorError(f"{path}: {error}") from None
        return answer

    def tile(self, level: int, index: int, size: int) -> bytes:
        key = (level, index)
        if key not in self.cache:
            width = tiles.width_at(level, index, size)
            path = "/log/" + tiles.Tile(level, index, width).path()
            answer = self.get(path)
            if answer.status_code != 200:
                raise MonitorFault(f"missing tile: {path} answers {answer.status_code}")
            self.cache[key] = answer.content
        return self.cache[key]


def run(base_url: str, log_key: Verifier, state_path: Path) -> str:
    """One round; the line to print when everything holds (MonitorFault otherwise)."""
    state = _load(state_path)
    with httpx.Client(timeout=30.0, follow_redirects=False) as client:
        fetch = _Fetcher(base_url, client)
        answer = fetch.get("/log/checkpoint")
        if answer.status_code != 200:
            raise MonitorError(f"/log/checkpoint answers {answer.status_code}")
        try:
            note = open_note(answer.content, [log_key])
            checkpoint = parse_checkpoint(note.text)
        except NoteError as error:
            raise MonitorFault(f"bad signature: the checkpoint does not verify ({error})") from None
        if checkpoint.origin != log_key.name:
            raise MonitorFault(f"bad signature: origin {checkpoint.origin!r} is not the key's")
        old, old_root = int(state["size"]), b64decode(state["root"])
        new = checkpoint.size
        if new < old or (new == old and checkpoint.root != old_root):
            raise MonitorFault(
                f"fork: the log now shows size {new} root {b64(checkpoint.root)}, after size "
                f"{old} root {b64(old_root)}"
            )
        leaves = _new_leaves(fetch, old, new)
        hashes = [leaf_hash(leaf) for leaf in leaves]

        def read(level: int, index: int) -> bytes:
            lo, hi = index << level, (index + 1) << level
            if hi <= old:
                tile_level, tile_index, first, count = tiles.tile_for_hash(level, index)
                return tiles.hash_from_tile(fetch.tile(tile_level, tile_index, new), first, count)
            if lo >= old:
                return merkle.reader_over_leaves(hashes)(level, (lo - old) >> level)
            return node_hash(read(level - 1, 2 * index), read(level - 1, 2 * index + 1))

        try:
            if merkle.tree_hash(new, read) != checkpoint.root:
                raise ProofError("the served leaves do not add up to the signed root")
            proof = merkle.consistency_proof(old, new, read) if old else []
            merkle.verify_consistency(old, new, old_root, checkpoint.root, proof)
        except ProofError as error:
            raise MonitorFault(f"fork: size {new} does not extend size {old} ({error})") from None
        projects: dict[str, dict[str, Any]] = state["projects"]
        for offset, leaf in enumerate(leaves):
            _follow(projects, old + offset, leaf)
        for slug, kept in sorted(projects.items()):
            _compare_export(fetch, slug, kept["hashes"])
    state = {"size": new, "root": b64(checkpoint.root), "projects": projects}
    _save(state_path, state)
    return f"OK: size {new}, {len(leaves)} new leaves, {len(projects)} projects match the log"


def _new_leaves(fetch: _Fetcher, old: int, new: int) -> list[bytes]:
    out: list[bytes] = []
    for n in range(old // tiles.WIDTH, (new + tiles.WIDTH - 1) // tiles.WIDTH):
        width = tiles.width_at(-1, n, new)
        path = "/log/" + tiles.Tile(-1, n, width).path()
        answer = fetch.get(path)
        if answer.status_code != 200:
            raise MonitorFault(f"missing leaf: {path} answers {answer.status_code}")
        try:
            bundle = list(tiles.unbundle(answer.content))
        except ValueError as error:
            raise MonitorFault(f"missing leaf: {path}: {error}") from None
        if len(bundle) != width:
            raise MonitorFault(f"missing leaf: {path} holds {len(bundle)} of {width} entries")
        start = n * tiles.WIDTH
        out.extend(bundle[max(old - start, 0) :])
    return out[: new - old]


def _follow(projects: dict[str, dict[str, Any]], index: int, leaf: bytes) -> None:
    try:
        entry = json.loads(leaf.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise MonitorFault(f"broken chain: leaf {index} is not a JSON entry") from None
    slug = entry.get("project") if isinstance(entry, dict) else None
    if not isinstance(slug, str):
        raise MonitorFault(f"broken chain: leaf {index} names no project")
    kept = projects.setdefault(slug, {"chain": asdict(ChainState(project=slug)), "hashes": []})
    chain = ChainState(**kept["chain"])
    fault = check_next(chain, entry)
    if fault is not None:
        raise MonitorFault(f"broken chain: leaf {index}, {slug} {fault}")
    kept["chain"] = asdict(chain)
    kept["hashes"].append(entry["hash"])


def _compare_export(fetch: _Fetcher, slug: str, hashes: list[str]) -> None:
    answer = fetch.get(f"/api/v1/projects/{slug}/ledger.jsonl")
    if answer.status_code != 200:
        raise MonitorFault(f"missing entry: {slug}'s export answers {answer.status_code}")
    lines = answer.content.splitlines()
    for seq, logged in enumerate(hashes, start=1):
        if seq > len(lines):
            raise MonitorFault(f"missing entry: {slug} #{seq} is in the log, not in the export")
        try:
            entry = json.loads(lines[seq - 1])
        except ValueError:
            raise MonitorFault(
                f"rewritten entry: {slug} #{seq} of the export is not JSON"
            ) from None
        if not isinstance(entry, dict) or entry.get("seq") != seq:
            raise MonitorFault(f"missing entry: {slug} #{seq} is not where the log has it")
        try:
            sound = entry_hash({k: v for k, v in entry.items() if k != "hash"}) == logged
        except (TypeError, ValueError):
            sound = False
        if entry.get("hash") != logged or not sound:
            raise MonitorFault(
                f"rewritten entry: {slug} #{seq} in the export differs from the log "
                f"(hash {str(entry.get('hash'))[:16]}…, the log has {logged[:16]}…)"
            )
