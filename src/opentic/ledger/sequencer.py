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

import collections
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from opentic.core.bulk import insert_rows

from . import entry as entries
from .keys import log_signer
from .merkle import inclusion_proof, leaf_hash
from .models import Checkpoint, Entry, Log, Tile
from .note import Checkpoint as CheckpointBody
from .note import format_note, sign
from .tiles import Appender, ReadTile, TileKey, edge_keys, subtree_reader

MAX_BATCH = 5000
logger = logging.getLogger(__name__)


class SequencerConflict(RuntimeError):
    """Another sequencer moved the log head during this batch; nothing of the batch was kept."""


class Sequenced:
    """One registration's place in the log: its index in the log, the checkpoint it is under, and whether it
    is new (False when the same entry had been sequenced before, a retry). The entry's model instance is
    built only when asked for: a registration needs its index, and building tens of thousands of model
    instances a second was a third of the sequencing processes' work."""

    __slots__ = ("_entry", "_fields", "checkpoint", "index", "log", "new")

    def __init__(self, index: int, log: Log, checkpoint: Checkpoint, new: bool, *, entry: Entry | None = None,
                 fields: dict[str, Any] | None = None) -> None:
        self.index, self.log, self.checkpoint, self.new = index, log, checkpoint, new
        self._entry, self._fields = entry, fields

    @property
    def entry(self) -> Entry:
        if self._entry is None:
            assert self._fields is not None
            self._entry = Entry(log=self.log, index=self.index, **self._fields)
        return self._entry


def origin_for(year: int) -> str:
    return f"{settings.OPENTIC_LEDGER_ORIGIN}/{year}"


def _log_for_update(year: int) -> Log:
    log = Log.objects.select_for_update().filter(year=year).first()  # one statement once the year's log exists
    if log is None:
        Log.objects.get_or_create(year=year, defaults={"origin": origin_for(year), "root": b""})
        log = Log.objects.select_for_update().get(year=year)
    return log


def read_tiles(log_id: int, keys: list[TileKey]) -> dict[TileKey, bytes]:
    """The stored tiles of these keys, in one plain statement (the ORM's was most of a small batch's time)."""
    if not keys:
        return {}
    q = connection.ops.quote_name
    wanted = " OR ".join([f"({q('level')} = %s AND {q('index')} = %s)"] * len(keys))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {q('level')}, {q('index')}, {q('data')} FROM {q(Tile._meta.db_table)} "
                       f"WHERE {q('log_id')} = %s AND ({wanted})", [log_id, *(k for key in keys for k in key)])
        return {(level, index): bytes(data) for level, index, data in cursor.fetchall()}


def tile_reader(log_id: int) -> ReadTile:
    cache: dict[TileKey, bytes] = {}

    def read(level: int, index: int) -> bytes:
        if (level, index) not in cache:
            cache.update(read_tiles(log_id, [(level, index)]))
        return cache.get((level, index), b"")

    return read


def _write_tiles(log: Log, tiles: dict[TileKey, bytes], existing: dict[TileKey, bytes]) -> None:
    """Store the tiles a batch changed; `existing` holds the stored partial tiles at the log's edge, read
    under the same lock, so every tile not among them is new (a stored one would fail its unique key)."""
    updated, created = [], []
    for (level, index), data in tiles.items():
        if (level, index) in existing:
            if not data.startswith(existing[(level, index)]):
                raise SequencerConflict(f"tile {level}/{index} would change its past")  # never rewrite history
            updated.append((data, log.pk, level, index))
        else:
            created.append((log.pk, level, index, data))
    q = connection.ops.quote_name
    with connection.cursor() as cursor:  # plain statements: a batch writes a few tiles, each a full statement
        if updated:
            cursor.executemany(f"UPDATE {q(Tile._meta.db_table)} SET {q('data')} = %s WHERE {q('log_id')} = %s "
                               f"AND {q('level')} = %s AND {q('index')} = %s", updated)
    insert_rows(Tile, ["log_id", "level", "index", "data"], created)


def sequence(items: list[entries.Entry], now: dt.datetime | None = None) -> list[Sequenced]:
    """Append entries to the current year's log under one new signed checkpoint."""
    return _sequence(_prepare(items), list, now)


Prepared = tuple[entries.Entry, bytes, bytes]  # an entry, its canonical text, its leaf hash


def _prepare(items: list[entries.Entry]) -> list[Prepared]:
    prepared = []
    for item in items:
        data = item.encode()
        prepared.append((item, data, leaf_hash(data)))
    return prepared


def _known(log: Log, leaves: list[bytes]) -> dict[bytes, Entry]:
    """The entries among these that the log already holds (retries): usually none, so first only ask which
    leaf hashes exist, in one plain statement, and load entries only for those."""
    q = connection.ops.quote_name
    found: list[bytes] = []
    sql = f"SELECT {q('leaf_hash')} FROM {q(Entry._meta.db_table)} WHERE {q('log_id')} = %s AND {q('leaf_hash')} "
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One text parameter of hex hashes, not thousands of placeholders to parse or an array of bytea
            # for the driver to escape one by one (a tenth of the sequencing process's work).
            cursor.execute(sql + "IN (SELECT decode(h, 'hex') FROM unnest(string_to_array(%s, ',')) AS h)",
                           [log.pk, ",".join(leaf.hex() for leaf in leaves)])
            found += [bytes(row[0]) for row in cursor.fetchall()]
        else:
            for start in range(0, len(leaves), 1000):
                chunk = leaves[start:start + 1000]
                cursor.execute(sql + f"IN ({', '.join(['%s'] * len(chunk))})", [log.pk, *chunk])
                found += [bytes(row[0]) for row in cursor.fetchall()]
    if not found:
        return {}
    return {bytes(e.leaf_hash): e for e in Entry.objects.filter(log=log, leaf_hash__in=found)}


def _sequence(ready: list[Prepared], take: Callable[[], list[entries.Entry]], now: dt.datetime | None = None
              ) -> list[Sequenced]:
    """`sequence` of the entries `ready` (encoded and hashed before the lock) and of those `take` gives once the
    log's head is locked: a batcher takes then everything that arrived while it waited for the lock (another
    process's batch), so that waiting grows the batch instead of the queue. The lock is held for the
    database's work and the tree, not for encoding and hashing what was already waiting."""
    now = (now or timezone.now()).replace(microsecond=0)
    with transaction.atomic():
        log = _log_for_update(now.astimezone(dt.UTC).year)
        prepared = ready + _prepare(take())
        leaves = [leaf for _, _, leaf in prepared]
        known = _known(log, list(dict.fromkeys(leaves)))
        edge = read_tiles(log.pk, list(edge_keys(log.size)))
        appender = Appender.load(log.size, lambda level, index: edge.get((level, index), b""))
        adapt = connection.ops.adapt_datetimefield_value
        stamp = adapt(now)
        claimed: dict[dt.datetime, Any] = {}  # the claimed times of a batch are mostly the same few seconds
        rows, fresh = [], {}
        for item, data, leaf in prepared:
            if leaf in known or leaf in fresh:
                continue
            index = appender.append(leaf)
            fresh[leaf] = (index, item)
            if item.time not in claimed:
                claimed[item.time] = adapt(item.time)
            rows.append((log.pk, index, leaf, data, item.institution, item.report, item.pdf, item.event,
                         item.replaces, claimed[item.time], stamp))
        checkpoint: Checkpoint | None = None
        if rows:
            insert_rows(Entry, ["log_id", "index", "leaf_hash", "data", "institution", "report", "pdf", "event",
                                "replaces", "claimed_at", "sequenced_at"], rows)
            _write_tiles(log, appender.tiles(), edge)
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
        # The new entries are returned as written, not read back: they are exactly what was just stored.
        done = []
        for leaf in leaves:
            if leaf in fresh:
                index, item = fresh[leaf]
                done.append(Sequenced(index, log, checkpoint, True, fields={
                    "leaf_hash": leaf, "institution": item.institution, "report": item.report, "pdf": item.pdf,
                    "event": item.event, "replaces": item.replaces, "claimed_at": item.time, "sequenced_at": now}))
            else:
                done.append(Sequenced(known[leaf].index, log, checkpoint, False, entry=known[leaf]))
        return done


def proof_for(entry: Entry | Sequenced, checkpoint: Checkpoint) -> list[bytes]:
    log_id = entry.log.pk if isinstance(entry, Sequenced) else entry.log_id
    return inclusion_proof(entry.index, checkpoint.size, subtree_reader(tile_reader(log_id)))


# ---------------------------------------------------------------- batching within a process


class Registration:
    """What `Batcher.submit` returns, resolved once when its batch has committed (or failed): a lighter
    thing than a concurrent.futures.Future, which makes a condition variable for every registration and
    notifies it; here an event is made only for a caller that waits before its batch is done, and a
    callback is given at submission, before the sequencer can see the registration."""

    __slots__ = ("_callback", "_done", "_error", "_event", "_result")

    def __init__(self, callback: Callable[[Registration], None] | None = None) -> None:
        self._callback = callback
        self._done = False
        self._result: Sequenced | None = None
        self._error: BaseException | None = None
        self._event: threading.Event | None = None

    def _resolve(self, result: Sequenced | None, error: BaseException | None) -> None:
        self._result, self._error = result, error
        self._done = True  # before looking for a waiter's event: a waiter sets its event before looking here
        event = self._event
        if event is not None:
            event.set()
        if self._callback is not None:
            try:
                self._callback(self)
            except Exception:  # a caller's callback must not keep the rest of its batch unresolved
                logger.exception("a ledger registration callback failed")

    def done(self) -> bool:
        return self._done

    def exception(self) -> BaseException | None:
        return self._error

    def result(self, timeout: float | None = None) -> Sequenced:
        if not self._done:
            with _waiting:
                if self._event is None:
                    self._event = threading.Event()
                event = self._event
            if not self._done and not event.wait(timeout):
                raise TimeoutError("the ledger did not sequence the registration in time")
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result


_waiting = threading.Lock()


class Batcher:
    """Registrations of one process's threads, sequenced together: the first waits up to `max_wait` for
    others to join it; the batch is then whatever is pending once the log's head is locked (up to
    `max_batch`), and each registration's future is resolved when its batch has committed."""

    def __init__(self, max_wait: float, max_batch: int = MAX_BATCH) -> None:
        self.max_wait, self.max_batch = max_wait, max_batch
        # A deque and an event rather than a queue.Queue: submitting is an append, and a batch is taken
        # in one go, not item by item under the queue's lock (tens of thousands a second).
        self.pending: collections.deque[tuple[entries.Entry, Registration]] = collections.deque()
        self.wake = threading.Event()
        self.thread = threading.Thread(target=self._run, name="ledger-sequencer", daemon=True)
        self.thread.start()

    def submit(self, item: entries.Entry, callback: Callable[[Registration], None] | None = None) -> Registration:
        """Queue an entry; `callback`, if given, runs in the sequencer's thread once the entry is sequenced
        (or has failed): it must be quick."""
        future = Registration(callback)
        self.pending.append((item, future))
        if not self.wake.is_set():  # setting it takes its lock; the sequencer clears it before it looks
            self.wake.set()
        return future

    def _take(self, limit: int) -> list[tuple[entries.Entry, Registration]]:
        pending = self.pending
        batch: list[tuple[entries.Entry, Registration]] = []
        while pending and len(batch) < limit:
            batch.append(pending.popleft())
        return batch

    def _run(self) -> None:
        while True:
            self.wake.wait()
            self.wake.clear()
            if not self.pending:
                continue
            deadline = time.monotonic() + self.max_wait
            while len(self.pending) < self.max_batch and (remaining := deadline - time.monotonic()) > 0:
                time.sleep(min(remaining, 0.01))
            self._sequence()
            if self.pending:
                self.wake.set()

    def _sequence(self) -> None:
        close_old_connections()
        batch = self._take(self.max_batch)  # encoded and hashed before the lock
        more: list[tuple[entries.Entry, Registration]] = []

        def take() -> list[entries.Entry]:
            more.extend(self._take(self.max_batch))  # what came in while waiting for the lock
            return [item for item, _ in more]

        try:
            try:
                results = _sequence(_prepare([item for item, _ in batch]), take)
            except SequencerConflict:  # lost a race with another process: once more
                results = sequence([item for item, _ in batch + more])
        except Exception as exc:  # every waiting caller must hear of the failure
            for _, future in batch + more:
                future._resolve(None, exc)
            return
        for (_, future), result in zip(batch + more, results, strict=True):
            future._resolve(result, None)


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
