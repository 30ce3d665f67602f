"""Recompute a log from its stored entries and compare with everything it published."""

from __future__ import annotations

from dataclasses import dataclass, field

from .keys import log_verifier
from .merkle import leaf_hash
from .models import Checkpoint, Entry, Log
from .note import NoteError, open_checkpoint
from .sequencer import tile_reader
from .tiles import Appender, edge_keys


@dataclass
class LogCheck:
    origin: str
    size: int
    entries: int = 0
    checkpoints: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_log(log: Log) -> LogCheck:
    """Every entry in index order without gaps, its leaf hash, every stored tile, every checkpoint's root
    and signature: all recomputed from the entries alone."""
    report = LogCheck(log.origin, log.size)
    roots_at = {c.size: c for c in Checkpoint.objects.filter(log=log)}
    report.checkpoints = len(roots_at)
    appender = Appender(0)
    read = tile_reader(log.pk)
    for entry in Entry.objects.filter(log=log).order_by("index").only("index", "leaf_hash", "data").iterator(2000):
        if entry.index != appender.size:
            report.problems.append(f"entry index {entry.index} where {appender.size} was expected")
            break
        if leaf_hash(bytes(entry.data)) != bytes(entry.leaf_hash):
            report.problems.append(f"entry {entry.index}: its data does not hash to its leaf hash")
        appender.append(leaf_hash(bytes(entry.data)))
        report.entries += 1
        if appender.size in roots_at:
            checkpoint = roots_at[appender.size]
            if appender.root() != bytes(checkpoint.root):
                report.problems.append(f"checkpoint {checkpoint.size}: root differs from the entries'")
            try:
                open_checkpoint(checkpoint.note, log_verifier(), log.origin)
            except NoteError as exc:
                report.problems.append(f"checkpoint {checkpoint.size}: {exc}")
        for (level, index), data in appender.changed.items():
            if read(level, index)[:len(data)] != data:
                report.problems.append(f"tile {level}/{index} differs from the entries'")
        appender.changed.clear()
    if appender.size != log.size:
        report.problems.append(f"{appender.size} entries, the log head says {log.size}")
    for (level, index), width in edge_keys(appender.size).items():
        if read(level, index)[:width * 32] != bytes(appender.edge[level]):
            report.problems.append(f"partial tile {level}/{index} differs from the entries'")
    if log.size and bytes(log.root) != appender.root():
        report.problems.append("the log head's root differs from the entries'")
    unknown = [s for s in roots_at if s > appender.size]
    if unknown:
        report.problems.append(f"checkpoints beyond the entries: {sorted(unknown)[:5]}")
    return report
