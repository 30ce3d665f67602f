"""In a real browser: a signatory approves a sample and downloads the signed report; pdfsig validates it,
one changed byte fails it; an amendment shows the old report as superseded on the verification page."""

from pathlib import Path

import pytest
from django.db import transaction
from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD
from tests.lims.fixtures import Lab
from tests.reports.test_reports import make_signatory, verified_sample
from tests.reports.test_signing import pdfsig

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_approve_download_validate_amend(lab: Lab, live_server: object, page: Page, tmp_path: Path,
                                         settings: object) -> None:
    settings.DATA_DIR = tmp_path  # type: ignore[attr-defined]
    with transaction.atomic():
        make_signatory(lab)
        sample = verified_sample(lab)
    page.goto(f"{live_server}/login/")
    page.fill("input[name=username]", "a-signatory")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.goto(f"{live_server}/lims/samples/{sample.pk}/")
    page.fill("#approve input[name=password]", PASSWORD)
    page.click("#approve button[type=submit]")
    expect(page.locator("#state")).to_have_attribute("data-state", "reported")
    with page.expect_download() as download:
        page.locator("#reports a.report-pdf").first.click()
    path = tmp_path / "report.pdf"
    download.value.save_as(path)
    assert "Signature is Valid" in pdfsig(path)
    data = path.read_bytes()
    changed = tmp_path / "changed.pdf"
    changed.write_bytes(data[:2000] + bytes([data[2000] ^ 1]) + data[2001:])
    assert "Signature is Valid" not in pdfsig(changed)

    # The amendment: the old report is now superseded, on the page and in the API.
    page.fill("#approve input[name=reason]", "委托方名称有误")
    page.fill("#approve input[name=password]", PASSWORD)
    page.click("#approve button[type=submit]")
    expect(page.locator("#reports li")).to_have_count(2)
    page.goto(f"{live_server}/verify/")
    page.set_input_files("input[name=pdf]", str(path))
    page.click("main button[type=submit]")
    expect(page.locator("#verdict")).to_have_attribute("data-status", "superseded")
    response = page.request.post(f"{live_server}/api/public/verify/pdf",
                                 multipart={"pdf": {"name": "r.pdf", "mimeType": "application/pdf", "buffer": data}})
    assert response.json()["status"] == "superseded"


def test_preview_issue_withdraw(lab: Lab, live_server: object, page: Page, tmp_path: Path, settings: object) -> None:
    """The signatory previews the exact document, issues it, and withdraws it with a reason; the sample page
    shows each step's state. Screenshots go to tmp_path (and $OPENTIC_SCREENSHOTS when set) to be looked at."""
    import os
    import subprocess

    from tests.reports.document import supervision_sample

    settings.DATA_DIR = tmp_path  # type: ignore[attr-defined]
    shots = Path(os.environ.get("OPENTIC_SCREENSHOTS", tmp_path))
    with transaction.atomic():
        make_signatory(lab)
        sample = supervision_sample(lab)
    page.goto(f"{live_server}/login/")
    page.fill("input[name=username]", "a-signatory")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.goto(f"{live_server}/lims/samples/{sample.pk}/")
    page.click("#preview-link")
    expect(page.locator("h1")).to_contain_text("报告预览")
    expect(page.locator("img.preview-page")).to_have_count(2)
    page.screenshot(path=str(shots / "report-1-preview.png"), full_page=True)
    preview = page.request.get(f"{live_server}/reports/samples/{sample.pk}/preview.pdf")
    assert preview.headers["content-type"] == "application/pdf"
    (tmp_path / "preview.pdf").write_bytes(preview.body())
    text = subprocess.run(["pdftotext", str(tmp_path / "preview.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "未签发" in text and "检验结论" in text and "（签发时编号）" in text

    page.fill("#approve input[name=password]", PASSWORD)
    page.click("#approve button[type=submit]")
    expect(page.locator("#state")).to_have_attribute("data-state", "reported")
    expect(page.locator("#reports li[data-status=issued] .report-status")).to_have_text("已签发")
    page.screenshot(path=str(shots / "report-2-issued.png"), full_page=True)
    with page.expect_download() as download:
        page.locator("#reports a.report-pdf").first.click()
    path = tmp_path / "issued.pdf"
    download.value.save_as(path)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "未签发" not in text and "不合格项目" in text

    page.click("#reports details.withdraw summary")
    page.fill(".withdraw-form input[name=reason]", "样品标识错误")
    page.fill(".withdraw-form input[name=password]", PASSWORD)
    page.click(".withdraw-form button[type=submit]")
    expect(page.locator("#reports li[data-status=withdrawn] .report-status")).to_have_text("已撤回")
    expect(page.locator("#reports")).to_contain_text("样品标识错误")
    expect(page.locator("#approve")).to_have_count(0)
    page.screenshot(path=str(shots / "report-3-withdrawn.png"), full_page=True)
