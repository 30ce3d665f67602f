"""The anchor log: the audit chains' heads, signed with the ledger's key (docs/decisions/0016-audit-anchors.md).

The audit trail's hash chains (core/audit.py) catch a row edited in the database, but not an insider who
rewrites an event and recomputes every later hash, or cuts the last events off a chain. So the heads are
anchored: every minute (the worker's periodic task) and in the transaction of every electronic signature,
the heads that moved are written as one anchor, a leaf of an append-only Merkle log (RFC 9162 hashing, as
the report ledger) whose checkpoint is signed with the ledger's key and kept as well outside the database
(OPENTIC_AUDIT_ANCHOR_FILE, by default DATA_DIR/audit-anchors.checkpoint; put it where the database's
administrators cannot write, and keep it with the database's backups, since a restored database is older
than it). Rewriting an anchored event changes its hash; cutting it off leaves
the anchor naming an event that is gone; rewriting the anchors needs the key; deleting the last anchors
leaves the log shorter than the checkpoint kept outside. `opentic audit verify` checks all of it.

Core cannot import the ledger (it is a lower floor): the ledger registers this log with core at start-up.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
from collections.abc import Mapping
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from opentic.core.audit import Anchored

from .keys import log_signer, log_verifier
from .merkle import leaf_hash, node_hash
from .models import AnchoredHead, AuditAnchor
from .note import Checkpoint, NoteError, format_note, open_checkpoint, sign

VERSION = "opentic-audit-anchor/v1"
LOCK = ""  # the AnchoredHead row (chain "") every anchoring locks: one writer at a time extends the log

Frontier = list[tuple[int, bytes]]


def origin() -> str:
    return f"{settings.OPENTIC_LEDGER_ORIGIN}/audit"


def push(frontier: Frontier, leaf: bytes) -> Frontier:
    """The right edge of the tree (its perfect subtrees, largest first) after appending one leaf."""
    edge = [*frontier, (0, leaf)]
    while len(edge) > 1 and edge[-1][0] == edge[-2][0]:
        (height, left), (_, right) = edge[-2], edge[-1]
        edge[-2:] = [(height + 1, node_hash(left, right))]
    return edge


def root(frontier: Frontier) -> bytes:
    """MTH of the tree whose right edge this is: the RFC 9162 split puts the largest subtree on the left."""
    acc = frontier[-1][1]
    for _, left in reversed(frontier[:-1]):
        acc = node_hash(left, acc)
    return acc


def anchor_text(prev: bytes, at: dt.datetime, heads: Mapping[str, tuple[int, str]]) -> str:
    lines = [VERSION, f"prev {prev.hex() or '-'}", f"time {at.astimezone(dt.UTC):%Y-%m-%dT%H:%M:%SZ}"]
    lines += [f"head {chain} {seq} {digest}" for chain, (seq, digest) in sorted(heads.items())]
    return "\n".join(lines) + "\n"


def outside_path() -> Path:
    return Path(settings.OPENTIC_AUDIT_ANCHOR_FILE or Path(settings.DATA_DIR) / "audit-anchors.checkpoint")


def _keep_outside(size: int, note: str) -> None:
    """Keep the newest checkpoint in a file, where someone with only the database cannot roll it back."""
    path = outside_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        current = _read_outside()
        if current is not None and current[0] >= size:
            return
        temporary = path.with_name(f".{path.name}.{os.getpid()}")
        temporary.write_text(note)
        temporary.replace(path)


def _read_outside() -> tuple[int, str] | None:
    path = outside_path()
    if not path.exists():
        return None
    note = path.read_text()
    try:
        return open_checkpoint(note, log_verifier(), origin()).size, note
    except NoteError:
        return -1, note


class LedgerAnchors:
    """The anchor log, as core's audit trail sees it (audit.AnchorLog)."""

    def anchor(self, heads: Mapping[str, tuple[int, str]]) -> int:
        """Anchor the heads that moved since their last anchor, in the caller's transaction if there is one."""
        with transaction.atomic():
            AnchoredHead.objects.select_for_update().get_or_create(
                chain=LOCK, defaults={"seq": 0, "hash": "", "anchor_size": 0})
            known = {a.chain: (a.seq, a.hash) for a in AnchoredHead.objects.filter(chain__in=list(heads))}
            moved = {k: v for k, v in heads.items() if k and v[0] > known.get(k, (0, ""))[0]}
            if not moved:
                return 0
            last = AuditAnchor.objects.order_by("-size").first()
            size = (last.size if last else 0) + 1
            frontier = [(h, bytes.fromhex(x)) for h, x in last.frontier] if last else []
            now = timezone.now().replace(microsecond=0)
            text = anchor_text(bytes(last.leaf_hash) if last else b"", now, moved)
            leaf = leaf_hash(text.encode())
            frontier = push(frontier, leaf)
            body = Checkpoint(origin(), size, root(frontier)).body
            note = format_note(body, [sign(body, log_signer())])
            AuditAnchor.objects.create(size=size, text=text, leaf_hash=leaf, note=note, signed_at=now,
                                       frontier=[[h, x.hex()] for h, x in frontier])
            for chain, (seq, digest) in moved.items():
                AnchoredHead.objects.update_or_create(chain=chain, defaults={"seq": seq, "hash": digest,
                                                                             "anchor_size": size})
            transaction.on_commit(lambda: _keep_outside(size, note))
            return len(moved)

    def anchored(self) -> tuple[dict[str, list[Anchored]], list[str]]:
        """Every anchored head, read from the signed anchors (each checked against the log's key, its
        predecessor and its checkpoint), and what is wrong with the anchor log itself."""
        verifier, problems = log_verifier(), []
        heads: dict[str, list[Anchored]] = {}
        prev, frontier, size = b"", Frontier(), 0
        for anchor in AuditAnchor.objects.order_by("size").iterator(chunk_size=2000):
            where = f"audit anchor {anchor.size}"
            if anchor.size != size + 1:
                problems.append(f"audit anchor {size + 1} is missing")
                break
            lines = anchor.text.split("\n")
            if lines[:2] != [VERSION, f"prev {prev.hex() or '-'}"] or lines[-1] != "":
                problems.append(f"{where} does not follow audit anchor {size}")
                break
            leaf = leaf_hash(anchor.text.encode())
            frontier = push(frontier, leaf)
            try:
                checkpoint = open_checkpoint(anchor.note, verifier, origin())
            except NoteError as exc:
                problems.append(f"{where}: {exc}")
                break
            if checkpoint.size != anchor.size or checkpoint.root != root(frontier):
                problems.append(f"{where}: its signed checkpoint does not cover its content")
                break
            when = lines[2].partition(" ")[2]
            for line in lines[3:-1]:
                _, chain, seq, digest = line.split(" ")
                heads.setdefault(chain, []).append(Anchored(int(seq), digest, f"{where} ({when})"))
            prev, size = leaf, anchor.size
        outside = _read_outside()
        if outside is not None and not problems:
            kept, note = outside
            if kept < 0:
                problems.append(f"the checkpoint kept in {outside_path()} is not signed by the ledger's key")
            elif kept > size:
                problems.append(f"the anchor log ends at {size}, but anchor {kept} was signed "
                                f"({outside_path()}): anchors were deleted")
            elif kept and AuditAnchor.objects.filter(size=kept).values_list("note", flat=True).first() != note:
                problems.append(f"audit anchor {kept} differs from the checkpoint kept in {outside_path()}")
        return heads, problems
