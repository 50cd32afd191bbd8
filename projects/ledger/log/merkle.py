"""RFC 9162 §2.1 Merkle trees: hashes, inclusion and consistency proofs. Pure.

Proofs are computed from the hashes of complete subtrees, which the caller reads from wherever
it keeps them (`HashReader(level, index)`: the hash of leaves `[index·2^level, (index+1)·2^level)`).
`needed_hashes` runs a computation with a reader that only records, so a service can fetch
every hash a proof needs in one round before computing it for real.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

HashReader = Callable[[int, int], bytes]


class ProofError(ValueError):
    """A proof that does not hold, or a request for one that cannot exist."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n ≥ 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def subtree_hash(start: int, end: int, read: HashReader) -> bytes:
    """MTH(D[start:end]) for a range whose start is a multiple of the largest power of two
    below its size (every range RFC 9162's recursion visits is)."""
    size = end - start
    if size <= 0:
        raise ProofError("empty range")
    if size & (size - 1) == 0:
        level = size.bit_length() - 1
        return read(level, start >> level)
    k = _split(size)
    return node_hash(subtree_hash(start, start + k, read), subtree_hash(start + k, end, read))


def tree_hash(size: int, read: HashReader) -> bytes:
    """The root of the tree of the first `size` leaves."""
    return EMPTY_ROOT if size == 0 else subtree_hash(0, size, read)


def inclusion_proof(index: int, size: int, read: HashReader) -> list[bytes]:
    """RFC 9162 §2.1.3.1 PATH(index, D[0:size]), the leaf's sibling first."""
    if not 0 <= index < size:
        raise ProofError(f"index {index} is not in a tree of size {size}")
    return _path(index, 0, size, read)


def _path(m: int, start: int, end: int, read: HashReader) -> list[bytes]:
    n = end - start
    if n == 1:
        return []
    k = _split(n)
    if m < k:
        return [*_path(m, start, start + k, read), subtree_hash(start + k, end, read)]
    return [*_path(m - k, start + k, end, read), subtree_hash(start, start + k, read)]


def consistency_proof(old: int, new: int, read: HashReader) -> list[bytes]:
    """RFC 9162 §2.1.4.1 PROOF(old, D[0:new]); empty when old is 0 or equals new."""
    if not 0 <= old <= new:
        raise ProofError(f"no consistency proof from size {old} to size {new}")
    if old in (0, new):
        return []
    return _subproof(old, 0, new, True, read)


def _subproof(m: int, start: int, end: int, whole: bool, read: HashReader) -> list[bytes]:
    n = end - start
    if m == n:
        return [] if whole else [subtree_hash(start, end, read)]
    k = _split(n)
    if m <= k:
        return [*_subproof(m, start, start + k, whole, read), subtree_hash(start + k, end, read)]
    return [*_subproof(m - k, start + k, end, False, read), subtree_hash(start, start + k, read)]


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """RFC 9162 §2.1.3.2: the root an inclusion proof leads to (ProofError if malformed)."""
    if not 0 <= index < size:
        raise ProofError(f"index {index} is not in a tree of size {size}")
    fn, sn = index, size - 1
    r = leaf
    for p in proof:
        if len(p) != HASH_SIZE:
            raise ProofError("a proof hash is not 32 bytes")
        if sn == 0:
            raise ProofError("the inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the inclusion proof is too short")
    return r


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    if root_from_inclusion(index, size, leaf, proof) != root:
        raise ProofError("the inclusion proof does not lead to the root")


def verify_consistency(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """RFC 9162 §2.1.4.2; raises ProofError unless the proof holds."""
    if not 0 <= old <= new:
        raise ProofError(f"size {old} is larger than size {new}")
    if any(len(p) != HASH_SIZE for p in proof):
        raise ProofError("a proof hash is not 32 bytes")
    if old == 0:
        if proof:
            raise ProofError("a consistency proof from the empty tree must be empty")
        return
    if old == new:
        if proof:
            raise ProofError("a consistency proof between equal sizes must be empty")
        if old_root != new_root:
            raise ProofError("two different roots for the same size")
        return
    if not proof:
        raise ProofError("the consistency proof is empty")
    path = list(proof)
    if old & (old - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the consistency proof is too short")
    if fr != old_root:
        raise ProofError("the consistency proof does not lead to the old root")
    if sr != new_root:
        raise ProofError("the consistency proof does not lead to the new root")


def needed_hashes(compute: Callable[[HashReader], object]) -> set[tuple[int, int]]:
    """The (level, index) pairs `compute` reads, found by running it over placeholder hashes."""
    seen: set[tuple[int, int]] = set()

    def record(level: int, index: int) -> bytes:
        seen.add((level, index))
        return bytes(HASH_SIZE)

    compute(record)
    return seen


def reader_over_leaves(leaf_hashes: Sequence[bytes]) -> HashReader:
    """A reader computing each complete subtree from the leaf hashes (tests, small trees)."""

    def read(level: int, index: int) -> bytes:
        start, end = index << level, (index + 1) << level
        if end > len(leaf_hashes):
            raise ProofError(f"no complete subtree ({level}, {index})")
        return _mth(leaf_hashes[start:end])

    return read


def _mth(hashes: Sequence[bytes]) -> bytes:
    if len(hashes) == 1:
        return hashes[0]
    k = _split(len(hashes))
    return node_hash(_mth(hashes[:k]), _mth(hashes[k:]))
