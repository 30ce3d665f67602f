"""A tlog-tiles client: what a witness, a monitor or an auditor runs against the log from outside.

It trusts nothing it fetches: checkpoints must carry the pinned key's signature, every proof is
computed locally from tiles, and a monitor rebuilds the tree from the entries themselves. No Django:
`fetch` is any function from a path under the log's URL to bytes (urllib for real, a test client in tests).
"""

from __future__ import annotations

import base64
import json
import struct
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .entry import Entry, EntryError
from .merkle import ProofError, consistency_proof, leaf_hash, verify_consistency
from .note import Checkpoint, NoteError, Signer, Verifier, cosign, open_checkpoint
from .tiles import WIDTH, Appender, subtree_reader, tile_path

Fetch = Callable[[str], bytes]


class Alarm(Exception):
    """The log showed something no honest log can: a fork, a rewritten entry, a bad signature."""


def http_fetch(base_url: str, timeout: float = 30) -> Fetch:
    def fetch(path: str) -> bytes:
        with urllib.request.urlopen(f"{base_url.rstrip('/')}/{path}", timeout=timeout) as response:
            return bytes(response.read())

    return fetch


@dataclass
class LogClient:
    fetch: Fetch
    key: Verifier
    origin: str | None = None
    _tiles: dict[tuple[int | str, int, int], bytes] = field(default_factory=dict)

    def checkpoint(self) -> tuple[Checkpoint, str]:
        note = self.fetch("checkpoint").decode()
        try:
            return open_checkpoint(note, self.key, self.origin), note
        except NoteError as exc:
            raise Alarm(f"the checkpoint does not verify: {exc}") from exc

    def _tile(self, level: int | str, index: int, tree_size: int) -> bytes:
        height = 0 if level == "entries" else int(level)
        available = tree_size >> (8 * height)
        width = min(WIDTH, available - index * WIDTH)
        key = (level, index, width)
        if key not in self._tiles:
            self._tiles[key] = self.fetch(tile_path(level, index, width))
        return self._tiles[key]

    def subtree(self, tree_size: int) -> Callable[[int, int], bytes]:
        return subtree_reader(lambda level, index: self._tile(level, index, tree_size))

    def entries(self, start: int, end: int, tree_size: int) -> list[bytes]:
        out: list[bytes] = []
        bundles = range(start // WIDTH, (end - 1) // WIDTH + 1) if end > start else range(0)
        for bundle in bundles:
            data, offset, items = self._tile("entries", bundle, tree_size), 0, []
            while offset < len(data):
                (length,) = struct.unpack(">H", data[offset:offset + 2])
                items.append(data[offset + 2:offset + 2 + length])
                offset += 2 + length
            first = bundle * WIDTH
            out += items[max(start - first, 0):end - first]
        return out


@dataclass
class View:
    """What a witness or monitor last accepted: a tree size, its root, and (monitor) the right edge."""

    size: int = 0
    root: bytes = b""
    edge: dict[int, bytes] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> View:
        if not path.exists():
            return cls()
        raw = json.loads(path.read_text())
        return cls(raw["size"], base64.b64decode(raw["root"]),
                   {int(k): base64.b64decode(v) for k, v in raw.get("edge", {}).items()})

    def save(self, path: Path) -> None:
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"size": self.size, "root": base64.b64encode(self.root).decode(),
                                         "edge": {k: base64.b64encode(v).decode() for k, v in self.edge.items()}}))
        temporary.replace(path)


def check_consistent(client: LogClient, seen: View, new: Checkpoint) -> None:
    if new.size < seen.size:
        raise Alarm(f"the log shrank from {seen.size} to {new.size}")
    if seen.size == 0:
        return
    try:
        proof = consistency_proof(seen.size, new.size, client.subtree(new.size)) if new.size > seen.size else []
    except (ProofError, OSError) as exc:
        raise Alarm(f"no consistency proof from {seen.size} to {new.size}: {exc}") from exc
    if not verify_consistency(seen.size, new.size, seen.root, new.root, proof):
        raise Alarm(f"SPLIT VIEW: the tree of size {new.size} does not extend the tree of size {seen.size} "
                    "seen before")


@dataclass
class MonitorReport:
    size: int
    new_entries: int
    by_event: dict[str, int]


def monitor_step(client: LogClient, seen: View) -> tuple[View, MonitorReport]:
    """Follow the log to its latest checkpoint: check consistency, fetch and rebuild every new entry."""
    checkpoint, _ = client.checkpoint()
    check_consistent(client, seen, checkpoint)
    appender = Appender(seen.size, {k: bytearray(v) for k, v in seen.edge.items()})
    raw = client.entries(seen.size, checkpoint.size, checkpoint.size)
    if len(raw) != checkpoint.size - seen.size:
        raise Alarm(f"expected {checkpoint.size - seen.size} entries, the log served {len(raw)}")
    by_event: dict[str, int] = {}
    for data in raw:
        try:
            entry = Entry.decode(data)
        except EntryError as exc:
            raise Alarm(f"entry {appender.size} is not a valid entry: {exc}") from exc
        by_event[entry.event] = by_event.get(entry.event, 0) + 1
        appender.append(leaf_hash(data))
    if appender.root() != checkpoint.root:
        raise Alarm(f"the entries do not hash to the checkpoint's root at size {checkpoint.size}")
    edge = {level: bytes(row) for level, row in appender.edge.items() if row}
    return View(checkpoint.size, checkpoint.root, edge), MonitorReport(checkpoint.size, len(raw), by_event)


def witness_step(client: LogClient, seen: View, signer: Signer, post: Callable[[str], bytes], now: int) -> View:
    """Cosign the log's latest checkpoint if, and only if, it extends the last one this witness cosigned."""
    checkpoint, note = client.checkpoint()
    check_consistent(client, seen, checkpoint)
    post(note + cosign(checkpoint.body, signer, now).line)
    return View(checkpoint.size, checkpoint.root)
