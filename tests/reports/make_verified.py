# Run by tests/reports/test_batch_crash.py inside `opentic shell` on the demo data: takes every sample of the
# demo's lab1 (but the rejected one) to verified, so a batch has enough reports to be killed in the middle.
from opentic.core.models import User
from opentic.lims import services, verification
from opentic.lims.models import Sample
from opentic.registry.demo import DEMO_PASSWORD
from opentic.registry.models import Instrument, SignatoryAuthorization

# The demo's signatory signs in 食品 under the name of a staff member (as tests/reports/test_batch.py does).
signatory = User.objects.get(username="lab1-signatory")
grant = SignatoryAuthorization.objects.filter(staff__institution_id=signatory.institution_id,
                                              fields__contains="食品").first()
signatory.first_name = grant.staff.name
signatory.save()

admin = User.objects.get(username="lab1-admin")
analyst = User.objects.get(username="lab1-analyst")
reviewer = User.objects.get(username="lab1-reviewer")
instrument = Instrument.objects.filter(institution=admin.institution, status="in_service").order_by(
    "asset_number").first()
for sample in Sample.objects.filter(institution=admin.institution).exclude(state__in=["verified", "rejected"]):
    if sample.state == "registered":
        services.receive_sample(admin, sample, "密封完好,冷藏")
    for analysis in Sample.objects.get(pk=sample.pk).analyses.order_by("id"):
        if analysis.state not in ("entered", "verified"):
            services.enter_result(analyst, analysis, "0.0500", instrument=instrument)
    for analysis in Sample.objects.get(pk=sample.pk).analyses.all():
        if analysis.state != "verified":
            verification.verify_result(reviewer, analysis, DEMO_PASSWORD)
print(Sample.objects.filter(institution=admin.institution, state="verified").count())
