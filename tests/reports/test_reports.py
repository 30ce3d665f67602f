"""Issuing, amending and withdrawing reports: rendered, signed, registered, never edited."""

import io
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from pypdf import PdfReader

from opentic.ledger import services as ledger
from opentic.ledger.models import Registration
from opentic.lims import services as lims
from opentic.lims import verification
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
        verification.verify_result(lab.world.a_reviewer, a, PASSWORD)
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
                     "张伟", "报告结束", "第1页共", lab.world.lab_a.cma_number):
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
                custom.replace("{{ r.conclusion.text }}", ""), "{% if %}"):
        with pytest.raises(ValidationError):
            services.save_template(lab.world.a_admin, bad, twin)
    with pytest.raises(PermissionDenied):
        services.save_template(lab.world.a_analyst, custom, twin)
    services.save_template(lab.world.a_admin, custom, twin)
    report = services.issue_report(lab.world.a_signatory, verified_sample(lab), PASSWORD)
    # A template saved before the conclusion was mandatory is refused at issue, and no number is spent.
    from opentic.reports.models import ReportTemplate

    ReportTemplate.objects.update(html=custom.replace("{{ r.conclusion.text }}", ""))
    with pytest.raises(ValidationError, match="检验结论"):
        services.issue_report(lab.world.a_signatory, verified_sample(lab), PASSWORD)
    assert Report.objects.count() == 1
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(bytes(report.pdf))).pages).replace(" ", "")
    assert "江津检测·检验报告" in text and ledger.verify_pdf(bytes(report.pdf)).status == "genuine"


@pytest.mark.django_db
def test_the_demo_writes_real_reports_to_verify(settings: object, tmp_path: Path) -> None:
    from opentic.ledger.entry import verify_offline
    from opentic.ledger.keys import log_verifier
    from opentic.lims.demo import seed
    from opentic.registry import demo
    from opentic.reports.demo import issue_demo_reports

    settings.DATA_DIR = tmp_path  # type: ignore[attr-defined]
    demo.generate("tiny", seed=3)
    seed()
    out = tmp_path / "demo-reports"
    out.mkdir()
    (out / "JJ-2026-0001.pdf").write_bytes(b"%PDF- an old stub")
    assert issue_demo_reports() == 5  # every verified sample, and the amendment
    assert not Sample.objects.filter(state="verified").exists()
    assert not (out / "JJ-2026-0001.pdf").exists()
    expected = {"genuine": ("genuine", "genuine"), "altered": ("altered", "altered"),
                "amended-original": ("superseded", "superseded"), "amended-current": ("genuine", "genuine"),
                "withdrawn": ("withdrawn", "withdrawn"), "not-accepted": ("genuine", "genuine")}
    readme = (out / "README.md").read_text()
    for name, (web, offline) in expected.items():
        pdf = (out / f"{name}.pdf").read_bytes()
        assert len(pdf) > 20_000, name  # a rendered, signed report, not a 1 KB stub
        verdict = ledger.verify_pdf(pdf)
        assert verdict.status == web, (name, verdict.status)
        assert (verdict.not_accepted is not None) == (name == "not-accepted"), name
        proof = (out / f"{name}.pdf.tlog-proof").read_text()
        assert verify_offline(pdf, proof, log_verifier()).status == offline, name
        assert f"{name}.pdf" in readme
        assert verdict.entry is not None
        record = Registration.objects.get(log_id=verdict.entry.log_id, index=verdict.entry.index)
        assert record.number in readme and record.code in readme


@pytest.mark.django_db
def test_the_ledger_never_disagrees_with_the_lims(lab: Lab, settings: object, tmp_path: Path) -> None:
    from opentic.ledger import esign

    settings.DATA_DIR = tmp_path  # type: ignore[attr-defined]
    make_signatory(lab)
    report = services.issue_report(lab.world.a_signatory, verified_sample(lab), PASSWORD)
    # Withdrawing or amending a LIMS report through the ledger (its API) is refused: the LIMS does it.
    for event in ("withdrawn", "issued"):
        with pytest.raises(ValidationError, match="LIMS"):
            ledger.register_report(lab.world.a_signatory, lab.world.lab_a, report.number, bytes(report.pdf),
                                   code=report.code, event=event, reason="x", esign=esign.by_password(PASSWORD))
    assert ledger.verify_pdf(bytes(report.pdf)).status == "genuine"
    # The QR code's link shows what the platform holds, to compare with the paper.
    looked_up = ledger.verify_code(report.number, report.code)
    assert looked_up.status == "registered" and looked_up.content is not None
    content = looked_up.content
    assert content["number"] == report.number and content["sample_name"] == report.twin["sample_name"]
    assert content["lab_name"] == "重庆江津检测有限公司" and content["issued"] == report.twin["issued"]
    assert [line["parameter"] for line in content["results"]] == [r["parameter"] for r in report.twin["results"]]
    assert content["conclusion"]
    services.withdraw_report(lab.world.a_signatory, report, PASSWORD, "样品标识错误")
    withdrawn = ledger.verify_code(report.number, report.code)
    assert withdrawn.status == "withdrawn" and withdrawn.withdrawal_reason == "样品标识错误"


@pytest.mark.django_db
def test_reports_issued_before_registrations_were_kept_are_found_by_number_and_code(
        lab: Lab, settings: object, tmp_path: Path) -> None:
    import importlib

    from django.apps import apps

    settings.DATA_DIR = tmp_path  # type: ignore[attr-defined]
    make_signatory(lab)
    first = services.issue_report(lab.world.a_signatory, verified_sample(lab), PASSWORD)
    second = services.issue_report(lab.world.a_signatory, first.sample, PASSWORD, replaces=first, reason="更正")
    Registration.objects.all().delete()  # as a database from before migration ledger 0002 holds them
    assert ledger.verify_code(first.number, first.code).status == "unknown"
    importlib.import_module("opentic.reports.migrations.0005_verify_registrations_backfill").backfill(apps, None)
    superseded = ledger.verify_code(first.number, first.code)
    assert superseded.status == "superseded" and superseded.current_number == second.number
    assert Registration.objects.get(number=second.number).reason == "更正"
