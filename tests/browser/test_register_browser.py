"""In a real browser: an institution whose CMA certificate ended is 过期 everywhere a person looks — the
register, its 过期 filter, the institution's page, its public page, the finder and a verification."""

import datetime as dt
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django import db
from django.db import transaction
from django.utils import timezone
from playwright.sync_api import Page, expect

from opentic.ledger import entry as entries
from opentic.ledger import esign
from opentic.ledger import services as ledger
from opentic.registry.models import Institution
from tests.conftest import CODE_B, PASSWORD, World, b_signatory
from tests.pdfs import signed_pdf

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(os.environ.get("OPENTIC_SCREENSHOTS", "/tmp/opentic-screenshots"))


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"register-{name}.png"), full_page=True)


def test_an_expired_certificate_is_seen_everywhere(world: World, live_server: object, page: Page) -> None:
    # Lab B's certificate ended 29 days ago (2026-11-02 on 2026-12-01); no job has recorded it yet.
    Institution.objects.filter(pk=world.lab_b.pk).update(
        cma_valid_until=timezone.localdate() - dt.timedelta(days=29))
    lab_b = Institution.objects.get(pk=world.lab_b.pk)
    code = entries.new_code()
    url = ledger.verification_url(CODE_B, "YZ-2026-0100", code)

    def register() -> None:  # issued today, after the certificate ended
        with transaction.atomic():
            pdf = signed_pdf(url, ["YZ-2026-0100"], CODE_B, lab_b.name)
            ledger.register_report(b_signatory(world), lab_b, "YZ-2026-0100", pdf,
                                   esign=esign.by_password(PASSWORD), code=code)
        db.connection.close()

    # pyHanko signs and validates through asyncio.run, which Playwright's running loop forbids here.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(register).result()

    page.goto(f"{live_server}/login/")
    page.fill("input[name=username]", "regulator")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")

    page.goto(f"{live_server}/registry/")
    row = page.locator("tr", has_text=lab_b.name)
    expect(row.locator(".badge").first).to_have_text("过期")
    page.select_option("select[name=status]", "expired")
    page.click("form.filters button[type=submit]")
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody tr")).to_contain_text(lab_b.name)
    shot(page, "list-expired")

    page.click(f"text={lab_b.name}")
    expect(page.locator("#status")).to_have_text("过期")
    expect(page.locator("#certificate-notice")).to_contain_text("届满")
    shot(page, "institution")

    page.goto(f"{live_server}/labs/{lab_b.pk}/")
    expect(page.locator("#status")).to_have_text("过期")
    expect(page.locator("main")).not_to_contain_text("目前无效")
    shot(page, "public-lab")

    page.goto(f"{live_server}/find/?q=铅")
    expect(page.locator(".hit", has_text=world.lab_a.name)).to_have_count(1)
    expect(page.locator(".hit", has_text=lab_b.name)).to_have_count(0)

    page.goto(f"{live_server}/verify/?" + url.split("?", 1)[1])
    expect(page.locator("#certificate-lapsed")).to_contain_text("过期")
    # a lookup by QR code: registered (compare the paper), led by the lapsed qualification in red
    expect(page.locator("#verdict")).to_have_class("card verdict verdict-registered verdict-distrusted")
    shot(page, "verdict")

    # The daily job records it; the institution's history says so in words, in local time.
    from opentic.registry.validity import expire_certificates

    assert [i.pk for i in expire_certificates()] == [lab_b.pk]
    page.goto(f"{live_server}/registry/institutions/{lab_b.pk}/history/")
    expect(page.locator("#status-changes")).to_contain_text("有效")
    expect(page.locator("#status-changes")).to_contain_text("资质认定证书有效期至")
    expect(page.locator("#events")).to_contain_text("状态变更")
    expect(page.locator("#events")).to_contain_text("有效 → 过期")
    expect(page.locator("#events")).not_to_contain_text("registry.Institution")
    shot(page, "history")
