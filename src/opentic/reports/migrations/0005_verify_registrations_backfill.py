"""Reports issued before registrations were recorded (ledger.Registration) get their record, so that a
reader who types the number and code printed on them finds them, and a superseded one links onwards."""

import hashlib

from django.db import migrations


def backfill(apps, schema_editor):  # type: ignore[no-untyped-def]
    report_model = apps.get_model("reports", "Report")
    entry_model = apps.get_model("ledger", "Entry")
    registration_model = apps.get_model("ledger", "Registration")
    for report in report_model.objects.select_related("institution").iterator():
        credit_code = report.institution.credit_code
        commitment = hashlib.sha256(
            f"opentic-report-number/v1\n{credit_code}\n{report.number}\n{report.code}".encode()).hexdigest()
        for entry in entry_model.objects.filter(report=commitment):
            reason = report.withdrawal_reason if entry.event == "withdrawn" else report.amendment_reason
            registration_model.objects.get_or_create(log_id=entry.log_id, index=entry.index, defaults={
                "institution": credit_code, "number": report.number, "code": report.code, "event": entry.event,
                "reason": reason, "signed_by_id": report.signed_by_id, "method": "approval",
                "statement": report.signature})


class Migration(migrations.Migration):
    dependencies = [("reports", "0004_seal"), ("ledger", "0002_verify_esignatures")]
    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
