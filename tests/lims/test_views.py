"""The laboratory's pages: only the lab's own staff see its samples; the grid drives the services."""

import pytest

from opentic.lims.models import Analysis, Sample
from tests.conftest import PASSWORD, PERSONAS
from tests.lims.fixtures import Lab


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
def test_a_samples_pages_answer_only_its_labs_staff(lab: Lab, persona: str) -> None:
    sample = lab.received()
    expected = 200 if persona.startswith("a_") else (302 if persona == "anonymous" else 404)
    for url in (f"/lims/samples/{sample.pk}/", f"/lims/samples/{sample.pk}/history/"):
        assert lab.world.client(persona).get(url).status_code == expected, (persona, url)
    listing = lab.world.client(persona).get("/lims/")
    if persona == "b_admin":
        assert sample.lab_number not in listing.content.decode()
    response = lab.world.client(persona).post(f"/lims/samples/{sample.pk}/receive/", {"condition": "x"})
    assert response.status_code == (302 if persona.startswith("a_") or persona == "anonymous" else 404)


@pytest.mark.django_db
def test_the_results_grid_enters_verifies_and_shows_errors(lab: Lab) -> None:
    sample = lab.received(lab.pb)
    pb = sample.analyses.get()
    analyst, reviewer = lab.world.client("a_analyst"), lab.world.client("a_reviewer")
    page = analyst.get(f"/lims/samples/{sample.pk}/").content.decode()
    assert 'class="result-value"' in page and "铅" in page
    bad = analyst.post(f"/lims/samples/{sample.pk}/analyses/{pb.pk}/result/", {"value": "abc", "version": 1},
                       follow=True)
    assert "不是数值" in bad.content.decode()
    analyst.post(f"/lims/samples/{sample.pk}/analyses/{pb.pk}/result/", {"value": "0.0425", "version": 1})
    pb.refresh_from_db()
    assert pb.value == "0.0425" and pb.state == "entered"
    shown = reviewer.get(f"/lims/samples/{sample.pk}/").content.decode()
    assert "0.042" in shown and 'name="analysis"' in shown
    wrong = reviewer.post(f"/lims/samples/{sample.pk}/verify/", {"analysis": [pb.pk], "password": "nope"},
                          follow=True)
    assert "密码不正确" in wrong.content.decode()
    reviewer.post(f"/lims/samples/{sample.pk}/verify/", {"analysis": [pb.pk], "password": PASSWORD})
    assert Analysis.objects.get(pk=pb.pk).state == "verified"
    assert Sample.objects.get(pk=sample.pk).state == "verified"
    history = reviewer.get(f"/lims/samples/{sample.pk}/history/").content.decode()
    assert "审核结果" in history and "0.0425" in history and "登记样品" in history  # actions in words


@pytest.mark.django_db
def test_registering_on_the_page_one_sample_or_a_campaign(lab: Lab) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from opentic.core.tabular import write_csv
    from opentic.lims.sheets import HEADERS

    client = lab.world.client("a_admin")
    response = client.post("/lims/register/", {"order": lab.order.pk, "name": "籼米", "test_object": "大米",
                                                "services": [lab.pb.pk, lab.cd.pk]})
    assert response.status_code == 302
    assert Sample.objects.filter(name="籼米").exists()
    refused = client.post("/lims/register/", {"order": lab.order.pk, "name": "x", "test_object": "大米",
                                               "services": [lab.moisture.pk]})
    assert refused.status_code == 422 and "不在资质认定范围内" in refused.content.decode()
    data = write_csv(HEADERS, [["大米 1", "大米", "铅", "", "", "", "", ""],
                               ["大米 2", "月球", "铅", "", "", "", "", ""]])
    upload = client.post("/lims/register/", {"order": lab.order.pk,
                                              "file": SimpleUploadedFile("c.csv", data, content_type="text/csv")})
    assert upload.status_code == 422 and "第3行「检测对象」" in upload.content.decode()
    assert not Sample.objects.filter(name="大米 1").exists()


@pytest.mark.django_db
def test_a_worksheet_renders_in_constant_queries_and_saves_the_grid(lab: Lab) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from opentic.lims.worksheets import QC, create_worksheet

    def sheet_of(n: int):  # type: ignore[no-untyped-def]
        analyses = [lab.received(lab.pb).analyses.get() for _ in range(n)]
        return create_worksheet(lab.world.a_analyst, lab.pb, lab.icp, analyses, [QC("blank")])

    small, large = sheet_of(2), sheet_of(30)
    client = lab.world.client("a_analyst")
    counts = []
    for sheet in (small, large):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/lims/worksheets/{sheet.pk}/").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
    positions = {p.slot: p.pk for p in small.positions.all()}
    client.post(f"/lims/worksheets/{small.pk}/", {f"p{positions[1]}": "0.002", f"p{positions[2]}": "0.05"})
    assert Analysis.objects.get(positions__pk=positions[2]).value == "0.05"
    page = client.get("/lims/worksheets/").content.decode()
    assert small.number in page
    assert lab.world.client("b_admin").get(f"/lims/worksheets/{small.pk}/").status_code == 404


@pytest.mark.django_db
def test_sample_labels_carry_the_lab_number_as_qr_and_text(lab: Lab) -> None:
    import io

    import segno
    from pypdf import PdfReader

    first, second = lab.register(), lab.register()
    response = lab.world.client("a_admin").get(f"/lims/samples/{first.pk}/label.pdf?order=1")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 2
    page = reader.pages[0]
    assert round(float(page.mediabox.width) / 72 * 25.4) == 50 and round(float(page.mediabox.height) / 72 * 25.4) == 30
    assert first.lab_number in page.extract_text() and lab.order.number in page.extract_text()
    dark = sum(sum(row) for row in segno.make_qr(first.lab_number, error="m").matrix)
    assert page.get_contents().get_data().count(b" re") == dark  # every dark module drawn, nothing else
    assert second.lab_number in reader.pages[1].extract_text()
    assert lab.world.client("b_admin").get(f"/lims/samples/{first.pk}/label.pdf").status_code == 404


@pytest.mark.django_db
def test_the_lab_setup_page_maintains_methods_authorizations_and_specifications(lab: Lab) -> None:
    from opentic.core.models import AuditEvent
    from opentic.lims.models import AnalysisService, MethodAuthorization, Specification

    admin = lab.world.client("a_admin")
    page = admin.get("/lims/setup/")
    assert page.status_code == 200 and "GB 5009.12-2017" in page.content.decode()
    method = f"{lab.pb.parameter_id}:{lab.pb.standard_id}"
    made = admin.post("/lims/setup/", {"form": "service", "keyword": "pb2", "method": method, "unit": "mg/kg",
                                       "places": 3, "below_loq": "nd"})
    assert made.status_code == 302 and AnalysisService.objects.filter(keyword="pb2").exists()
    bad = admin.post("/lims/setup/", {"form": "service", "keyword": "pb3", "method": method, "unit": "mg/kg",
                                      "places": 3, "below_loq": "nd", "formula": "__import__('os')"})
    assert bad.status_code == 400 and not AnalysisService.objects.filter(keyword="pb3").exists()
    changed = admin.post("/lims/setup/", {"form": "service", "keyword": "pb2", "method": method, "unit": "mg/kg",
                                          "places": 4, "below_loq": "nd", "reason": "按新版作业指导书"})
    assert changed.status_code == 302 and AnalysisService.objects.get(keyword="pb2").version == 2
    grant = admin.post("/lims/setup/", {"form": "grant", "user": lab.world.a_analyst.pk,
                                        "standard": lab.pb.standard_id, "valid_from": "2026-01-01"})
    assert grant.status_code == 302
    spec = admin.post("/lims/setup/", {"form": "spec", "name": "GB 2762-2022", "test_object": "大米",
                                       "parameter": "铅", "upper": "0.2", "unit": "mg/kg"})
    assert spec.status_code == 302 and Specification.objects.filter(name="GB 2762-2022").exists()
    assert MethodAuthorization.objects.filter(user=lab.world.a_analyst).count() == 4
    assert AuditEvent.objects.filter(entity="lims.AnalysisService", action="update").exists()
    assert lab.world.client("a_analyst").get("/lims/setup/").status_code == 403
    assert lab.world.client("b_admin").post("/lims/setup/", {"form": "revoke", "grant": 1,
                                                              "reason": "x"}).status_code == 404
