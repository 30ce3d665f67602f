# Run by tests/reports/test_batch_crash.py inside `opentic shell` on the demo data: takes every sample of the
# demo's lab1 (but the rejected one) to verified, so a batch has enough reports to be killed in the middle.
from opentic.core.models import User
from opentic.lims import qc_policy, services
from opentic.lims.method_setup import Policy, save_method_rules
from opentic.lims.models import AnalysisService, Sample
from opentic.registry.demo import DEMO_PASSWORD
from opentic.registry.models import Instrument, SignatoryAuthorization

# The demo's signatory signs in 食品 as a staff member (as tests/reports/test_batch.py does).
signatory = User.objects.get(username="lab1-signatory")
grant = SignatoryAuthorization.objects.filter(staff__institution_id=signatory.institution_id,
                                              fields__contains="食品").first()
signatory.first_name = grant.staff.name
signatory.save()
grant.staff.user = signatory  # signatories are matched by person (Staff.user), not by name, since the api merge
grant.staff.save()

admin = User.objects.get(username="lab1-admin")
analyst = User.objects.get(username="lab1-analyst")
reviewer = User.objects.get(username="lab1-reviewer")
instrument = Instrument.objects.filter(institution=admin.institution, status="in_service").order_by(
    "asset_number").first()
# The demo gives one method a QC policy (results on a worksheet with QC, released, before verification); this
# script verifies results directly, so the admin lifts the policy first, through the service that audits it.
for service in AnalysisService.objects.filter(institution=admin.institution):
    if qc_policy.has_policy(service):
        save_method_rules(admin, service, Policy(None, 0, 0, 0, service.plausible_min, service.plausible_max,
                                                 service.out_of_range), service.inputs,
                          list(service.instruments.all()), "lifted for the batch crash test")
for sample in Sample.objects.filter(institution=admin.institution).exclude(state__in=["verified", "rejected"]):
    if sample.state == "registered":
        services.receive_sample(admin, sample, "密封完好,冷藏")
    for analysis in Sample.objects.get(pk=sample.pk).analyses.order_by("id"):
        if analysis.state not in ("entered", "verified"):
            services.enter_result(analyst, analysis, "0.0500", instrument=instrument)
    for analysis in Sample.objects.get(pk=sample.pk).analyses.all():
        if analysis.state != "verified":
            services.verify_result(reviewer, analysis, DEMO_PASSWORD)
print(Sample.objects.filter(institution=admin.institution, state="verified").count())
