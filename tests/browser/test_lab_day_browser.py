"""A laboratory's whole day in Chromium, on a fresh database (issue 11, "Done when"):

the admin sets up lead and cadmium in rice with GB 2762-2022 limits, a QC policy, a control target and a
moisture method's inputs; an analyst creates a 监督抽检 order with the sampling block and the judgement
basis, registers two samples, receives them, runs lead on a worksheet with a blank and a control, enters
results (moisture by its weighings, one lead result over the limit); the reviewer releases the worksheet
and verifies; the signatory issues the report; its text carries the conclusion, the basis, the sampling
block and the roles; the QR page shows the number and the conclusion; the upload says genuine; the
regulator sees the report. Each step leaves a screenshot in var/screenshots/lab-day/ to be looked at.
"""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest
from django.db import transaction
from django.utils import timezone
from playwright.sync_api import Page, expect

from opentic.ledger import services as ledger
from opentic.lims.models import AnalysisService, ReferenceMaterial, Sample
from opentic.registry.models import Parameter, ScopeLine, Standard
from opentic.reports.models import Report
from tests.conftest import PASSWORD
from tests.lims.fixtures import Lab
from tests.reports.test_reports import make_signatory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path("var/screenshots/lab-day")


def sign_in(page: Page, server: object, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{server}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _prepare(lab: Lab) -> ReferenceMaterial:
    """What the register and the store room already hold: moisture in the scope, a control material."""
    today = timezone.localdate()
    ScopeLine.objects.create(institution=lab.world.lab_a, seq=3, field="食品", category="理化", test_object=lab.rice,
                             parameter=Parameter.objects.get(name="水分"),
                             standard=Standard.objects.get(code="GB 5009.3"), valid_from=today - dt.timedelta(days=30))
    AnalysisService.objects.filter(pk=lab.moisture.pk).update(formula="(m1 - m2) / (m1 - m0) * 100", places=1)
    make_signatory(lab)
    return ReferenceMaterial.objects.create(institution=lab.world.lab_a, name="大米粉质控样", lot="QC-2026-07",
                                            certified_value="0.100", unit="mg/kg",
                                            expires_on=today + dt.timedelta(days=200))


def test_a_laboratorys_day_from_order_to_signed_report(lab: Lab, live_server: object, page: Page,
                                                       tmp_path: Path, settings: object) -> None:
    settings.DATA_DIR = tmp_path  # type: ignore[attr-defined]
    with transaction.atomic():
        control = _prepare(lab)
    server = live_server

    # 1. The institution admin: limits, the QC policy, the control target, the moisture method's inputs.
    sign_in(page, server, "a-admin")
    page.goto(f"{server}/lims/setup/")
    for parameter in ("铅", "镉"):
        form = page.locator("#spec-form")
        form.locator("input[name=name]").fill("GB 2762-2022")
        form.locator("input[name=test_object]").fill("大米")
        form.locator("input[name=parameter]").fill(parameter)
        form.locator("input[name=upper]").fill("0.2")
        form.locator("input[name=unit]").fill("mg/kg")
        form.locator("button[type=submit]").click()
        expect(page.locator(".messages li.success")).to_be_visible()
    expect(page.locator("#specs")).to_contain_text("GB 2762-2022")
    page.goto(f"{server}/lims/setup/methods/{lab.pb.pk}/")
    page.fill("input[name=qc_batch_size]", "20")
    page.fill("input[name=qc_blanks]", "1")
    page.fill("input[name=qc_controls]", "1")
    page.check(f"input[name=instruments][value='{lab.icp.pk}']")
    page.click("#method-rules button[type=submit]")
    expect(page.locator(".messages li.success")).to_be_visible()
    page.goto(f"{server}/lims/setup/methods/{lab.moisture.pk}/")
    page.fill("textarea[name=inputs]", "m0, 称量瓶质量, g\nm1, 称量瓶和试样质量, g\nm2, 干燥后称量瓶和试样质量, g")
    page.click("#method-rules button[type=submit]")
    expect(page.locator(".messages li.success")).to_be_visible()
    shot(page, "01-admin-method-rules")
    page.goto(f"{server}/lims/qc/")
    page.select_option("select[name=service]", str(lab.pb.pk))
    page.select_option("select[name=material]", str(control.pk))
    page.fill("input[name=mean]", "0.100")
    page.fill("input[name=sd]", "0.005")
    page.click("form.filters button[type=submit]")
    expect(page.locator(".messages li.success")).to_be_visible()

    # 2. The analyst: a 监督抽检 order with its basis, two samples with the sampling block.
    sign_in(page, server, "a-analyst")
    expect(page).to_have_url(f"{server}/lims/work/")
    page.click("text=新建委托单")
    page.fill("input[name=number]", "JD-2026-0107")
    page.select_option("select[name=kind]", "supervision")
    page.fill("input[name=due_on]", (timezone.localdate() + dt.timedelta(days=10)).isoformat())
    page.check("input[name=judgement_basis][value='GB 2762-2022']")
    page.fill("input[name=client-name]", "重庆市市场监督管理局")
    page.select_option("select[name=client-kind]", "government")
    shot(page, "02-analyst-new-order")
    page.click("#order-form button[type=submit]")
    expect(page.locator("#order-basis")).to_have_text("GB 2762-2022")
    page.fill("#choose-object input[name=test_object]", "大米")
    page.fill("#choose-object input[name=count]", "2")
    page.click("#choose-object button[type=submit]")
    expect(page.locator(f"#tests input[value='{lab.pb.pk}']")).to_be_checked()
    expect(page.locator(f"#tests input[value='{lab.cd.pk}']")).to_be_checked()
    page.check(f"#tests input[value='{lab.moisture.pk}']")
    for i, (name, batch) in enumerate([("五常大米 A", "20261101"), ("五常大米 B", "20261102")]):
        row = page.locator(".sample-row").nth(i)
        row.locator(f"input[name=s-{i}-name]").fill(name)
        row.locator(f"input[name=s-{i}-batch_number]").fill(batch)
        row.locator(f"input[name=s-{i}-production_date]").fill("2026-10-20")
        row.locator(f"input[name=s-{i}-manufacturer]").fill("五常市金禾米业有限公司")
        row.locator(f"input[name=s-{i}-model_spec]").fill("5 kg/袋")
        row.locator(f"input[name=s-{i}-sampler]").fill("王强、刘洋")
        row.locator(f"input[name=s-{i}-sampling_place]").fill("重庆市江津区几江街道")
        row.locator(f"input[name=s-{i}-sampled_unit]").fill("重庆永辉超市有限公司江津店")
    shot(page, "03-analyst-register-two-samples")
    page.click("#register-samples button[type=submit]")
    expect(page.locator("#order-samples tbody tr")).to_have_count(2)
    samples = list(Sample.objects.filter(order__number="JD-2026-0107").order_by("id"))
    for s in samples:
        page.goto(f"{server}/lims/samples/{s.pk}/")
        page.fill("#receive input[name=condition]", "包装完好，常温")
        page.click("#receive button[value=accept]")
        expect(page.locator("#state")).to_have_attribute("data-state", "received")
    expect(page.locator("#production-date")).to_have_text("2026年10月20日")

    # A worksheet of lead with its blank and control; one sample over the limit.
    page.goto(f"{server}/lims/worksheets/?service={lab.pb.pk}")
    expect(page.locator("#new-worksheet select[name=instrument] option")).to_have_count(1)
    page.select_option("#new-worksheet select[name=reference_material]", str(control.pk))
    page.click("#new-worksheet button[type=submit]")
    page.locator("#grid tr[data-kind=blank] input").fill("0.001")
    page.locator("#grid tr[data-kind=sample] input").nth(0).fill("0.31")
    page.locator("#grid tr[data-kind=sample] input").nth(1).fill("0.052")
    page.locator("#grid tr[data-kind=control] input").fill("0.102")
    page.click("#grid button[type=submit]")
    expect(page.locator("#grid")).to_contain_text("不符合")
    shot(page, "04-analyst-worksheet")
    worksheet_url = page.url
    for s, cadmium, weighings in ((samples[0], "0.021", ("20.0000", "25.0000", "24.3100")),
                                  (samples[1], "0.018", ("20.0000", "25.0000", "24.3500"))):
        page.goto(f"{server}/lims/samples/{s.pk}/")
        row = page.locator("#results tr:has-text('镉')")
        row.locator("input[name=value]").fill(cadmium)
        row.locator("select[name=instrument]").select_option(str(lab.icp.pk))
        row.locator("button[type=submit]").click()
        moisture = page.locator("#results tr:has-text('水分') form.inputs-form")
        for keyword, value in zip(("m0", "m1", "m2"), weighings, strict=True):
            moisture.locator(f"input[name=in-{keyword}]").fill(value)
        moisture.locator("button[type=submit]").click()
        expect(page.locator("#state")).to_have_attribute("data-state", "to_be_verified")
    expect(page.locator("#results")).to_contain_text("13.0")  # (25 − 24.35) / (25 − 20) × 100
    shot(page, "05-analyst-sample-results")

    # 3. The reviewer: QC judged, the worksheet released, the results verified.
    sign_in(page, server, "a-reviewer")
    expect(page.locator("#to-verify")).to_contain_text(samples[0].lab_number)
    page.goto(worksheet_url)
    expect(page.locator("#qc")).to_contain_text("在控")
    page.click("#release")
    expect(page.locator(".messages li.success")).to_be_visible()
    for s in samples:
        page.goto(f"{server}/lims/samples/{s.pk}/")
        page.fill("#verify input[name=password]", PASSWORD)
        page.click("#verify button[type=submit]")
        expect(page.locator("#state")).to_have_attribute("data-state", "verified")
    expect(page.locator("#results")).to_contain_text("≤ 0.2 mg/kg")
    shot(page, "06-reviewer-verified")

    # 4. The signatory previews the exact document, then issues the report of the sample over the limit.
    sign_in(page, server, "a-signatory")
    expect(page.locator("#to-approve")).to_contain_text(samples[0].lab_number)
    page.goto(f"{server}/lims/samples/{samples[0].pk}/")
    page.click("#preview-link")
    expect(page.locator("img.preview-page").first).to_be_visible()
    shot(page, "07-signatory-preview")
    preview = page.request.get(f"{server}/reports/samples/{samples[0].pk}/preview.pdf")
    (tmp_path / "preview.pdf").write_bytes(preview.body())
    previewed = subprocess.run(["pdftotext", "-layout", str(tmp_path / "preview.pdf"), "-"], capture_output=True,
                               text=True, check=True).stdout
    assert "预览" in previewed and "检验结论" in previewed
    page.goto(f"{server}/lims/samples/{samples[0].pk}/")
    page.fill("#approve input[name=password]", PASSWORD)
    page.click("#approve button[type=submit]")
    expect(page.locator("#state")).to_have_attribute("data-state", "reported")
    shot(page, "07-signatory-issued")  # after the preview
    with page.expect_download() as download:
        page.locator("#reports a.report-pdf").first.click()
    pdf = tmp_path / "report.pdf"
    download.value.save_as(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    for needed in ("检验结论", "不符合", "GB 2762-2022", "抽样日期", "重庆永辉超市有限公司江津店",
                   "五常市金禾米业有限公司", "编制", "审核", "批准"):  # the last three: the report's three roles
        assert needed in text, needed
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf), str(SHOTS / "08-report-page")], check=True)

    # 5. The reader: the QR code's page shows the number and the conclusion as printed; the upload is
    # genuine; the regulator sees the report.
    page.context.clear_cookies()
    report = Report.objects.get(sample=samples[0])
    link = ledger.verification_url(lab.world.lab_a.credit_code, report.number, report.code)
    page.goto(f"{server}/verify/?{link.split('?', 1)[1]}")  # the QR code's query, on the test's server
    expect(page.locator("#verdict")).to_have_attribute("data-status", "registered")
    expect(page.locator("#content-number")).to_have_text(report.number)
    expect(page.locator("#content-conclusion")).to_have_text(report.twin["conclusion"]["text"])
    expect(page.locator("#content-conclusion")).to_contain_text("不符合 GB 2762-2022")
    expect(page.locator("#results tr:has-text('铅')")).to_contain_text("不符合")
    shot(page, "09-reader-qr-page")
    page.goto(f"{server}/verify/")
    page.set_input_files("input[name=pdf]", str(pdf))
    page.click("main button[type=submit]")
    expect(page.locator("#verdict")).to_have_attribute("data-status", "genuine")
    shot(page, "10-reader-upload-genuine")
    sign_in(page, server, "regulator")
    page.goto(f"{server}/reports/{report.pk}.json")
    assert "不符合" in page.content()
