"""In a real browser: anyone checks a report by uploading its PDF or following its QR code's link."""

from pathlib import Path

import pytest
from django.db import transaction
from opentic.ledger.samples import sample_pdf
from playwright.sync_api import Page, expect

from opentic.ledger import entry as entries
from opentic.ledger import services
from tests.conftest import CODE_A, World

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_anyone_tells_a_genuine_report_from_an_altered_one(world: World, live_server: object, page: Page,
                                                            tmp_path: Path) -> None:
    code = entries.new_code()
    url = services.verification_url(CODE_A, "JJ-2026-0042", code)
    pdf = sample_pdf(url, ["Report JJ-2026-0042", "Lead (Pb) in rice: 0.042 mg/kg"])
    with transaction.atomic():  # sequenced in this thread: the live server shares the test database
        services.register_report(world.a_signatory, world.lab_a, "JJ-2026-0042", pdf, code=code)
    (tmp_path / "genuine.pdf").write_bytes(pdf)
    (tmp_path / "altered.pdf").write_bytes(pdf.replace(b"0.042", b"0.012"))

    page.goto(f"{live_server}/verify/")
    expect(page.locator("h1")).to_contain_text("这份报告是真的吗")
    page.set_input_files("input[name=pdf]", str(tmp_path / "genuine.pdf"))
    page.click("main button[type=submit]")
    expect(page.locator("#verdict")).to_have_attribute("data-status", "genuine")
    expect(page.locator("#verdict")).to_contain_text("真实有效")
    expect(page.locator("#verdict")).to_contain_text(CODE_A)

    page.set_input_files("input[name=pdf]", str(tmp_path / "altered.pdf"))
    page.click("main button[type=submit]")
    expect(page.locator("#verdict")).to_have_attribute("data-status", "altered")
    expect(page.locator("#verdict")).to_contain_text("已被篡改")

    # The QR code's link, as a phone would open it.
    page.goto(f"{live_server}/verify/?" + url.split("?", 1)[1])
    expect(page.locator("#verdict")).to_have_attribute("data-status", "genuine")
