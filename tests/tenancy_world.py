"""The objects of the generated tenancy matrix (tests/test_tenancy_routes.py): lab A's working day (an order,
samples in every state, a report, a worksheet and its QC rejection, a batch, a job, an instrument file's
mapping), lab B's order and sample, and two PT rounds (one with both labs, one with lab A alone)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from tests.conftest import PASSWORD, b_signatory, make_user
from tests.lims.fixtures import Lab
from tests.quality.fixtures import PT


@dataclass
class Objects:
    ids: dict[str, Any] = field(default_factory=dict)


def build(lab: Lab, fixture: PT) -> Objects:
    from opentic.core import jobs
    from opentic.core.models import Job, Role
    from opentic.lims import orders, services
    from opentic.lims.models import (
        AnalysisService,
        InstrumentMapping,
        MethodAuthorization,
        QCRejection,
        ReferenceMaterial,
    )
    from opentic.lims.worksheets import create_worksheet
    from opentic.quality import pt
    from opentic.quality.models import Appeal, FollowUp
    from opentic.registry.models import Parameter, Staff, Standard, TestObject
    from opentic.reports import services as reports
    from opentic.reports.batch import start_batch
    from opentic.reports.models import Report, ReportBatch
    from tests.reports.test_reports import make_signatory, verified_sample

    w = lab.world
    make_signatory(lab)
    report = reports.issue_report(w.a_signatory, verified_sample(lab), PASSWORD)
    waiting = verified_sample(lab)
    received = lab.received(lab.pb)
    analysis = received.analyses.get()
    on_sheet = lab.received(lab.pb).analyses.get()
    sheet = create_worksheet(w.a_analyst, lab.pb, lab.icp, [on_sheet])
    rejection = QCRejection.objects.create(worksheet=sheet, rules=[{"rule": "1-3s"}], found_by=w.a_reviewer)
    batch = start_batch(w.a_signatory, [waiting], PASSWORD)
    jobs.register("test.tenancy", lambda job, progress: None)
    job = jobs.submit("test.tenancy", user=w.a_admin, institution_id=w.lab_a.pk)
    Job.objects.filter(pk=job.pk).update(output=b"a,b\n", output_name="x.csv", output_type="text/csv")
    mapping = InstrumentMapping.objects.create(
        institution=w.lab_a, instrument=lab.icp, name="MassHunter", sample_column="Sample Name",
        type_column="Type", sample_types=["Sample"], columns={"Pb": "pb"})

    # Lab B: its own client, order, method and a registered sample.
    b_client = orders.create_client(w.b_admin, w.lab_b, "重庆火锅底料厂")
    b_order = orders.create_order(w.b_admin, b_client, "WT-B-0001", timezone.localdate())
    b_pb = AnalysisService.objects.create(
        institution=w.lab_b, standard=Standard.objects.get(code="GB 5009.268", year="2016"), keyword="pb",
        unit="mg/kg", parameter=Parameter.objects.get(name="铅"), places=3)
    b_sample = services.register_samples(w.b_admin, b_order, [{
        "name": "火锅底料", "test_object": TestObject.objects.get(name="食品"), "services": [b_pb]}])[0]
    b_sample = services.receive_sample(w.b_admin, b_sample, "完好")
    b_mapping = InstrumentMapping.objects.create(
        institution=w.lab_b, instrument=w.lab_b.instruments.get(), name="AAS", sample_column="Sample",
        type_column="", sample_types=[], columns={"Pb": "pb"})
    b_signer = b_signatory(w)
    b_analyst = make_user("b-analyst", [Role.ANALYST], w.lab_b)
    MethodAuthorization.objects.create(user=b_analyst, standard=b_pb.standard,
                                       valid_from=timezone.localdate() - dt.timedelta(days=30))
    b_instrument = w.lab_b.instruments.get()
    b_instrument.calibration_due = timezone.localdate() + dt.timedelta(days=100)
    b_instrument.save()
    b_sheet = create_worksheet(b_analyst, b_pb, b_instrument, [b_sample.analyses.get()])
    b_rejection = QCRejection.objects.create(worksheet=b_sheet, rules=[{"rule": "1-3s"}], found_by=w.b_admin)
    b_job = jobs.submit("test.tenancy", user=w.b_admin, institution_id=w.lab_b.pk)
    Job.objects.filter(pk=b_job.pk).update(output=b"a,b\n", output_name="b.csv", output_type="text/csv")
    # Lab B's report and batch as rows (issuing one runs the whole day again; the pages only read them).
    b_report = Report.objects.create(
        institution=w.lab_b, sample=b_sample, number="YZ-2026-0001", code="B" * 22, pdf=b"%PDF-1.7 lab B",
        twin={"number": "YZ-2026-0001"}, ledger_index=0, signed_by=b_signer, issued_at=timezone.now(),
        signature="0" * 64)
    b_batch = ReportBatch.objects.create(institution=w.lab_b, signed_by=b_signer, sample_ids=[b_sample.pk],
                                         total=1)
    b_material = ReferenceMaterial.objects.create(
        institution=w.lab_b, name="标准物质", lot="GBW10045", certified_value="0.071", unit="mg/kg",
        expires_on=timezone.localdate() + dt.timedelta(days=200))

    # PT: the shared round, an appeal and a follow-up of each lab; a round of lab A alone.
    r = fixture.round
    a_part, b_part = fixture.participation(w.lab_a), fixture.participation(w.lab_b)
    appeals = {lab_: Appeal.objects.create(participation=p, reason="复核", filed_by=user)
               for lab_, p, user in (("a", a_part, w.a_admin), ("b", b_part, w.b_admin))}
    follow_ups = {lab_: FollowUp.objects.create(institution=p.institution, participation=p, item_code="A",
                                                kind="z", score=3.5)
                  for lab_, p in (("a", a_part), ("b", b_part))}
    alone = pt.create_round(w.regulator, fixture.scheme, "2026-2", timezone.localdate() + dt.timedelta(days=14),
                            [("A", "大米粉 A")])
    pt.invite(w.regulator, alone, [w.lab_a])
    pt.open_round(w.regulator, alone)
    assert Role.SIGNATORY in w.a_signatory.roles

    from opentic.core.tokens import issue_token

    token, _ = issue_token(w.a_admin, "lims", actor=w.a_admin)
    staff_a = Staff.objects.get(institution=w.lab_a)
    staff_b = Staff.objects.get(institution=w.lab_b)
    return Objects(ids={
        # lab A, its people and its day
        "lab_a": w.lab_a.pk, "staff_a": staff_a.pk, "a_signatory_id": w.a_signatory.pk, "token_a": token.pk,
        "order_a": lab.order.pk, "sample_a": received.pk, "analysis_a": analysis.pk,
        "analysis_version": analysis.version, "waiting_a": waiting.pk, "report_a": report.pk,
        "report_number_a": report.number, "sheet_a": sheet.pk, "sheet_number_a": sheet.number,
        "rejection_a": rejection.pk, "batch_a": batch.pk, "job_a": job.pk, "mapping_a": mapping.pk,
        "method_a": lab.pb.pk,
        # lab B
        "lab_b": w.lab_b.pk, "code_b": w.lab_b.credit_code, "staff_b": staff_b.pk, "b_signatory_id": b_signer.pk,
        "order_b": b_order.pk, "client_b": b_client.name, "sample_b": b_sample.pk, "sample_name_b": b_sample.name,
        "analysis_b": b_sample.analyses.get().pk, "mapping_b": b_mapping.pk, "method_b": b_pb.pk,
        "material_b": b_material.pk, "instrument_b": w.lab_b.instruments.get().pk, "sheet_b": b_sheet.pk,
        "sheet_number_b": b_sheet.number, "rejection_b": b_rejection.pk, "job_b": b_job.pk, "report_b": b_report.pk,
        "report_number_b": b_report.number, "batch_b": b_batch.pk,
        # proficiency testing and the ledger
        "scheme": fixture.scheme.pk, "round": r.pk, "round_a": alone.pk, "item_a": alone.items.get().pk,
        "appeal_b": appeals["b"].pk, "follow_up_a": follow_ups["a"].pk, "follow_up_b": follow_ups["b"].pk,
        "year": timezone.localdate().year,
    })


ATTEMPTS = ("refused", "signature-failed")
COUNTED = ["core.Job", "core.ApiToken", "lims.Sample", "lims.Analysis", "lims.Order", "lims.Client", "lims.Worksheet",
           "lims.AnalysisService", "lims.ControlTarget", "lims.InstrumentMapping", "reports.Report",
           "reports.ReportBatch", "quality.Round", "quality.Appeal", "quality.Submission", "ledger.Entry",
           "ledger.SigningKey", "registry.Institution", "registry.Staff"]
# (model, its fields that a POST changes): each row's values joined, one string per row.
STATES = [("lims.Sample", ["state", "version"]), ("lims.Analysis", ["state", "value", "version"]),
          ("lims.Worksheet", ["state", "version"]), ("lims.QCRejection", ["resolved_at"]),
          ("reports.Report", ["state"]), ("quality.Round", ["state"]), ("quality.Appeal", ["state"]),
          ("quality.FollowUp", ["state"]), ("registry.Institution", ["status"]), ("registry.Staff", ["user_id"]),
          ("core.ApiToken", ["revoked_at"])]


def _fingerprint_sql() -> tuple[str, str]:
    """Two queries (the matrix asks thousands of times): the row counts, and every changeable field."""
    from django.apps import apps

    def table(label: str) -> str:
        return str(apps.get_model(label)._meta.db_table)

    def column(label: str, name: str) -> str:
        return str(apps.get_model(label)._meta.get_field(name).column)

    audit = table("core.AuditEvent")
    attempts = ", ".join(f"'{a}'" for a in ATTEMPTS)
    counts = ", ".join([f"(SELECT COALESCE(MAX(id), 0) FROM {audit})",
                        f"(SELECT COUNT(*) FROM {audit} WHERE action NOT IN ({attempts}))"]
                       + [f"(SELECT COUNT(*) FROM {table(label)})" for label in COUNTED])
    states = " UNION ALL ".join(
        f"SELECT '{label}', id, " + " || '/' || ".join(f"COALESCE(CAST({column(label, f)} AS TEXT), '-')"
                                                       for f in fields) + f" FROM {table(label)}"
        for label, fields in STATES)
    return f"SELECT {counts}", states


def fingerprint(objects: Objects) -> dict[str, Any]:
    """What a refused POST must leave as it was: the audit trail's length (a refused attempt within the lab
    is itself audited, who tried what, and changes no data), the row counts of what a POST creates, the
    fields of what it changes."""
    from django.db import connection

    counts_sql, states_sql = _fingerprint_sql()
    with connection.cursor() as cursor:
        cursor.execute(counts_sql)
        last_event, *numbers = cursor.fetchone()
        counts = dict(zip(["core.AuditEvent", *COUNTED], numbers, strict=True))
        cursor.execute(states_sql)
        states: dict[str, Any] = {}
        for label, pk, value in cursor.fetchall():
            states.setdefault(label.split(".")[1].lower() + " fields", {})[pk] = value
    return counts | states | {"audit": last_event}  # (where to list the new events from)


def audit_since(pk: int) -> list[tuple[int, str, str]]:
    from opentic.core.models import AuditEvent

    return list(AuditEvent.objects.filter(pk__gt=pk).order_by("pk").values_list("pk", "action", "entity"))
