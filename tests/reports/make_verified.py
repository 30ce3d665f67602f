# Run by tests/reports/test_batch_crash.py inside `opentic shell` on the demo data: takes every sample of the
# demo's lab1 (but the rejected one) to verified, so a batch has enough reports to be killed in the middle.
# As a lab does it: a method under a QC policy is measured on a worksheet with its blank and control, released
# before its results are verified (lims/qc_policy.py).
from opentic.core.models import User
from opentic.lims import qc, services, verification
from opentic.lims.models import Analysis, AnalysisService, ControlTarget, ReferenceMaterial, Sample
from opentic.lims.qc_policy import has_policy
from opentic.lims.worksheets import QC, create_worksheet, enter_worksheet_results
from opentic.registry.demo import DEMO_PASSWORD
from opentic.registry.models import SignatoryAuthorization, Staff

# The demo's signatory's account is the staff member authorized to sign in 食品 (Staff.user, as the demo's
# reports and tests/reports/test_batch.py set it up): a signatory signs as the person the register holds.
signatory = User.objects.get(username="lab1-signatory")
grant = SignatoryAuthorization.objects.filter(staff__institution_id=signatory.institution_id,
                                              fields__contains="食品").first()
Staff.objects.filter(user=signatory).exclude(pk=grant.staff_id).update(user=None)
Staff.objects.filter(pk=grant.staff_id).update(user=signatory)

admin = User.objects.get(username="lab1-admin")
analyst = User.objects.get(username="lab1-analyst")
reviewer = User.objects.get(username="lab1-reviewer")
todo = list(Sample.objects.filter(institution=admin.institution).exclude(state__in=["verified", "rejected"]))
for sample in todo:
    if sample.state == "registered":
        services.receive_sample(admin, sample, "密封完好，冷藏")


def bench(service: AnalysisService):  # the method's own instrument, in calibration (lims/demo.py sets them)
    return service.instruments.filter(status="in_service").order_by("asset_number").first()


pending = Analysis.objects.filter(sample__in=todo, state="pending", positions__isnull=True).select_related("service")
by_service: dict[int, list[Analysis]] = {}
for analysis in pending.order_by("id"):
    if has_policy(analysis.service):
        by_service.setdefault(analysis.service_id, []).append(analysis)
sheets = []
for analyses in by_service.values():
    service = analyses[0].service
    targeted = ControlTarget.objects.filter(service=service).values_list("reference_material_id", flat=True)
    control = ReferenceMaterial.objects.filter(pk__in=targeted).first()
    sheet = create_worksheet(analyst, service, bench(service), analyses, [QC("blank"), QC("control", control)])
    enter_worksheet_results(analyst, sheet, {p.pk: ("0.002" if p.kind == "blank" else "0.101")
                                             for p in sheet.positions.exclude(kind="sample")})
    sheets.append(sheet)
for sample in todo:
    for analysis in Sample.objects.get(pk=sample.pk).analyses.select_related("service").order_by("id"):
        if analysis.state not in ("entered", "verified"):
            services.enter_result(analyst, analysis, "0.0500", instrument=bench(analysis.service))
for sheet in sheets:
    qc.release_worksheet(reviewer, sheet)
for sample in todo:
    for analysis in Sample.objects.get(pk=sample.pk).analyses.all():
        if analysis.state != "verified":
            verification.verify_result(reviewer, analysis, DEMO_PASSWORD)
print(Sample.objects.filter(institution=admin.institution, state="verified").count())
