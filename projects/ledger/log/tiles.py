"""tlog-tiles: tiles of height 8, their paths, and the entry bundles. Pure.

A tile at level L holds hashes of tree level 8·L; `tile_for_hash` says which tile (and which
of its hashes) a complete subtree's hash is computed from, so proofs read tiles, not nodes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from linju.projects.ledger.log.merkle import HASH_SIZE, HashReader, ProofError, node_hash

HEIGHT = 8
WIDTH = 1 << HEIGHT  # 256 hashes in a full tile
MAX_LEAF = 0xFFFF  # entry bundles prefix each leaf with a uint16


class TilePathError(ValueError):
    """A path that names no tile."""


@dataclass(frozen=True, slots=True, order=True)
class Tile:
    level: int  # -1: an entry bundle
    index: int
    width: int  # 1..256; 256 is a full tile

    @property
    def full(self) -> bool:
        return self.width == WIDTH

    def path(self) -> str:
        head = "tile/entries" if self.level < 0 else f"tile/{self.level}"
        tail = "" if self.full else f".p/{self.width}"
        return f"{head}/{encode_index(self.index)}{tail}"


def encode_index(n: int) -> str:
    """1234067 → `x001/x234/067`."""
    if n < 0:
        raise ValueError(n)
    groups = []
    while True:
        groups.append(n % 1000)
        n //= 1000
        if n == 0:
            break
    groups.reverse()
    return "/".join([f"x{g:03d}" for g in groups[:-1]] + [f"{groups[-1]:03d}"])


_ELEMENT = re.compile(r"^x\d{3}$")
_LAST = re.compile(r"^\d{3}$")
_DECIMAL = re.compile(r"^(0|[1-9]\d*)$")


def parse_path(path: str) -> Tile:
    """`tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]` (no leading slash) → a Tile."""
    parts = path.split("/")
    if len(parts) < 3 or parts[0] != "tile":
        raise TilePathError(path)
    if parts[1] == "entries":
        level = -1
    elif _DECIMAL.match(parts[1]) and len(parts[1]) <= 2 and int(parts[1]) <= 63:
        level = int(parts[1])
    else:
        raise TilePathError(path)
    rest = parts[2:]
    width = WIDTH
    if len(rest) >= 2 and rest[-2].endswith(".p"):
        w = rest[-1]
        if not _DECIMAL.match(w) or len(w) > 3 or not 1 <= int(w) <= 255:
            raise TilePathError(path)
        width = int(w)
        rest = [*rest[:-2], rest[-2][:-2]]
    if not rest or len(rest) > 7:
        raise TilePathError(path)
    if not all(_ELEMENT.match(e) for e in rest[:-1]) or not _LAST.match(rest[-1]):
        raise TilePathError(path)
    index = 0
    for element in rest:
        index = index * 1000 + int(element.lstrip("x"))
    if len(rest) > 1 and rest[0] == "x000":
        raise TilePathError(path)  # one encoding per index
    return Tile(level, index, width)


def tiles_for_size(size: int) -> list[Tile]:
    """The hash tiles (rightmost ones partial) that the tree of `size` leaves consists of, at
    the right edge: for each level, the last tile with something in it."""
    out = []
    level = 0
    while (size >> (HEIGHT * level)) > 0:
        count = size >> (HEIGHT * level)
        index, width = divmod(count, WIDTH)
        if width:
            out.append(Tile(level, index, width))
        elif index:
            out.append(Tile(level, index - 1, WIDTH))
        level += 1
    return out


def width_at(level: int, index: int, size: int) -> int:
    """How many hashes tile (level, index) holds in the tree of `size` leaves (0: none, 256:
    full); level -1 is the entry bundle, as wide as level 0."""
    count = size >> (HEIGHT * max(level, 0))
    return max(0, min(WIDTH, count - index * WIDTH))


def tile_for_hash(level: int, index: int) -> tuple[int, int, int, int]:
    """The complete subtree (level, index) is the hash of hashes [lo, lo+n) of tile
    (tile_level, tile_index): returns (tile_level, tile_index, lo, n)."""
    tile_level, sub = divmod(level, HEIGHT)
    first = index << sub
    tile_index, lo = divmod(first, WIDTH)
    return tile_level, tile_index, lo, 1 << sub


def hash_from_tile(data: bytes, lo: int, n: int) -> bytes:
    """The root of the n (a power of two) consecutive hashes of `data` from hash lo."""
    if (lo + n) * HASH_SIZE > len(data):
        raise ProofError("a tile is shorter than a hash needs")
    hashes = [data[i * HASH_SIZE : (i + 1) * HASH_SIZE] for i in range(lo, lo + n)]
    while len(hashes) > 1:
        hashes = [node_hash(hashes[i], hashes[i + 1]) for i in range(0, len(hashes), 2)]
    return hashes[0]


def tiles_needed(hashes: Iterable[tuple[int, int]]) -> set[tuple[int, int]]:
    """The (tile level, tile index) pairs from which the complete subtrees named are read."""
    return {tile_for_hash(level, index)[:2] for level, index in hashes}


def reader_over_tiles(tiles: Mapping[tuple[int, int], bytes]) -> HashReader:
    """A HashReader over tile data keyed by (level, index); each tile's data may be partial."""

    def read(level: int, index: int) -> bytes:
        tile_level, tile_index, lo, n = tile_for_hash(level, index)
        data = tiles.get((tile_level, tile_index))
        if data is None:
            raise ProofError(f"tile {tile_level}/{tile_index} is missing")
        return hash_from_tile(data, lo, n)

    return read


def bundle(leaves: Iterable[bytes]) -> bytes:
    """An entry bundle: each leaf as a big-endian uint16 length and the bytes."""
    out = bytearray()
    for leaf in leaves:
        if len(leaf) > MAX_LEAF:
            raise ValueError("a leaf is longer than 65,535 bytes")
        out += len(leaf).to_bytes(2, "big") + leaf
    return bytes(out)


def unbundle(data: bytes) -> Iterator[bytes]:
    """The leaves of an entry bundle (ValueError when it is cut short)."""
    at = 0
    while at < len(data):
        if at + 2 > len(data):
            raise ValueError("an entry bundle ends inside a length")
        length = int.from_bytes(data[at : at + 2], "big")
        at += 2
        if at + length > len(data):
            raise ValueError("an entry bundle ends inside an entry")
        yield data[at : at + length]
        at += length


class TileTree:
    """The right edge of a tiled tree, grown leaf by leaf: the rightmost tile of each level
    (partial or just filled). `append` returns nothing; `changed` lists the tiles (with their
    full data) written since the last `take_changed`, full tiles and the partial right edge."""

    def __init__(self, size: int, right: Mapping[int, bytes]) -> None:
        """`right[level]` is the data of the partial tile of that level at `size` (levels whose
        rightmost tile is full need none)."""
        self.size = size
        self._edge: dict[int, bytearray] = {}
        for tile in tiles_for_size(size):
            if tile.full:
                continue
            data = right.get(tile.level, b"")
            if len(data) != tile.width * HASH_SIZE:
                raise ProofError(f"the stored tile at level {tile.level} has the wrong width")
            self._edge[tile.level] = bytearray(data)
        self._completed: dict[tuple[int, int], bytes] = {}
        self._touched: set[int] = set()

    def append(self, leaf: bytes) -> None:
        h = leaf
        level = 0
        position = self.size
        self.size += 1
        while True:
            edge = self._edge.setdefault(level, bytearray())
            edge += h
            self._touched.add(level)
            if len(edge) < WIDTH * HASH_SIZE:
                return
            index = position >> (HEIGHT * (level + 1))
            full = bytes(edge)
            self._completed[(level, index)] = full
            self._edge[level] = bytearray()
            h = hash_from_tile(full, 0, WIDTH)
            level += 1

    def extend(self, leaves: Sequence[bytes]) -> None:
        """`append` each of `leaves` in turn: the hashes that do not fill a tile are added to
        the edge at once."""
        at, count = 0, len(leaves)
        while at < count:
            edge = self._edge.setdefault(0, bytearray())
            room = WIDTH - len(edge) // HASH_SIZE  # at least one: a full edge is emptied
            part = leaves[at : at + room]
            if len(part) > 1:
                edge += b"".join(part[:-1])
                self.size += len(part) - 1
                self._touched.add(0)
            self.append(part[-1])
            at += len(part)

    def take_changed(self) -> dict[tuple[int, int], bytes]:
        """Tiles to store: each one completed, and the partial right edge of each level
        touched (keyed by (level, index))."""
        out = dict(self._completed)
        for level in self._touched:
            edge = self._edge.get(level)
            if edge:
                index = (self.size >> (HEIGHT * level)) // WIDTH
                out[(level, index)] = bytes(edge)
        self._completed.clear()
        self._touched.clear()
        return out

    def right_edge(self) -> dict[tuple[int, int], bytes]:
        """The partial tiles of every level at the current size."""
        out = {}
        for level, edge in self._edge.items():
            if edge:
                out[(level, (self.size >> (HEIGHT * level)) // WIDTH)] = bytes(edge)
        return out
