"""PT pages: the provider's and the participant's, tenancy, and the PDF reports read back with pdftotext."""

import subprocess
import tempfile

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from opentic.quality import pt
from opentic.quality.models import Round, Scheme, Submission
from opentic.registry.models import Parameter, TestObject
from tests.quality.fixtures import PT, other_labs, pt_round, submit_others  # noqa: F401 — the fixture

pytestmark = pytest.mark.django_db


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF")
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(data)
        f.flush()
        text = subprocess.run(["pdftotext", "-layout", f.name, "-"], capture_output=True, text=True,
                              check=True).stdout
    return "".join(text.split())  # pdftotext spaces CJK text unpredictably


def test_provider_creates_a_scheme_and_a_round_from_the_pages(world) -> None:  # type: ignore[no-untyped-def]
    regulator = world.client("regulator")
    lead, rice = Parameter.objects.get(name="铅"), TestObject.objects.get(name="大米")
    regulator.post("/quality/pt/", {"code": "CQ-PT-2026-09", "name": "大米中镉", "parameter": lead.pk,
                                    "test_object": rice.pk, "unit": "mg/kg"})
    scheme = Scheme.objects.get(code="CQ-PT-2026-09")
    deadline = (timezone.localdate()).isoformat()
    response = regulator.post(f"/quality/pt/schemes/{scheme.pk}/rounds/", {
        "number": "1", "deadline": deadline, "items": "A 大米粉A\uff1bB 大米粉B", "assigned_method": "q_hampel",
        "sigma_method": "percent", "sigma_value": "15", "score_kind": "z'"})
    r = Round.objects.get(scheme=scheme)
    assert response.status_code == 302 and response["Location"] == f"/quality/pt/rounds/{r.pk}/"
    assert [i.code for i in r.items.all()] == ["A", "B"] and r.sigma_value == 15
    regulator.post(f"/quality/pt/rounds/{r.pk}/invite/", {"credit_codes": f"{world.lab_a.credit_code}\nNOPE"})
    assert not r.participations.exists()  # an unknown code refuses the whole invitation
    regulator.post(f"/quality/pt/rounds/{r.pk}/invite/", {"by_scope": "1"})
    assert set(r.participations.values_list("institution_id", flat=True)) == {world.lab_a.pk, world.lab_b.pk}
    # nobody else creates schemes
    world.client("a_admin").post("/quality/pt/", {"code": "X", "name": "X", "parameter": lead.pk,
                                                  "test_object": rice.pk, "unit": "mg/kg"})
    assert not Scheme.objects.filter(code="X").exists()


def test_participant_pages_and_reports(pt_round: PT) -> None:  # noqa: F811
    w, r = pt_round.world, pt_round.round
    analyst = w.client("a_analyst")
    page = analyst.get(f"/quality/pt/rounds/{r.pk}/").content.decode()
    code_a = pt_round.participation(w.lab_a).code
    assert code_a in page and "submit-form" in page
    item_a = r.items.get(code="A")
    analyst.post(f"/quality/pt/rounds/{r.pk}/submit/", {"item": item_a.pk, "value": "abc"})
    assert not Submission.objects.exists()
    analyst.post(f"/quality/pt/rounds/{r.pk}/submit/", {"item": item_a.pk, "value": "0.251",
                                                        "expanded_uncertainty": "0.03"})
    assert Submission.objects.get().coverage_factor == 2
    submit_others(pt_round)
    # before publication a participant sees no one else's results, nor the reports
    assert "results" not in analyst.get(f"/quality/pt/rounds/{r.pk}/").content.decode().split("submit")[0]
    assert analyst.get(f"/quality/pt/rounds/{r.pk}/report.pdf").status_code == 404
    regulator = w.client("regulator")
    for action in ("close", "evaluate", "publish"):
        regulator.post(f"/quality/pt/rounds/{r.pk}/{action}/")
    assert Round.objects.get(pk=r.pk).state == "published"
    page = analyst.get(f"/quality/pt/rounds/{r.pk}/").content.decode()
    assert "<svg" in page and "Youden" in page
    assert w.lab_b.name not in page  # participants see codes, not names
    assert w.lab_b.name in regulator.get(f"/quality/pt/rounds/{r.pk}/").content.decode()
    mine = pdf_text(analyst.get(f"/quality/pt/rounds/{r.pk}/my-report.pdf").content)
    assert f"参加者{code_a}" in mine and "0.251" in mine and "第1页共" in mine
    whole = pdf_text(regulator.get(f"/quality/pt/rounds/{r.pk}/report.pdf").content)
    assert "尤登图" in whole and w.lab_a.name not in whole
    # tenancy: an institution not invited, and anonymous visitors, see nothing
    _, stranger = other_labs(1, prefix="stranger")[0]
    client = Client()
    client.force_login(stranger)
    assert client.get(f"/quality/pt/rounds/{r.pk}/").status_code == 404
    assert client.get(f"/quality/pt/rounds/{r.pk}/report.pdf").status_code == 404
    assert Client().get(f"/quality/pt/rounds/{r.pk}/").status_code == 302
    assert w.client("b_admin").get(f"/quality/pt/rounds/{r.pk}/my-report.pdf").status_code == 200


def test_the_provider_records_homogeneity_and_stability(pt_round: PT) -> None:  # noqa: F811
    from tests.numerics import iso13528_annex_e as annex

    w, r = pt_round.world, pt_round.round
    item = r.items.get(code="A")
    regulator = w.client("regulator")
    url = f"/quality/pt/rounds/{r.pk}/homogeneity/"
    pairs = "\n".join(f"{a}\uff0c{b}" for a, b in annex.E2_HOMOGENEITY)  # full-width commas, as typed
    later = " ".join(str(v) for pair in annex.E2_STABILITY for v in pair)
    regulator.post(url, {"item": item.pk, "pairs": pairs.replace("0.196", "x", 1), "later": later,
                         "sigma_pt": "0.02807"})
    item.refresh_from_db()
    assert item.homogeneity is None  # a bad line changes nothing
    regulator.post(url, {"item": item.pk, "pairs": pairs, "later": later, "sigma_pt": "0.02807"})
    item.refresh_from_db()
    assert item.homogeneity is not None
    # ISO 13528 E.2: s_s = 0.00060 ≤ 0.3 σ_pt = 0.00842; stability difference 0.00660 ≤ 0.00842
    assert round(item.homogeneity["s_s"], 5) == 0.0006 and item.homogeneity["homogeneous"]
    assert round(item.homogeneity["stability_difference"], 5) == 0.0066 and item.homogeneity["stable"]
    assert "0.00060" in regulator.get(f"/quality/pt/rounds/{r.pk}/").content.decode()
    assert w.client("a_admin").post(url, {"item": item.pk, "pairs": pairs, "sigma_pt": "1"}).status_code == 404


@pytest.mark.parametrize("bad", ["nan", "inf", "-Infinity", "1e999"])
def test_homogeneity_lines_refuse_nan_and_infinity(pt_round: PT, bad: str) -> None:  # noqa: F811
    """float() reads "nan", "inf" and "1e999" as numbers; the statistics would have judged such an item
    homogeneous (s_s = 0). The form refuses them with a message and records nothing."""
    from tests.numerics import iso13528_annex_e as annex

    w, r = pt_round.world, pt_round.round
    item = r.items.get(code="A")
    regulator = w.client("regulator")
    url = f"/quality/pt/rounds/{r.pk}/homogeneity/"
    pairs = "\n".join(f"{a}, {b}" for a, b in annex.E2_HOMOGENEITY)
    page = regulator.post(url, {"item": item.pk, "pairs": pairs.replace("0.196", bad, 1), "sigma_pt": "0.02807"},
                          follow=True).content.decode()
    assert "NaN 或无穷大" in page
    page = regulator.post(url, {"item": item.pk, "pairs": pairs, "sigma_pt": bad}, follow=True).content.decode()
    assert "有限数值" in page
    item.refresh_from_db()
    assert item.homogeneity is None
    with pytest.raises(ValidationError, match="NaN 或无穷大"):
        pt.record_homogeneity(w.regulator, item, [[0.1, float(bad)], [0.2, 0.2]], [], 0.1)
    with pytest.raises(ValidationError, match="有限数值"):
        pt.record_homogeneity(w.regulator, item, [[0.1, 0.1], [0.2, 0.2]], [], float(bad))
