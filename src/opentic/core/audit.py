"""The audit trail: append an event to its institution's hash chain, and verify a chain.

Every service that changes state calls `record` inside its transaction, so the event and the change
commit or roll back together. An event's hash covers its content and the previous event's hash, so
editing or deleting any row in the database breaks the chain at that row, and `verify` names it.

Against someone who can also recompute the hashes, the chain heads are anchored outside the chains: an
anchor log registered at start-up (the ledger's, ledger/anchors.py) signs them every minute and with
every electronic signature, and `verify` checks each chain against every head anchored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from django.db import connection, models, transaction
from django.utils import timezone

from opentic.core.bulk import insert_rows
from opentic.core.models import AuditChain, AuditEvent, User

PLATFORM_CHAIN = "platform"


def chain_key(institution_id: int | None) -> str:
    return f"institution:{institution_id}" if institution_id else PLATFORM_CHAIN


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _plain(value: Any) -> Any:
    kind = type(value)
    if kind in _SCALARS:  # most values: nothing to convert
        return value
    # The shapes a change is usually made of, without a call per item (bulk imports convert 100,000 values).
    if kind is dict:
        return {k if type(k) is str else str(k): v if type(v) in _SCALARS else _plain(v) for k, v in value.items()}
    if kind is list:  # a list of plain values (e.g. [old, new]) is kept as it is, not copied
        return value if all(type(v) in _SCALARS for v in value) else [_plain(v) for v in value]
    if kind is tuple:
        return [v if type(v) in _SCALARS else _plain(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    return value


# A string as json.dumps(..., ensure_ascii=False) writes it (the C encoder where there is one).
_json_text: Callable[[str], str] = (getattr(json.encoder, "c_encode_basestring", None)
                                    or json.encoder.py_encode_basestring)


def canonical(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(_plain(payload), sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def event_hash(payload: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(payload)).hexdigest()


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Field → [old, new] for the fields whose values differ."""
    keys = sorted(set(before) | set(after))
    return {k: [_plain(before.get(k)), _plain(after.get(k))] for k in keys if before.get(k) != after.get(k)}


def record(
    *,
    actor: User | None,
    action: str,
    entity: models.Model | str,
    changes: Mapping[str, Any] | None = None,
    reason: str = "",
    institution_id: int | None = None,
    entity_id: str | int | None = None,
) -> AuditEvent:
    """Append one event. Must run inside the caller's transaction (the one that makes the change)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.record must be called inside the transaction that makes the change")
    if isinstance(entity, models.Model):
        entity_label = entity._meta.label
        entity_id = entity.pk if entity_id is None else entity_id
    else:
        entity_label = entity
    key = chain_key(institution_id)
    head, _ = AuditChain.objects.select_for_update().get_or_create(key=key)
    event = AuditEvent(
        chain=key,
        seq=head.last_seq + 1,
        at=timezone.now(),
        actor=actor if actor is not None and actor.pk else None,
        actor_label=actor.get_username() if actor is not None and actor.pk else "system",
        action=action,
        entity=entity_label,
        entity_id=str(entity_id if entity_id is not None else ""),
        changes=_plain(dict(changes or {})),
        reason=reason,
        prev_hash=head.last_hash,
    )
    event.hash = event_hash(event.payload())
    event.save(force_insert=True)
    head.last_seq, head.last_hash = event.seq, event.hash
    head.save(update_fields=["last_seq", "last_hash"])
    if "meaning" in event.changes or "signature" in event.changes:
        # An electronic signature is anchored in its own transaction: it is never unanchored for a moment.
        for log in ANCHOR_LOGS:
            log.anchor({key: (event.seq, event.hash)})
    return event


@dataclass(frozen=True)
class Change:
    """One event of a batch for `record_many`."""

    action: str
    entity: str  # the model label, e.g. "lims.Analysis"
    entity_id: str
    changes: Mapping[str, Any]
    reason: str = ""


def record_many(*, actor: User | None, institution_id: int | None, events: Iterable[Change]) -> int:
    """Append a batch of events to one chain with one lock of its head and one insert: the same chain, the
    same hashes, as recording them one by one, for bulk operations (imports of thousands of results)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.record_many must be called inside the transaction that makes the change")
    key = chain_key(institution_id)
    head, _ = AuditChain.objects.select_for_update().get_or_create(key=key)
    now = timezone.now()
    actor_id = actor.pk if actor is not None and actor.pk else None
    label = actor.get_username() if actor_id is not None else "system"  # type: ignore[union-attr]
    # The canonical payload of each event (what AuditEvent.payload() gives, dumped by `canonical`), built as
    # text without model instances (a bulk import writes tens of thousands): the keys in sorted order, each
    # value encoded as json.dumps would encode it, the changes dumped once and stored in the same canonical
    # form. The same bytes, so the same hashes as `record` (tests/core/test_audit.py holds them equal).
    text = _json_text
    actor_text = "null" if actor_id is None else str(int(actor_id))
    middle = f'"actor":{actor_text},"actor_label":{text(label)},"at":{text(now.isoformat())},"chain":{text(key)}'
    rows = []
    seq, prev = head.last_seq, head.last_hash
    for change in events:
        seq += 1
        changes = json.dumps(_plain(dict(change.changes)), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        payload = (f'{{"action":{text(change.action)},{middle},"changes":{changes},"entity":{text(change.entity)},'
                   f'"entity_id":{text(change.entity_id)},"prev_hash":{text(prev)},"reason":{text(change.reason)},'
                   f'"seq":{seq}}}').encode()
        digest = hashlib.sha256(payload).hexdigest()
        rows.append((key, seq, actor_id, label, change.action, change.entity, change.entity_id, changes,
                     change.reason, prev, digest))
        prev = digest
    at = connection.ops.adapt_datetimefield_value(now)
    insert_rows(AuditEvent, ["chain", "seq", "at", "actor_id", "actor_label", "action", "entity", "entity_id",
                             "changes", "reason", "prev_hash", "hash"],
                ((r[0], r[1], at, *r[2:]) for r in rows))
    if rows:
        head.last_seq, head.last_hash = seq, prev
        head.save(update_fields=["last_seq", "last_hash"])
    return len(rows)


@dataclass(frozen=True)
class ChainReport:
    chain: str
    events: int
    ok: bool
    first_broken_seq: int | None = None
    problem: str = ""
    anchored: int = 0  # the last event an anchor vouches for


@dataclass(frozen=True)
class Anchored:
    """A chain head as an anchor recorded it: event `seq` had hash `hash`; `where` names the anchor."""

    seq: int
    hash: str
    where: str


class AnchorLog(Protocol):
    def anchor(self, heads: Mapping[str, tuple[int, str]]) -> int:
        """Anchor the heads (chain → last seq, last hash) that moved since their last anchor."""

    def anchored(self) -> tuple[dict[str, list[Anchored]], list[str]]:
        """Every head ever anchored, by chain, and what is wrong with the anchor log itself."""


# Registered by the ledger at start-up (core must not import it).
ANCHOR_LOGS: list[AnchorLog] = []


def anchor_heads() -> int:
    """Anchor every chain head that moved since its last anchor (run every minute by the worker)."""
    if not ANCHOR_LOGS:
        return 0
    with transaction.atomic():
        heads = {h.key: (h.last_seq, h.last_hash) for h in AuditChain.objects.filter(last_seq__gt=0)}
        return sum(log.anchor(heads) for log in ANCHOR_LOGS)


def verify_events(chain: str, events: Iterable[AuditEvent], head: AuditChain | None) -> ChainReport:
    prev = "0" * 64
    expected_seq = 1
    count = 0
    for event in events:
        count += 1
        if event.seq != expected_seq:
            return ChainReport(chain, count, False, expected_seq, f"event {expected_seq} is missing")
        if event.prev_hash != prev:
            return ChainReport(chain, count, False, event.seq, "previous-hash link does not match")
        if event_hash(event.payload()) != event.hash:
            return ChainReport(chain, count, False, event.seq, "content does not match its hash")
        prev = event.hash
        expected_seq += 1
    if head is not None and (head.last_seq != expected_seq - 1 or head.last_hash != prev):
        return ChainReport(chain, count, False, expected_seq, "events after this one were removed")
    return ChainReport(chain, count, True)


def _against_anchors(report: ChainReport, anchored: list[Anchored], seen: dict[int, str]) -> ChainReport:
    """The chain's own check, then every anchored head: the earliest disagreement is the one named."""
    last_good = 0
    for anchor in sorted(anchored, key=lambda a: a.seq):
        if not report.ok and report.first_broken_seq is not None and report.first_broken_seq <= anchor.seq:
            return report  # the chain breaks by itself before this anchor
        got = seen.get(anchor.seq)
        if got == anchor.hash:
            last_good = anchor.seq
            continue
        if got is None:
            first = report.events + 1 if report.ok else anchor.seq  # the chain ends cleanly, but too early
            problem = f"event {first} is gone, though {anchor.where} anchored the chain up to {anchor.seq}: " \
                      "the chain was cut"
            return ChainReport(report.chain, report.events, False, first, problem, last_good)
        else:
            problem = (f"event {anchor.seq} differs from {anchor.where}: the chain was rewritten "
                       f"after event {last_good} and hashed again")
        return ChainReport(report.chain, report.events, False, anchor.seq, problem, last_good)
    return ChainReport(report.chain, report.events, report.ok, report.first_broken_seq, report.problem, last_good)


def verify(chain: str | None = None) -> list[ChainReport]:
    heads = {h.key: h for h in AuditChain.objects.all()}
    anchors: dict[str, list[Anchored]] = {}
    problems: list[str] = []
    for log in ANCHOR_LOGS:
        found, wrong = log.anchored()
        for key, items in found.items():
            anchors.setdefault(key, []).extend(items)
        problems += wrong
    keys = [chain] if chain else sorted(set(heads) | set(AuditEvent.objects.values_list("chain", flat=True))
                                        | set(anchors))
    reports = []
    for key in keys:
        wanted = {a.seq for a in anchors.get(key, [])}
        seen: dict[int, str] = {}

        def tap(events: Iterable[AuditEvent], wanted: set[int] = wanted, seen: dict[int, str] = seen
                ) -> Iterable[AuditEvent]:
            for event in events:
                if event.seq in wanted:
                    seen[event.seq] = event.hash
                yield event

        own = verify_events(key, tap(AuditEvent.objects.filter(chain=key).order_by("seq").iterator()),
                            heads.get(key))
        reports.append(_against_anchors(own, anchors.get(key, []), seen))
    reports += [ChainReport("audit-anchors", 0, False, None, problem) for problem in problems]
    return reports


# Checks that current rows agree with what the trail last recorded of them: an app registers one in its
# AppConfig.ready(); `opentic audit verify` runs them all. Each returns problems, empty when all agree.
ROW_CHECKS: list[Callable[[], list[str]]] = []


def history(entity: models.Model) -> models.QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(entity=entity._meta.label, entity_id=str(entity.pk)).order_by("at", "seq")
