"""The log's Merkle tree stored as C2SP tlog-tiles, and appended to along its right edge.

A tile at level L, index N holds up to 256 consecutive hashes of the tree at height 8·L. Tiles only
ever grow at the end, so a partial tile is a prefix of the full tile it becomes: one stored row per
tile serves every width a checkpoint ever needed. Pure Python, no Django.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from .merkle import EMPTY_ROOT, HASH_SIZE, ProofError, SubtreeHash, range_hash, root_of

HEIGHT = 8
WIDTH = 1 << HEIGHT
FULL = WIDTH * HASH_SIZE

TileKey = tuple[int, int]  # (level, index)
ReadTile = Callable[[int, int], bytes]


def hashes_of(data: bytes) -> list[bytes]:
    return [data[i:i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


def _index_path(index: int) -> str:
    digits = f"{index:03d}"
    digits = "0" * (-len(digits) % 3) + digits
    groups = [digits[i:i + 3] for i in range(0, len(digits), 3)]
    return "/".join([*("x" + g for g in groups[:-1]), groups[-1]])


def tile_path(level: int | str, index: int, width: int = WIDTH) -> str:
    """tile/<L>/<N>[.p/<W>] with N in zero-padded, x-prefixed 3-digit groups (c2sp.org/tlog-tiles)."""
    suffix = f".p/{width}" if width < WIDTH else ""
    return f"tile/{level}/{_index_path(index)}{suffix}"


_TILE = re.compile(r"^tile/(?P<level>entries|0|[1-9]\d?)/(?P<index>(?:x\d{3}/)*\d{3})(?:\.p/(?P<width>[1-9]\d{0,2}))?$")


def parse_tile_path(path: str) -> tuple[int | str, int, int]:
    match = _TILE.match(path)
    if not match:
        raise ValueError(f"not a tile path: {path!r}")
    width = int(match["width"] or WIDTH)
    level: int | str = match["level"] if match["level"] == "entries" else int(match["level"])
    index = int(match["index"].replace("x", "").replace("/", ""))
    if width > WIDTH or (isinstance(level, int) and level > 63) or tile_path(level, index, width) != path:
        raise ValueError(f"not a canonical tile path: {path!r}")
    return level, index, width


def edge_keys(size: int) -> dict[TileKey, int]:
    """The partial tiles of a tree of `size`, with their widths."""
    keys: dict[TileKey, int] = {}
    level = 0
    while size >> (HEIGHT * level):
        width = (size >> (HEIGHT * level)) % WIDTH
        if width:
            keys[(level, size >> (HEIGHT * (level + 1)))] = width
        level += 1
    return keys


def subtree_reader(read: ReadTile) -> SubtreeHash:
    """MTH of a complete subtree, from the one tile that holds its hashes at the tile level below it."""

    def subtree(start: int, height: int) -> bytes:
        level, rest = divmod(height, HEIGHT)
        first = start >> (HEIGHT * level)
        index, offset = divmod(first, WIDTH)
        data = read(level, index)
        wanted = data[offset * HASH_SIZE:(offset + (1 << rest)) * HASH_SIZE]
        if len(wanted) != (1 << rest) * HASH_SIZE:
            raise ProofError(f"tile {level}/{index} does not reach that far")
        return root_of(hashes_of(wanted))

    return subtree


def tree_root(size: int, read: ReadTile) -> bytes:
    return range_hash(0, size, subtree_reader(read)) if size else EMPTY_ROOT


@dataclass
class Appender:
    """Appends leaf hashes to a tree, given its partial tiles; reports every tile it changed."""

    size: int
    edge: dict[int, bytearray] = field(default_factory=dict)  # level -> the partial tile's hashes
    changed: dict[TileKey, bytes] = field(default_factory=dict)

    @classmethod
    def load(cls, size: int, read: ReadTile) -> Appender:
        appender = cls(size)
        for (level, index), width in edge_keys(size).items():
            data = read(level, index)[:width * HASH_SIZE]
            if len(data) != width * HASH_SIZE:
                raise ProofError(f"tile {level}/{index} is shorter than the tree of size {size} needs")
            appender.edge[level] = bytearray(data)
        return appender

    def append(self, leaf: bytes) -> int:
        index = self.size
        self.size += 1
        level, pushed = 0, leaf
        while True:
            row = self.edge.setdefault(level, bytearray())
            row += pushed
            if len(row) < FULL:
                break
            self.changed[(level, (self.size >> (HEIGHT * (level + 1))) - 1)] = bytes(row)
            pushed = root_of(hashes_of(bytes(row)))
            row.clear()
            level += 1
        return index

    def tiles(self) -> dict[TileKey, bytes]:
        """Every tile this appender filled or extended, partial ones at their current width."""
        changed = dict(self.changed)
        for (level, index) in edge_keys(self.size):
            changed[(level, index)] = bytes(self.edge[level])
        return changed

    def read(self, level: int, index: int) -> bytes:
        data = self.changed.get((level, index))
        if data is None and (level, index) in edge_keys(self.size):
            data = bytes(self.edge[level])
        if data is None:
            raise ProofError(f"tile {level}/{index} is not on this appender's edge")
        return data

    def root(self) -> bytes:
        return tree_root(self.size, self.read)
