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
