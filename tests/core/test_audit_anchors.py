"""The audit trail against an insider: a chain rewritten with every later hash recomputed, or cut short,
passes the chain's own check, and is caught by the heads the anchor log signed (issue 12)."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from opentic.core import audit, jobs
from opentic.core.models import AuditChain, AuditEvent
from opentic.ledger import anchors
from opentic.ledger.merkle import leaf_hash, root_of
from opentic.ledger.models import AuditAnchor

CHAIN = audit.PLATFORM_CHAIN


def events(n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        with transaction.atomic():
            audit.record(actor=None, action="register-change", entity="registry.Institution", entity_id=i,
                         changes={"status": ["valid", "suspended"]}, reason=f"第{i + 1}次")


def sql(statement: str, params: list[object]) -> None:
    with connection.cursor() as cursor:  # bypass the ORM, as an insider with database access would
        cursor.execute(statement, params)


def rewrite(seq: int, reason: str) -> None:
    """Edit event `seq` and recompute every later hash and the head: the chain verifies by itself."""
    prev = AuditEvent.objects.get(chain=CHAIN, seq=seq - 1).hash if seq > 1 else "0" * 64
    for event in AuditEvent.objects.filter(chain=CHAIN, seq__gte=seq).order_by("seq"):
        if event.seq == seq:
            event.reason = reason
        event.prev_hash = prev
        event.hash = prev = audit.event_hash(event.payload())
        sql("UPDATE core_auditevent SET reason = %s, prev_hash = %s, hash = %s WHERE id = %s",
            [event.reason, event.prev_hash, event.hash, event.pk])
    sql("UPDATE core_auditchain SET last_hash = %s WHERE key = %s", [prev, CHAIN])


def cut(keep: int) -> None:
    """Delete the events after `keep` and move the head back: the chain verifies by itself."""
    last = AuditEvent.objects.get(chain=CHAIN, seq=keep)
    sql("DELETE FROM core_auditevent WHERE chain = %s AND seq > %s", [CHAIN, keep])
    sql("UPDATE core_auditchain SET last_seq = %s, last_hash = %s WHERE key = %s", [keep, last.hash, CHAIN])


def own_check() -> audit.ChainReport:
    """The chain's check without anchors: what `opentic audit verify` did before."""
    return audit.verify_events(CHAIN, AuditEvent.objects.filter(chain=CHAIN).order_by("seq"),
                               AuditChain.objects.get(key=CHAIN))


def test_the_anchor_log_root_is_rfc_9162_for_every_size() -> None:
    leaves, frontier = [], []
    for n in range(1, 70):
        leaf = leaf_hash(f"anchor {n}".encode())
        leaves.append(leaf)
        frontier = anchors.push(frontier, leaf)
        assert anchors.root(frontier) == root_of(leaves), n
        assert len(frontier) == bin(n).count("1")


@pytest.mark.django_db
def test_every_minute_anchors_the_heads_that_moved() -> None:
    events(3)
    jobs.every_minute()
    assert AuditAnchor.objects.count() == 1 and f"head {CHAIN} 3 " in AuditAnchor.objects.get().text
    jobs.every_minute()
    assert AuditAnchor.objects.count() == 1  # nothing moved: no new anchor
    events(1, 3)
    assert audit.anchor_heads() == 1 and AuditAnchor.objects.count() == 2
    [report] = audit.verify(CHAIN)
    assert report.ok and report.anchored == 4


@pytest.mark.django_db
def test_an_electronic_signature_is_anchored_in_its_own_transaction() -> None:
    events(2)
    with transaction.atomic():
        signed = audit.record(actor=None, action="issue", entity="reports.Report", entity_id=1,
                              changes={"signature": "ab" * 32, "meaning": "approved / 批准"})
        assert f"head {CHAIN} {signed.seq} {signed.hash}" in AuditAnchor.objects.get().text


@pytest.mark.django_db
@pytest.mark.parametrize(("rewritten", "named", "after"), [(2, 2, 0), (3, 4, 2), (5, 6, 4)])
def test_a_chain_rewritten_with_every_later_hash_recomputed_is_caught(rewritten: int, named: int,
                                                                       after: int) -> None:
    events(2)
    audit.anchor_heads()  # anchors event 2
    events(2, 2)
    audit.anchor_heads()  # anchors event 4
    events(2, 4)
    audit.anchor_heads()  # anchors event 6
    rewrite(rewritten, "篡改后的理由")
    assert own_check().ok  # the chain alone cannot tell
    [report] = audit.verify(CHAIN)
    assert not report.ok and report.first_broken_seq == named
    assert f"event {named} differs from audit anchor" in report.problem and f"after event {after}" in report.problem


@pytest.mark.django_db
def test_a_chain_cut_short_is_caught_and_the_first_missing_event_named() -> None:
    events(3)
    audit.anchor_heads()
    events(3, 3)
    audit.anchor_heads()  # anchors event 6
    cut(4)
    assert own_check().ok
    [report] = audit.verify(CHAIN)
    assert not report.ok and report.first_broken_seq == 5 and "cut" in report.problem


@pytest.mark.django_db
def test_anchors_rewritten_to_match_need_the_ledger_key() -> None:
    events(3)
    audit.anchor_heads()
    rewrite(2, "篡改")
    anchor = AuditAnchor.objects.get()
    forged = anchor.text.replace(anchor.text.split(" ")[-1].strip(), AuditChain.objects.get(key=CHAIN).last_hash)
    sql("UPDATE ledger_auditanchor SET text = %s WHERE id = %s", [forged, anchor.pk])
    problems = [r for r in audit.verify() if not r.ok]
    assert [r.chain for r in problems] == ["audit-anchors"]
    assert "does not cover its content" in problems[0].problem


@pytest.mark.django_db
def test_deleting_the_last_anchors_too_is_caught_by_the_checkpoint_kept_outside(
        django_capture_on_commit_callbacks: object) -> None:
    events(2)
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        audit.anchor_heads()
    events(2, 2)
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        audit.anchor_heads()
    assert anchors.outside_path().read_text() == AuditAnchor.objects.get(size=2).note
    cut(2)
    sql("DELETE FROM ledger_auditanchor WHERE size = %s", [2])
    problems = [r.problem for r in audit.verify() if not r.ok]
    assert problems == [f"the anchor log ends at 1, but anchor 2 was signed ({anchors.outside_path()}): "
                        "anchors were deleted"]


@pytest.mark.django_db
def test_the_verify_command_names_the_first_event_that_disagrees(capsys: pytest.CaptureFixture[str]) -> None:
    events(4)
    call_command("audit", "anchor")
    call_command("audit", "verify")
    assert f"{CHAIN}: ok (4 events, anchored to 4)" in capsys.readouterr().out
    rewrite(1, "篡改")
    with pytest.raises(SystemExit):
        call_command("audit", "verify")
    assert f"{CHAIN}: BROKEN at event 4: event 4 differs from audit anchor 1" in capsys.readouterr().out


@pytest.mark.django_db
def test_the_anchor_logs_checkpoint_is_public_for_monitors() -> None:
    from django.test import Client

    from opentic.ledger.keys import log_verifier
    from opentic.ledger.note import open_checkpoint

    assert Client().get("/ledger/audit/checkpoint").status_code == 404
    events(2)
    audit.anchor_heads()
    answer = Client().get("/ledger/audit/checkpoint")
    checkpoint = open_checkpoint(answer.content.decode(), log_verifier(), anchors.origin())
    assert (checkpoint.size, answer["Content-Type"].split(";")[0]) == (1, "text/plain")
