"""Issuing, amending and withdrawing reports: rendered, signed, registered, never edited."""

import io
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from pypdf import PdfReader

from opentic.ledger import services as ledger
from opentic.lims import services as lims
from opentic.lims.models import Sample
from opentic.registry.models import SignatoryAuthorization, Staff
from opentic.reports import services
from opentic.reports.models import Report
from tests.conftest import PASSWORD
from tests.lims.fixtures import Lab
from tests.reports.test_signing import pdfsig


def verified_sample(lab: Lab) -> Sample:
    sample = lab.received(lab.pb, lab.cd)
    for a in sample.analyses.all():
        lims.enter_result(lab.world.a_analyst, a, "0.0425" if a.service == lab.pb else "0.0031",
                          uncertainty="0.004", coverage_factor="2")
    for a in sample.analyses.all():
        lims.verify_result(lab.world.a_reviewer, a, PASSWORD)
    return Sample.objects.get(pk=sample.pk)


def make_signatory(lab: Lab, fields: str = "食品") -> None:
    import datetime as dt

    staff = Staff.objects.get(institution=lab.world.lab_a, name="张伟")
    SignatoryAuthorization.objects.create(staff=staff, fields=fields, valid_from=dt.date(2024, 1, 1))
    staff.user = lab.world.a_signatory
    staff.save()


@pytest.mark.django_db
def test_a_report_is_rendered_signed_and_registered(lab: Lab, settings: object, tmp_path: Path) -> None:
    settings.DATA_DIR = tmp_path  # type: ignore[attr-defined]
    make_signatory(lab)
    sample = verified_sample(lab)
    report = services.issue_report(lab.world.a_signatory, sample, PASSWORD)
    assert Sample.objects.get(pk=sample.pk).state == "reported"
    pdf = bytes(report.pdf)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).replace(" ", "").replace("\n", "")
    for expected in ("检验检测报告", report.number, "重庆江津检测有限公司", "GB5009.12-2017", "0.042", "mg/kg",
                     "张伟", "报告结束", "第1页共1页", "CMA", lab.world.lab_a.cma_number):
        assert expected in text, expected
    (tmp_path / "r.pdf").write_bytes(pdf)
    assert "Signature is Valid" in pdfsig(tmp_path / "r.pdf")
    assert ledger.verify_pdf(pdf).status == "genuine"  # the link in the PDF's metadata, the ledger entry
    assert report.twin["results"][0]["method"] in ("GB 5009.12-2017", "GB 5009.15-2014")
    with pytest.raises(ValidationError, match="审核后"):
        services.issue_report(lab.world.a_signatory, lab.received(), PASSWORD)


@pytest.mark.django_db
def test_approval_needs_an_authorized_signatory_covering_the_field(lab: Lab, settings: object,
                                                                    tmp_path: Path) -> None:
    settings.DATA_DIR = tmp_path  # type: ignore[attr-defined]
    sample = verified_sample(lab)
    with pytest.raises(PermissionDenied, match="授权签字人"):
        services.issue_report(lab.world.a_reviewer, sample, PASSWORD)
    with pytest.raises(PermissionDenied, match="不是本机构登记的授权签字人"):
        services.issue_report(lab.world.a_signatory, sample, PASSWORD)
    make_signatory(lab, fields="建筑工程")
    with pytest.raises(PermissionDenied, match="不包括 食品"):
        services.issue_report(lab.world.a_signatory, sample, PASSWORD)
    with pytest.raises(PermissionDenied, match="密码不正确"):
        services.issue_report(lab.world.a_signatory, sample, "wrong")
    assert not Report.objects.exists()


@pytest.mark.django_db
def test_an_amendment_supersedes_and_a_withdrawal_withdraws(lab: Lab, settings: object, tmp_path: Path) -> None:
    settings.DATA_DIR = tmp_path  # type: ignore[attr-defined]
    make_signatory(lab)
    sample = verified_sample(lab)
    first = services.issue_report(lab.world.a_signatory, sample, PASSWORD)
    with pytest.raises(ValidationError, match="原因"):
        services.issue_report(lab.world.a_signatory, sample, PASSWORD, replaces=first)
    second = services.issue_report(lab.world.a_signatory, sample, PASSWORD, replaces=first, reason="委托方名称有误")
    assert second.number != first.number and second.replaces == first
    assert ledger.verify_pdf(bytes(first.pdf)).status == "superseded"
    assert ledger.verify_pdf(bytes(second.pdf)).status == "genuine"
    services.withdraw_report(lab.world.a_signatory, second, PASSWORD, "样品标识错误")
    assert ledger.verify_pdf(bytes(second.pdf)).status == "withdrawn"
    twin = services.twin_json(Report.objects.get(pk=first.pk))
    assert second.number in twin and '"state": "issued"' in twin


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["anonymous", "regulator", "a_analyst", "a_signatory", "b_admin"])
def test_a_reports_files_answer_only_its_lab(lab: Lab, settings: object, tmp_path: Path, persona: str) -> None:
    settings.DATA_DIR = tmp_path  # type: ignore[attr-defined]
    make_signatory(lab)
    report = services.issue_report(lab.world.a_signatory, verified_sample(lab), PASSWORD)
    expected = 200 if persona.startswith("a_") or persona == "regulator" else (302 if persona == "anonymous" else 404)
    for url in (f"/reports/{report.pk}.pdf", f"/reports/{report.pk}.json"):
        assert lab.world.client(persona).get(url).status_code == expected, (persona, url)
    post = lab.world.client(persona).post(f"/reports/samples/{report.sample_id}/approve/", {"password": PASSWORD})
    assert post.status_code == (302 if persona.startswith("a_") or persona == "anonymous" else 404)  # approve: lab only


@pytest.mark.django_db
def test_an_institution_template_is_used_and_must_keep_the_mandatory_parts(lab: Lab, settings: object,
                                                                           tmp_path: Path) -> None:
    from django.template.loader import get_template

    settings.DATA_DIR = tmp_path  # type: ignore[attr-defined]
    make_signatory(lab)
    default = Path(get_template("reports/report.html").origin.name).read_text()
    custom = default.replace("<h1>检验检测报告</h1>", "<h1>江津检测 · 检验报告</h1>")
    from django.utils import timezone

    twin = services._twin(verified_sample(lab), "X-1", "A" * 22, lab.world.a_signatory, ["食品"], timezone.now(),
                          None, "")
    for bad in ("{% load static %}" + custom, custom.replace("报告结束", ""), custom.replace("{{ r.qr }}", ""),
                "{% if %}"):
        with pytest.raises(ValidationError):
            services.save_template(lab.world.a_admin, bad, twin)
    with pytest.raises(PermissionDenied):
        services.save_template(lab.world.a_analyst, custom, twin)
    services.save_template(lab.world.a_admin, custom, twin)
    report = services.issue_report(lab.world.a_signatory, verified_sample(lab), PASSWORD)
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(bytes(report.pdf))).pages).replace(" ", "")
    assert "江津检测·检验报告" in text and ledger.verify_pdf(bytes(report.pdf)).status == "genuine"


@pytest.mark.django_db
def test_the_demo_issues_real_reports_for_its_verified_samples(settings: object, tmp_path: Path) -> None:
    from opentic.lims.demo import seed
    from opentic.registry import demo
    from opentic.reports.demo import issue_demo_reports

    settings.DATA_DIR = tmp_path  # type: ignore[attr-defined]
    demo.generate("tiny", seed=3)
    seed()
    assert issue_demo_reports() == 4
    for report in Report.objects.all():
        assert ledger.verify_pdf(bytes(report.pdf)).status == "genuine"
    assert not Sample.objects.filter(state="verified").exists()
