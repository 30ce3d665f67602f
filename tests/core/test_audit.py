import pytest
from django.db import connection, transaction

from opentic.core import audit
from opentic.core.models import AuditEvent
from opentic.registry import services
from tests.conftest import World


def change(world: World, status: str, reason: str) -> None:
    services.change_institution_status(world.regulator, world.lab_a, status, reason)


@pytest.mark.django_db
def test_chain_verifies_after_changes(world: World) -> None:
    change(world, "suspended", "监督抽查发现问题")
    change(world, "valid", "整改完成")
    reports = audit.verify()
    assert reports and all(r.ok for r in reports)
    events = list(audit.history(world.lab_a))
    assert [e.changes["status"] for e in events] == [["valid", "suspended"], ["suspended", "valid"]]
    assert events[0].reason == "监督抽查发现问题" and events[0].actor_label == "regulator"


@pytest.mark.django_db
def test_a_direct_database_edit_is_caught_and_named(world: World) -> None:
    change(world, "suspended", "第一次")
    change(world, "valid", "第二次")
    change(world, "suspended", "第三次")
    target = AuditEvent.objects.get(chain="platform", reason="第二次")
    with connection.cursor() as cursor:  # bypass the ORM, as an attacker with database access would
        cursor.execute("UPDATE core_auditevent SET reason = %s WHERE id = %s", ["篡改", target.pk])
    [report] = audit.verify("platform")
    assert not report.ok
    assert report.first_broken_seq == target.seq
    assert "hash" in report.problem


@pytest.mark.django_db
def test_a_deleted_last_event_is_caught(world: World) -> None:
    change(world, "suspended", "一")
    change(world, "valid", "二")
    AuditEvent.objects.filter(chain="platform").order_by("-seq").first().delete()  # type: ignore[union-attr]
    [report] = audit.verify("platform")
    assert not report.ok and "removed" in report.problem


@pytest.mark.django_db(transaction=True)
def test_record_refuses_to_run_outside_a_transaction() -> None:
    with pytest.raises(RuntimeError):
        audit.record(actor=None, action="x", entity="y", entity_id=1)
    with transaction.atomic():
        audit.record(actor=None, action="x", entity="y", entity_id=1)


@pytest.mark.django_db
def test_audit_verify_command(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    from django.core.management import call_command

    change(world, "suspended", "原因")
    call_command("audit", "verify")
    assert "ok" in capsys.readouterr().out
    AuditEvent.objects.filter(chain="platform").update(reason="改")
    with pytest.raises(SystemExit):
        call_command("audit", "verify")
    assert "BROKEN at event 1" in capsys.readouterr().out


@pytest.mark.django_db
def test_a_batch_of_events_chains_like_single_ones(world: World) -> None:
    from django.db import transaction

    from opentic.core.audit import Change, record_many

    with transaction.atomic():
        audit.record(actor=world.a_admin, action="one", entity="x.Y", entity_id="1", institution_id=world.lab_a.pk)
        assert record_many(actor=world.a_admin, institution_id=world.lab_a.pk, events=[
            Change("many", "x.Y", str(n), {"value": [None, n]}) for n in range(48)]) == 48
        import datetime as dt
        from decimal import Decimal

        assert record_many(actor=None, institution_id=world.lab_a.pk, events=[  # text, decimals and dates too
            Change("many", "x.Y", "a", {"名称": "大米 ≤ 0.2 mg/kg", "value": Decimal("0.052")}, "理由"),
            Change("many", "x.Y", "b", {"on": dt.date(2026, 11, 24), "list": (1, "二")})]) == 2
        audit.record(actor=world.a_admin, action="after", entity="x.Y", entity_id="2", institution_id=world.lab_a.pk)
    report = audit.verify(audit.chain_key(world.lab_a.pk))[0]
    assert report.ok and report.events == 52


@pytest.mark.django_db
def test_a_batch_event_hashes_exactly_as_a_single_one(world: World) -> None:
    """record_many writes its payload as text; it must be the canonical JSON of the stored event byte for byte,
    whatever the changes hold: keys that sort differently as numbers and as text, nested values, quotes,
    backslashes, control characters and non-ASCII text, decimals, dates, floats, text choices."""
    import datetime as dt
    from decimal import Decimal

    from django.db import transaction

    from opentic.core.audit import Change, record_many
    from opentic.core.models import Role

    tricky = {"analyses": {10: {"service": 2, "ok": True}, 9: {"service": None}},
              "名称": '大米 "特级"\\ \n\t\x01', "value": Decimal("0.0520"),
              "on": dt.date(2026, 11, 24), "at": dt.datetime(2026, 11, 24, 8, 0, tzinfo=dt.UTC),
              "u": 0.1 + 0.2, "big": 10 ** 20, "role": Role.ANALYST, "set": {3}, "tuple": (1, "二", [None, 1.5])}
    with transaction.atomic():
        record_many(actor=world.a_admin, institution_id=world.lab_a.pk, events=[
            Change("many", "x.Y", 'id "1"', tricky, "理由\u2028"), Change("many", "x.Y", "2", {})])
        record_many(actor=None, institution_id=None, events=[Change("many", "x.Y", "3", tricky)])
    for event in AuditEvent.objects.filter(action="many"):
        assert event.hash == audit.event_hash(event.payload())
        if event.entity_id != "2":
            assert event.changes["analyses"]["10"] == {"service": 2, "ok": True}
            assert event.changes["value"] == "0.0520" and event.changes["tuple"] == [1, "二", [None, 1.5]]
    assert all(r.ok for r in audit.verify())

