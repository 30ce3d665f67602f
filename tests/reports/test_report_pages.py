"""The signatory's pages: preview before signing, withdrawal with a reason, each version's state on the sample
page; each person's own signature image, printed in the role they had."""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from PIL import Image, ImageDraw

from opentic.core.models import AuditEvent
from opentic.ledger import services as ledger
from opentic.ledger.models import Entry
from opentic.lims.models import LabNumberCounter
from opentic.reports import services
from opentic.reports.models import Report, Signature
from opentic.reports.preview import preview_pdf
from opentic.reports.signatures import save_signature
from tests.conftest import PASSWORD
from tests.lims.fixtures import Lab
from tests.reports.document import pdf_text, supervision_sample
from tests.reports.test_reports import make_signatory


def signature_png(width: int = 600, height: int = 200, fmt: str = "PNG") -> bytes:
    image = Image.new("RGBA" if fmt == "PNG" else "RGB", (width, height), (255, 255, 255, 0) if fmt == "PNG"
                      else "white")
    ImageDraw.Draw(image).line((10, height - 20, width - 10, 20), fill=(0, 0, 80, 255), width=6)
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


def image_sizes(pdf: bytes, tmp_path: Path) -> list[tuple[int, int]]:
    path = tmp_path / "images.pdf"
    path.write_bytes(pdf)
    listing = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True).stdout
    return [(int(cols[3]), int(cols[4])) for cols in (line.split() for line in listing.splitlines()[2:])
            if len(cols) > 4 and cols[2] == "image"]


def flat(text: str) -> str:
    return "".join(text.split())


@pytest.mark.django_db
def test_a_signature_image_is_the_persons_own_checked_and_audited(lab: Lab) -> None:
    analyst = lab.world.a_analyst
    with pytest.raises(ValidationError, match="PNG"):
        save_signature(analyst, signature_png(fmt="JPEG"))
    with pytest.raises(ValidationError, match="不是有效的 PNG"):
        save_signature(analyst, b"\x89PNG\r\n\x1a\n" + b"x" * 50)
    with pytest.raises(ValidationError, match="尺寸"):
        save_signature(analyst, signature_png(600, 20))
    with pytest.raises(PermissionDenied):
        save_signature(lab.world.regulator, signature_png())
    assert not Signature.objects.exists()
    client = lab.world.client("a_analyst")
    page = client.post("/reports/signature/", {"signature": io.BytesIO(signature_png())}, follow=True)
    assert "data:image/png;base64," in page.content.decode()
    assert Signature.objects.get().user == analyst
    event = AuditEvent.objects.get(action="signature")
    assert event.actor_id == analyst.pk and len(event.changes["sha256"][1]) == 64
    # Nobody sees or replaces another person's signature: the reviewer's page shows none.
    assert "data:image/png" not in lab.world.client("a_reviewer").get("/reports/signature/").content.decode()
    refused = client.post("/reports/signature/", {"signature": io.BytesIO(b"not an image")}, follow=True)
    assert "不是有效的 PNG" in refused.content.decode() and Signature.objects.count() == 1


@pytest.mark.django_db
def test_each_role_signs_with_its_own_image_and_the_preview_leaves_the_approval_unsigned(
        lab: Lab, settings: object, tmp_path: Path) -> None:
    settings.DATA_DIR = tmp_path  # type: ignore[attr-defined]
    make_signatory(lab)
    save_signature(lab.world.a_analyst, signature_png(600, 200))
    save_signature(lab.world.a_reviewer, signature_png(500, 180))
    save_signature(lab.world.a_signatory, signature_png(700, 220))
    sample = supervision_sample(lab)
    counter = LabNumberCounter.objects.filter(series="report").values_list("last", flat=True).first()
    entries, events = Entry.objects.count(), AuditEvent.objects.count()
    preview = preview_pdf(lab.world.a_signatory, sample)
    # Nothing taken, signed or registered by a preview.
    assert LabNumberCounter.objects.filter(series="report").values_list("last", flat=True).first() == counter
    assert (Entry.objects.count(), AuditEvent.objects.count(), Report.objects.count()) == (entries, events, 0)
    text = flat(pdf_text(preview, tmp_path))
    assert "预览·未签发" in text and "（签发时编号）" in text and "签发时签名" in text
    assert "签发时生成二维码与验证码" in text and not re.search(r"验证码[A-Za-z0-9_-]{22}", text)
    assert "检验结论：经检验，所检项目不符合GB2762-2022要求" in text  # the same document otherwise
    with pytest.raises(ValidationError, match="不是 OpenTIC 报告验证链接"):  # an uploaded preview verifies as nothing
        ledger.verify_pdf(preview)
    shown = image_sizes(preview, tmp_path)
    assert (600, 200) in shown and (500, 180) in shown and (700, 220) not in shown
    report = services.issue_report(lab.world.a_signatory, sample, PASSWORD)
    assert report.number.endswith("-00001")  # the preview consumed no number
    issued = image_sizes(bytes(report.pdf), tmp_path)
    assert {(600, 200), (500, 180), (700, 220)} <= set(issued)
    assert "预览" not in flat(pdf_text(bytes(report.pdf), tmp_path))
    with pytest.raises(PermissionDenied):
        preview_pdf(lab.world.a_reviewer, sample)


@pytest.mark.django_db
def test_preview_page_withdrawal_and_each_versions_state_on_the_sample_page(lab: Lab, settings: object,
                                                                            tmp_path: Path) -> None:
    settings.DATA_DIR = tmp_path  # type: ignore[attr-defined]
    make_signatory(lab)
    sample = supervision_sample(lab)
    signatory = lab.world.client("a_signatory")
    page = signatory.get(f"/reports/samples/{sample.pk}/preview/")
    assert page.status_code == 200 and f"/reports/samples/{sample.pk}/preview.pdf" in page.content.decode()
    assert page.content.decode().count('class="preview-page"') == 2  # the document's two pages, as images
    pdf = signatory.get(f"/reports/samples/{sample.pk}/preview.pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert lab.world.client("a_analyst").get(f"/reports/samples/{sample.pk}/preview/").status_code == 403
    signatory.post(f"/reports/samples/{sample.pk}/approve/", {"password": PASSWORD})
    first = Report.objects.get()
    signatory.post(f"/reports/samples/{sample.pk}/approve/", {"password": PASSWORD, "replaces": first.pk,
                                                               "reason": "被抽样单位名称有误"})
    second = Report.objects.exclude(pk=first.pk).get()
    html = signatory.get(f"/lims/samples/{sample.pk}/").content.decode()
    assert f'data-state="issued" data-status="superseded" id="report-{first.pk}"' in html
    listed = html[html.index('id="reports"'):html.index("</ul>", html.index('id="reports"'))]
    assert "已被替代" in listed and listed.count("已签发") == 1
    form = html[html.index('id="approve"'):]
    assert f'value="{second.pk}"' in form and f'value="{first.pk}"' not in form  # amend only the current one
    # Withdrawal: refused without the password or a reason, kept; then done, registered, shown with its reason.
    for bad in ({"password": "wrong", "reason": "样品标识错误"}, {"password": PASSWORD, "reason": ""}):
        refused = signatory.post(f"/reports/{second.pk}/withdraw/", bad, follow=True).content.decode()
        assert Report.objects.get(pk=second.pk).state == "issued"
        assert "密码不正确" in refused or "撤回原因" in refused or "reason for the withdrawal" in refused
    assert lab.world.client("a_analyst").post(f"/reports/{second.pk}/withdraw/", {
        "password": PASSWORD, "reason": "x"}).status_code == 302
    assert Report.objects.get(pk=second.pk).state == "issued"  # an analyst cannot withdraw
    signatory.post(f"/reports/{second.pk}/withdraw/", {"password": PASSWORD, "reason": "样品标识错误"})
    assert Report.objects.get(pk=second.pk).state == "withdrawn"
    assert ledger.verify_pdf(bytes(second.pdf)).status == "withdrawn"
    html = signatory.get(f"/lims/samples/{sample.pk}/").content.decode()
    listed = html[html.index('id="reports"'):html.index("</ul>", html.index('id="reports"'))]
    assert "已撤回" in listed and "样品标识错误" in listed and "已签发" not in listed
    assert 'id="approve"' not in html  # nothing in force to amend, and the sample is no longer awaiting a report
    assert '"status": "superseded"' in services.twin_json(Report.objects.get(pk=first.pk))
