"""An ended CMA certificate is 过期 everywhere, from its date alone; the daily job records it once; certificates
ending within three months are flagged for the regulator and the lab (Order 163 art. 13)."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from opentic.core.models import AuditEvent
from opentic.ledger import entry as entries
from opentic.ledger import esign
from opentic.ledger import services as ledger
from opentic.portal.finder import FinderQuery, find
from opentic.registry import services, validity
from opentic.registry.dates import zh_date
from opentic.registry.models import Institution, InstitutionStatus
from tests.conftest import CODE_B, PASSWORD, World, b_signatory
from tests.pdfs import signed_pdf

pytestmark = pytest.mark.django_db


def ended(world: World, days_ago: int = 29) -> Institution:
    """Lab B's certificate ended `days_ago` days ago (2026-11-02 when today is 2026-12-01); nothing recorded it."""
    Institution.objects.filter(pk=world.lab_b.pk).update(
        cma_valid_until=timezone.localdate() - dt.timedelta(days=days_ago))
    return Institution.objects.get(pk=world.lab_b.pk)


def test_add_months_keeps_the_day_or_takes_the_months_last() -> None:
    assert validity.add_months(dt.date(2026, 12, 1), 3) == dt.date(2027, 3, 1)
    assert validity.add_months(dt.date(2026, 11, 30), 3) == dt.date(2027, 2, 28)
    assert validity.add_months(dt.date(2027, 11, 30), 3) == dt.date(2028, 2, 29)


def test_the_status_follows_the_date_before_any_job_runs(world: World) -> None:
    lab_b = ended(world)
    assert lab_b.status == InstitutionStatus.VALID  # stored: stale
    assert lab_b.current_status == InstitutionStatus.EXPIRED
    assert world.lab_a.current_status == InstitutionStatus.VALID
    assert str(lab_b.get_current_status_display()) == "过期"
    expired = validity.filter_status(Institution.objects.all(), InstitutionStatus.EXPIRED)
    valid = validity.filter_status(Institution.objects.all(), InstitutionStatus.VALID)
    assert list(expired) == [lab_b] and list(valid) == [world.lab_a]
    # The last day itself is still valid.
    Institution.objects.filter(pk=lab_b.pk).update(cma_valid_until=timezone.localdate())
    assert Institution.objects.get(pk=lab_b.pk).current_status == InstitutionStatus.VALID


def test_the_register_list_and_its_filter_say_expired(world: World) -> None:
    ended(world)
    client = world.client("regulator")
    page = client.get("/registry/", {"status": "expired"}).content.decode()
    assert world.lab_b.name in page and world.lab_a.name not in page
    assert 'status-expired">过期' in page and "1 家机构证书已过期" in page
    page = client.get("/registry/", {"status": "valid"}).content.decode()
    assert world.lab_a.name in page and world.lab_b.name not in page
    api = client.get("/api/registry/institutions", {"status": "expired"}).json()
    assert [(i["credit_code"], i["status"]) for i in api["items"]] == [(CODE_B, "expired")]


def test_the_institution_page_the_public_page_and_the_finder(world: World) -> None:
    lab_b = ended(world)
    detail = world.client("b_admin").get(f"/registry/institutions/{lab_b.pk}/").content.decode()
    assert 'id="status">过期' in detail and 'id="certificate-notice"' in detail
    public = world.client("anonymous").get(f"/labs/{lab_b.pk}/").content.decode()
    assert 'id="status">过期' in public and "目前无效" not in public
    assert world.client("anonymous").get(f"/api/public/labs/{lab_b.pk}").json()["status"] == "expired"
    assert lab_b.pk not in [h.institution.pk for h in find(FinderQuery(q="铅")).hits]


def test_the_daily_job_records_each_expiry_once(world: World) -> None:
    lab_b = ended(world)
    events = AuditEvent.objects.count()
    call_command("expire-certificates")
    lab_b.refresh_from_db()
    assert lab_b.status == InstitutionStatus.EXPIRED
    change = lab_b.status_changes.order_by("at", "pk").last()
    assert change is not None and (change.old_status, change.new_status) == ("valid", "expired")
    assert change.actor is None and zh_date(lab_b.cma_valid_until) in change.reason
    assert AuditEvent.objects.count() == events + 1
    assert validity.expire_certificates() == []  # idempotent
    assert lab_b.status_changes.count() == 1
    assert AuditEvent.objects.count() == events + 1
    history = world.client("regulator").get(f"/registry/institutions/{lab_b.pk}/history/").content.decode()
    assert "资质认定证书有效期至" in history
    # Back to valid only with a new certificate.
    with pytest.raises(ValidationError, match="新证书"):
        services.change_institution_status(world.regulator, lab_b, InstitutionStatus.VALID, "误操作")


def test_a_suspended_institution_expires_too_and_revoked_stays_revoked(world: World) -> None:
    Institution.objects.filter(pk=world.lab_a.pk).update(
        status=InstitutionStatus.REVOKED, cma_valid_until=timezone.localdate() - dt.timedelta(days=3))
    lab_b = ended(world)
    Institution.objects.filter(pk=lab_b.pk).update(status=InstitutionStatus.SUSPENDED)
    assert [i.pk for i in validity.expire_certificates()] == [lab_b.pk]
    assert Institution.objects.get(pk=world.lab_a.pk).status == InstitutionStatus.REVOKED


def test_certificates_ending_within_three_months_are_flagged(world: World) -> None:
    today = timezone.localdate()
    Institution.objects.filter(pk=world.lab_b.pk).update(cma_valid_until=validity.add_months(today, 3))
    Institution.objects.filter(pk=world.lab_a.pk).update(
        cma_valid_until=validity.add_months(today, 3) + dt.timedelta(days=1))
    assert Institution.objects.get(pk=world.lab_b.pk).expires_soon
    assert not Institution.objects.get(pk=world.lab_a.pk).expires_soon
    page = world.client("regulator").get("/registry/", {"expiring": "on"}).content.decode()
    assert world.lab_b.name in page and world.lab_a.name not in page and "3个月内到期" in page
    assert "1 家机构证书3个月内到期" in page.split('id="certificate-reminders"')[1]
    own = world.client("b_admin").get(f"/registry/institutions/{world.lab_b.pk}/").content.decode()
    assert 'id="certificate-notice"' in own and "换证" in own
    other = world.client("a_admin").get(f"/registry/institutions/{world.lab_a.pk}/").content.decode()
    assert 'id="certificate-notice"' not in other


def test_a_report_issued_after_the_certificate_ended_is_not_trusted(world: World) -> None:
    lab_b = ended(world)
    before, after = entries.new_code(), entries.new_code()
    url = ledger.verification_url(CODE_B, "YZ-1", before)
    first = signed_pdf(url, ["YZ-1"], CODE_B, lab_b.name)
    second = signed_pdf(ledger.verification_url(CODE_B, "YZ-2", after), ["YZ-2"], CODE_B, lab_b.name)
    with transaction.atomic():
        ledger.register_report(b_signatory(world), lab_b, "YZ-1", first, esign=esign.by_password(PASSWORD),
                               code=before, issued_at=timezone.now() - dt.timedelta(days=40))
        ledger.register_report(b_signatory(world), lab_b, "YZ-2", second, esign=esign.by_password(PASSWORD),
                               code=after)
    old = ledger.verify_report(CODE_B, "YZ-1", before, first)  # an uploaded file: genuine, and trusted
    assert old.status == "genuine" and old.trusted and not old.lapsed
    new = ledger.verify_report(CODE_B, "YZ-2", after, second)
    assert new.status == "genuine" and not new.trusted and new.lapsed == "expired"
    page = world.client("anonymous").get("/verify/", {"i": CODE_B, "n": "YZ-2", "c": after}).content.decode()
    assert 'id="certificate-lapsed"' in page and "过期" in page
    api = world.client("anonymous").get("/api/public/verify", {"i": CODE_B, "n": "YZ-2", "c": after}).json()
    assert api["trusted"] is False and api["institution_status_at_issue"] == "expired"
    api = world.client("anonymous").get("/api/public/verify", {"i": CODE_B, "n": "YZ-1", "c": before}).json()
    assert api["status"] == "registered" and api["institution_status_at_issue"] is None  # a lookup: no file


def test_a_renewed_certificate_keeps_its_expired_spell(world: World) -> None:
    from opentic.registry.models import InstitutionStatusChange

    lab_b = ended(world)
    assert len(validity.expire_certificates()) == 1
    InstitutionStatusChange.objects.filter(institution=lab_b).update(at=timezone.now() - dt.timedelta(days=2))
    during = entries.new_code()
    url = ledger.verification_url(CODE_B, "YZ-3", during)
    with transaction.atomic():
        ledger.register_report(b_signatory(world), lab_b, "YZ-3", signed_pdf(url, ["YZ-3"], CODE_B, lab_b.name),
                               esign=esign.by_password(PASSWORD), code=during,
                               issued_at=timezone.now() - dt.timedelta(days=1))
    Institution.objects.filter(pk=lab_b.pk).update(cma_valid_until=timezone.localdate() + dt.timedelta(days=2000))
    services.change_institution_status(world.regulator, Institution.objects.get(pk=lab_b.pk),
                                       InstitutionStatus.VALID, "换发新证书")
    InstitutionStatusChange.objects.filter(institution=lab_b, new_status="valid").update(
        at=timezone.now() - dt.timedelta(hours=1))  # renewed an hour ago (issue times are kept to the second)
    after = entries.new_code()
    with transaction.atomic():
        ledger.register_report(b_signatory(world), lab_b, "YZ-4", signed_pdf(url, ["YZ-4"], CODE_B, lab_b.name),
                               esign=esign.by_password(PASSWORD), code=after)
    assert ledger.verify_report(CODE_B, "YZ-3", during).lapsed == "expired"
    assert ledger.verify_report(CODE_B, "YZ-4", after).lapsed == ""
    assert validity.status_at(lab_b, timezone.now() - dt.timedelta(days=1)) == InstitutionStatus.EXPIRED
