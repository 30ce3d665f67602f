"""Verifying several results at once is one electronic signature in one transaction: all of them or none."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from opentic.core.models import AuditEvent
from opentic.lims import services, verification
from opentic.lims.models import Analysis, Sample
from tests.conftest import PASSWORD
from tests.lims.fixtures import Lab


def _states(sample: Sample) -> dict[str, str]:
    return dict(sample.analyses.values_list("service__keyword", "state"))


@pytest.mark.django_db
def test_a_refusal_half_way_leaves_none_verified(lab: Lab) -> None:
    sample = lab.received(lab.pb, lab.cd)
    pb, cd = (sample.analyses.get(service__keyword=k) for k in ("pb", "cd"))
    services.enter_result(lab.world.a_analyst, pb, "0.31")  # cd stays pending: it cannot be verified
    with pytest.raises(ValidationError, match="cd:只能审核已录入"):
        verification.verify_results(lab.world.a_reviewer, sample, [pb.pk, cd.pk], PASSWORD)
    assert _states(sample) == {"pb": "entered", "cd": "pending"}
    assert not AuditEvent.objects.filter(action="verify").exists()
    assert AuditEvent.objects.filter(action="refused", changes__operation="verify_results").count() == 1


@pytest.mark.django_db
def test_the_page_verifies_all_or_none(lab: Lab) -> None:
    sample = lab.received(lab.pb, lab.cd)
    pb, cd = (sample.analyses.get(service__keyword=k) for k in ("pb", "cd"))
    services.enter_result(lab.world.a_analyst, pb, "0.31")
    client = lab.world.client("a_reviewer")
    response = client.post(f"/lims/samples/{sample.pk}/verify/", {"analysis": [pb.pk, cd.pk], "password": PASSWORD},
                           follow=True)
    assert "只能审核已录入" in response.content.decode()
    assert _states(sample) == {"pb": "entered", "cd": "pending"}  # the old loop had verified pb already
    services.enter_result(lab.world.a_analyst, cd, "0.020")
    client.post(f"/lims/samples/{sample.pk}/verify/", {"analysis": [pb.pk, cd.pk], "password": PASSWORD})
    assert _states(sample) == {"pb": "verified", "cd": "verified"}


@pytest.mark.django_db
def test_one_signature_covers_every_result_signed_together(lab: Lab) -> None:
    sample = lab.received(lab.pb, lab.cd)
    for keyword, value in (("pb", "0.31"), ("cd", "0.020")):
        services.enter_result(lab.world.a_analyst, sample.analyses.get(service__keyword=keyword), value)
    ids = list(sample.analyses.values_list("pk", flat=True))
    with pytest.raises(PermissionDenied, match="密码不正确"):
        verification.verify_results(lab.world.a_reviewer, sample, ids, "wrong")
    rows = verification.verify_results(lab.world.a_reviewer, sample, ids, PASSWORD)
    signatures = {a.signature for a in Analysis.objects.filter(pk__in=ids)}
    assert len(signatures) == 1 and len(signatures.pop()) == 64
    assert rows[0].verified_at is not None
    expected = verification.signed_batch(rows, "verified", lab.world.a_reviewer, rows[0].verified_at)
    assert rows[0].signature == expected
    events = AuditEvent.objects.filter(action="verify")
    assert events.count() == 2 and all(e.changes["signed_with"] == sorted(ids) for e in events)
    assert Sample.objects.get(pk=sample.pk).state == "verified"


@pytest.mark.django_db
def test_results_of_another_sample_cannot_be_slipped_in(lab: Lab) -> None:
    first, second = lab.received(lab.pb), lab.received(lab.pb)
    for s in (first, second):
        services.enter_result(lab.world.a_analyst, s.analyses.get(), "0.31")
    with pytest.raises(ValidationError, match="不属于该样品"):
        verification.verify_results(lab.world.a_reviewer, first, [first.analyses.get().pk, second.analyses.get().pk],
                                PASSWORD)
    assert not Analysis.objects.filter(state="verified").exists()


@pytest.mark.django_db
def test_the_page_says_why_it_verifies_nothing(lab: Lab) -> None:
    sample, other = lab.received(lab.pb), lab.received(lab.pb)
    services.enter_result(lab.world.a_analyst, sample.analyses.get(), "0.31")
    client = lab.world.client("a_reviewer")
    url = f"/lims/samples/{sample.pk}/verify/"
    assert "请选择要审核的结果" in client.post(url, {"password": PASSWORD}, follow=True).content.decode()
    foreign = client.post(url, {"analysis": [other.analyses.get().pk], "password": PASSWORD}, follow=True)
    assert "要审核的结果" in foreign.content.decode()  # not one of this sample's results: the form refuses it
    assert not Analysis.objects.filter(state="verified").exists()
