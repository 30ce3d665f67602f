"""In a real browser: a reader checks real reports by QR code, by number and code, and by upload, for a
genuine, altered, amended, withdrawn and 失信 report; the lab page and the finder mark the 失信 lab."""

import datetime as dt
import threading
import time
from pathlib import Path

import pytest
from django import db
from django.utils import timezone
from playwright.sync_api import Page, expect

from opentic.ledger import services as ledger
from opentic.reports import services
from opentic.reports.demo import altered_copy
from opentic.reports.models import Report
from tests.conftest import PASSWORD
from tests.lims.fixtures import Lab
from tests.reports.test_reports import make_signatory, verified_sample

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"verify-{name}.png"), full_page=True)


def qr_link(report: Report) -> str:
    return ledger.verification_url(report.institution.credit_code, report.number, report.code).split("?", 1)[1]


def upload(page: Page, base: str, path: Path) -> None:
    page.goto(f"{base}/verify/")
    page.set_input_files("input[name=pdf]", str(path))
    page.click("main form button[type=submit]")


def test_a_reader_checks_real_reports_every_way(lab: Lab, live_server: object, page: Page, tmp_path: Path,
                                                settings: object) -> None:
    settings.DATA_DIR = tmp_path  # type: ignore[attr-defined]
    base = str(live_server)
    world = lab.world
    reports: dict[str, Report] = {}

    def issue() -> None:
        make_signatory(lab)
        reports["genuine"] = services.issue_report(world.a_signatory, verified_sample(lab), PASSWORD)
        original = reports["original"] = services.issue_report(world.a_signatory, verified_sample(lab), PASSWORD)
        reports["amended"] = services.issue_report(world.a_signatory, original.sample, PASSWORD, replaces=original,
                                                   reason="委托方名称有误")
        gone = services.issue_report(world.a_signatory, verified_sample(lab), PASSWORD)
        reports["withdrawn"] = services.withdraw_report(world.a_signatory, gone, PASSWORD, "样品标识错误")
        start = gone.issued_at + dt.timedelta(seconds=1)
        ledger.declare_not_accepted(world.regulator, world.lab_a, start, None, "出具虚假检验检测报告")
        while timezone.now() < start:  # issue times are whole seconds: the next report falls in the period
            time.sleep(0.05)
        reports["distrusted"] = services.issue_report(world.a_signatory, verified_sample(lab), PASSWORD)
        db.connection.close()

    # pyHanko signs through asyncio.run, which cannot run beside Playwright's event loop in this thread.
    worker = threading.Thread(target=issue)
    worker.start()
    worker.join()
    assert len(reports) == 5, "issuing the reports failed"
    genuine, original, amended = reports["genuine"], reports["original"], reports["amended"]
    withdrawn, distrusted = reports["withdrawn"], reports["distrusted"]
    (tmp_path / "genuine.pdf").write_bytes(bytes(genuine.pdf))
    (tmp_path / "altered.pdf").write_bytes(altered_copy(bytes(genuine.pdf), genuine.twin["results"][0]["result"]))
    (tmp_path / "withdrawn.pdf").write_bytes(bytes(withdrawn.pdf))
    verdict = page.locator("#verdict")

    # The QR code's link, as a phone opens it: what the platform holds, to compare with the paper. A forged
    # paper keeping this QR code lands here too, so the page never calls the paper genuine.
    page.goto(f"{base}/verify/?{qr_link(genuine)}")
    expect(verdict).to_have_attribute("data-status", "registered")
    expect(page.locator("#compare")).to_be_visible()
    expect(page.locator("#content-number")).to_have_text(genuine.number)
    expect(page.locator("#content")).to_contain_text(genuine.twin["sample_name"])
    expect(page.locator("#content")).to_contain_text(genuine.twin["issued"])
    expect(page.locator("#content-conclusion")).not_to_be_empty()
    expect(page.locator("#results tbody tr")).to_have_count(len(genuine.twin["results"]))
    expect(page.locator("#results")).to_contain_text("铅")
    expect(verdict).not_to_contain_text("真实有效")
    shot(page, "1-qr")

    # Typed: the number and the verification code printed on the report; no credit code asked for.
    page.goto(f"{base}/verify/")
    expect(page.locator("main form input[name=i]")).to_have_count(0)
    page.click("main form summary")
    page.fill("main form input[name=n]", genuine.number)
    page.fill("main form input[name=c]", genuine.code)
    page.click("main form button[type=submit]")
    expect(verdict).to_have_attribute("data-status", "registered")
    expect(page.locator("#content-number")).to_have_text(genuine.number)
    shot(page, "2-code")

    # Uploaded: only a file can be called genuine (its bytes and its electronic seal checked).
    upload(page, base, tmp_path / "genuine.pdf")
    expect(verdict).to_have_attribute("data-status", "genuine")
    expect(verdict).to_contain_text("真实有效")
    expect(page.locator("#seal")).to_contain_text("有效")
    expect(page.locator("#content-number")).to_have_text(genuine.number)
    shot(page, "3-upload-genuine")
    upload(page, base, tmp_path / "altered.pdf")
    expect(verdict).to_have_attribute("data-status", "altered")
    expect(verdict).to_contain_text("已被篡改")
    shot(page, "4-upload-altered")

    # Superseded: names and links the version in force.
    page.goto(f"{base}/verify/?{qr_link(original)}")
    expect(verdict).to_have_attribute("data-status", "superseded")
    expect(page.locator("#current a")).to_have_text(amended.number)
    shot(page, "5-superseded")
    page.click("#current a")
    expect(verdict).to_have_attribute("data-status", "registered")
    expect(page.locator("#content-number")).to_have_text(amended.number)

    # Withdrawn: the date and the reason.
    upload(page, base, tmp_path / "withdrawn.pdf")
    expect(verdict).to_have_attribute("data-status", "withdrawn")
    expect(page.locator("#withdrawal")).to_contain_text("样品标识错误")
    expect(page.locator("#withdrawal")).to_contain_text(f"{timezone.localdate():%Y}年")
    shot(page, "6-withdrawn")

    # Issued during a 失信 period: that leads, in red.
    page.goto(f"{base}/verify/?{qr_link(distrusted)}")
    expect(verdict).to_have_attribute("data-distrusted", "1")
    lead = page.locator("#verdict > *").first
    expect(lead).to_have_id("not-accepted")
    expect(lead).to_contain_text("失信")
    assert lead.evaluate("e => getComputedStyle(e.querySelector('h2')).color") == "rgb(179, 38, 30)"
    assert page.locator("#verdict-message").evaluate("e => getComputedStyle(e).color") == "rgb(179, 38, 30)"
    shot(page, "7-not-accepted")

    # The lab's public page and the finder mark it.
    page.goto(f"{base}/labs/{world.lab_a.pk}/")
    expect(page.locator("#distrusted")).to_be_visible()
    expect(page.locator("h1")).not_to_contain_text("证书有效")
    shot(page, "8-lab-page")
    page.goto(f"{base}/find/?q=铅")
    expect(page.locator(".hit", has_text=world.lab_a.name).locator(".badge.distrusted")).to_be_visible()
    expect(page.locator(".hit", has_text=world.lab_b.name).locator(".badge.distrusted")).to_have_count(0)
    shot(page, "9-finder")
