"""Sequencing: entries go into this year's log in batches, each batch under a freshly signed checkpoint.

One transaction per batch writes the entries, the tiles they changed, the signed checkpoint and the new
log head, so a crash leaves either all of a batch or none of it. The log head row is locked (PostgreSQL
row lock; SQLite's IMMEDIATE transaction locks the file) and then moved by compare-and-swap on its size,
so two sequencers can never publish two different trees of the same size.

A registration waits for its batch to commit: when it returns, its entry is under a signed checkpoint.
Within one process, registrations from many threads share batches (`Batcher`); a caller already inside
a transaction is sequenced synchronously in it, since a batch on another connection could not commit
before the caller's own write lock is released.
"""

from __future__ import annotations

import datetime as dt
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import Q
from django.utils import timezone

from opentic.core.bulk import insert_rows

from . import entry as entries
from .keys import log_signer
from .merkle import inclusion_proof
from .models import Checkpoint, Entry, Log, Tile
from .note import Checkpoint as CheckpointBody
from .note import format_note, sign
from .tiles import Appender, ReadTile, TileKey, edge_keys, subtree_reader

MAX_BATCH = 5000


class SequencerConflict(RuntimeError):
    """Another sequencer moved the log head during this batch; nothing of the batch was kept."""


@dataclass(frozen=True)
class Sequenced:
    entry: Entry
    checkpoint: Checkpoint
    new: bool  # False when the same entry had been sequenced before (a retry)


def origin_for(year: int) -> str:
    return f"{settings.OPENTIC_LEDGER_ORIGIN}/{year}"


def _log_for_update(year: int) -> Log:
    log, _ = Log.objects.get_or_create(year=year, defaults={"origin": origin_for(year), "root": b""})
    return Log.objects.select_for_update().get(pk=log.pk)


def read_tiles(log_id: int, keys: list[TileKey]) -> dict[TileKey, bytes]:
    if not keys:
        return {}
    wanted = Q()
    for level, index in keys:
        wanted |= Q(level=level, index=index)
    return {(t.level, t.index): bytes(t.data) for t in Tile.objects.filter(wanted, log_id=log_id)}


def tile_reader(log_id: int) -> ReadTile:
    cache: dict[TileKey, bytes] = {}

    def read(level: int, index: int) -> bytes:
        if (level, index) not in cache:
            cache.update(read_tiles(log_id, [(level, index)]))
        return cache.get((level, index), b"")

    return read


def _write_tiles(log: Log, tiles: dict[TileKey, bytes]) -> None:
    existing = read_tiles(log.pk, list(tiles))
    for (level, index), data in tiles.items():
        if (level, index) in existing:
            if not data.startswith(existing[(level, index)]):
                raise SequencerConflict(f"tile {level}/{index} would change its past")  # never rewrite history
            Tile.objects.filter(log=log, level=level, index=index).update(data=data)
        else:
            Tile.objects.create(log=log, level=level, index=index, data=data)


def sequence(items: list[entries.Entry], now: dt.datetime | None = None) -> list[Sequenced]:
    """Append entries to the current year's log under one new signed checkpoint."""
    now = (now or timezone.now()).replace(microsecond=0)
    with transaction.atomic():
        log = _log_for_update(now.astimezone(dt.UTC).year)
        leaves = [item.leaf_hash for item in items]
        known = {bytes(e.leaf_hash): e for e in Entry.objects.filter(log=log, leaf_hash__in=set(leaves))}
        edge = read_tiles(log.pk, list(edge_keys(log.size)))
        appender = Appender.load(log.size, lambda level, index: edge.get((level, index), b""))
        stamp = connection.ops.adapt_datetimefield_value(now)
        rows, fresh = [], {}
        for item, leaf in zip(items, leaves, strict=True):
            if leaf in known or leaf in fresh:
                continue
            index = appender.append(leaf)
            fresh[leaf] = Entry(log=log, index=index, leaf_hash=leaf, institution=item.institution,
                                report=item.report, pdf=item.pdf, event=item.event, replaces=item.replaces,
                                claimed_at=item.time, sequenced_at=now)
            rows.append((log.pk, index, leaf, item.encode(), item.institution, item.report, item.pdf, item.event,
                         item.replaces, connection.ops.adapt_datetimefield_value(item.time), stamp))
        checkpoint: Checkpoint | None = None
        if rows:
            insert_rows(Entry, ["log_id", "index", "leaf_hash", "data", "institution", "report", "pdf", "event",
                                "replaces", "claimed_at", "sequenced_at"], rows)
            _write_tiles(log, appender.tiles())
            root = appender.root()
            body = CheckpointBody(log.origin, appender.size, root).body
            note = format_note(body, [sign(body, log_signer())])
            checkpoint = Checkpoint.objects.create(log=log, size=appender.size, root=root, note=note, signed_at=now)
            moved = Log.objects.filter(pk=log.pk, size=log.size).update(size=appender.size, root=root, checkpoint=note)
            if moved != 1:
                raise SequencerConflict("the log head moved during the batch")
        else:
            checkpoint = Checkpoint.objects.filter(log=log, size=log.size).first()
        if checkpoint is None:
            raise SequencerConflict("the log has entries but no checkpoint")  # unreachable unless tampered
        # The new entries are returned as built, not read back: they are exactly what was just written.
        by_leaf = {**fresh, **known}
        return [Sequenced(by_leaf[leaf], checkpoint, leaf in fresh) for leaf in leaves]


def proof_for(entry: Entry, checkpoint: Checkpoint) -> list[bytes]:
    return inclusion_proof(entry.index, checkpoint.size, subtree_reader(tile_reader(entry.log_id)))


# ---------------------------------------------------------------- batching within a process


class Batcher:
    def __init__(self, max_wait: float, max_batch: int = MAX_BATCH) -> None:
        self.max_wait, self.max_batch = max_wait, max_batch
        self.queue: queue.Queue[tuple[entries.Entry, Future[Sequenced]]] = queue.Queue()
        self.thread = threading.Thread(target=self._run, name="ledger-sequencer", daemon=True)
        self.thread.start()

    def submit(self, item: entries.Entry) -> Future[Sequenced]:
        future: Future[Sequenced] = Future()
        self.queue.put((item, future))
        return future

    def _run(self) -> None:
        while True:
            batch = [self.queue.get()]
            deadline = time.monotonic() + self.max_wait
            while len(batch) < self.max_batch:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    batch.append(self.queue.get(timeout=remaining))
                except queue.Empty:
                    break
            self._sequence(batch)

    def _sequence(self, batch: list[tuple[entries.Entry, Future[Sequenced]]]) -> None:
        close_old_connections()
        try:
            try:
                results = sequence([item for item, _ in batch])
            except SequencerConflict:
                results = sequence([item for item, _ in batch])  # lost a race with another process: once more
        except Exception as exc:  # every waiting caller must hear of the failure
            for _, future in batch:
                future.set_exception(exc)
            return
        for (_, future), result in zip(batch, results, strict=True):
            future.set_result(result)


_batcher: Batcher | None = None
_batcher_lock = threading.Lock()


def batcher() -> Batcher:
    global _batcher
    with _batcher_lock:
        if _batcher is None:
            _batcher = Batcher(settings.OPENTIC_LEDGER_BATCH_SECONDS)
        return _batcher


def register(item: entries.Entry, timeout: float = 30) -> Sequenced:
    if connection.in_atomic_block:
        return sequence([item])[0]
    return batcher().submit(item).result(timeout=timeout)
