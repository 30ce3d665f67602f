"""Real reports for the demo labs' verified samples, issued through the real path (approve, render, sign,
register), and the set of files in var/demo-reports/ to try the verification with: genuine, altered,
amended (both versions), withdrawn, and one issued while the regulator did not accept the lab's results.
"""

from __future__ import annotations

import datetime as dt
import io
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from opentic.core.models import User
from opentic.ledger import services as ledger
from opentic.lims.models import Sample
from opentic.registry.demo import DEMO_PASSWORD
from opentic.registry.models import Institution, SignatoryAuthorization, Staff

from . import services
from .models import Report


@dataclass(frozen=True)
class DemoFile:
    name: str
    report: Report
    what: str  # what it is, for the README
    verdict: str  # what the verification page says
    cli: str  # what `opentic verify` prints, and its exit code
    pdf: bytes


def _signatory(n: int, today: dt.date) -> User | None:
    signatory = User.objects.filter(username=f"lab{n}-signatory").first()
    if signatory is None or signatory.institution_id is None:
        return None
    # The demo signatory's account is the staff member authorized to sign in 食品 (food).
    grant = SignatoryAuthorization.objects.filter(staff__institution_id=signatory.institution_id,
                                                  fields__contains="食品").select_related("staff").first()
    if grant is None:
        staff = Staff.objects.filter(institution_id=signatory.institution_id, active=True).first()
        if staff is None:
            return None
        grant = SignatoryAuthorization.objects.create(staff=staff, fields="食品",
                                                      valid_from=today - dt.timedelta(days=365))
    signatory.first_name, signatory.last_name = grant.staff.name, ""
    signatory.save(update_fields=["first_name", "last_name"])
    Staff.objects.filter(user=signatory).exclude(pk=grant.staff_id).update(user=None)
    Staff.objects.filter(pk=grant.staff_id).update(user=signatory)
    return signatory


def _position(reader: object, value: str) -> tuple[float, float] | None:
    """Where on page 1 the text `value` starts, in PDF user space (WeasyPrint flips its y axis)."""
    found: list[tuple[float, float]] = []

    def visit(text: str, cm: list[float], tm: list[float], font: object, size: float) -> None:
        if not found and text.strip().startswith(value):
            x, y = tm[4], tm[5]
            found.append((cm[0] * x + cm[2] * y + cm[4], cm[1] * x + cm[3] * y + cm[5]))

    reader.pages[0].extract_text(visitor_text=visit)  # type: ignore[attr-defined]
    return found[0] if found else None


def altered_copy(pdf: bytes, value: str, forged: str = "0.012") -> bytes:
    """What a forger does to a signed report: lay a new value over a result, keeping the QR code and the
    verification link. The file no longer matches its registration, and its signature breaks."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.annotations import FreeText

    reader = PdfReader(io.BytesIO(pdf))
    x, y = _position(reader, value) or (360.0, 560.0)
    writer = PdfWriter(clone_from=reader)
    writer.add_annotation(0, FreeText(text=forged, rect=(x - 1, y - 3, x + 50, y + 9), font="Helvetica",
                                      font_size="8pt", background_color="ffffff", border_color=None))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _issue_all(signatory: User, samples: list[Sample]) -> list[Report]:
    return [services.issue_report(signatory, sample, DEMO_PASSWORD) for sample in samples]


@transaction.atomic
def _issue(today: dt.date) -> list[DemoFile]:
    files: list[DemoFile] = []
    regulator = User.objects.filter(username="regulator").first()
    for n in (1, 2):
        signatory = _signatory(n, today)
        if signatory is None or signatory.institution_id is None:
            continue
        lab = signatory.institution_id
        samples = list(Sample.objects.filter(institution_id=lab, state="verified")
                       .order_by("id"))
        if n == 1 and len(samples) >= 2:
            genuine = services.issue_report(signatory, samples[0], DEMO_PASSWORD)
            files.append(DemoFile("genuine", genuine, "现行有效的报告 / a report in force", "真实有效 genuine",
                                  "GENUINE, exit 0", bytes(genuine.pdf)))
            files.append(DemoFile("altered", genuine, "上一份报告的篡改件：结果被覆盖为 0.012 / the genuine report "
                                  "with a result overwritten", "已被篡改 altered", "NOT GENUINE, exit 1",
                                  altered_copy(bytes(genuine.pdf), genuine.twin["results"][0]["result"])))
            first = services.issue_report(signatory, samples[1], DEMO_PASSWORD)
            second = services.issue_report(signatory, samples[1], DEMO_PASSWORD, replaces=first,
                                           reason="委托单位名称有误，更正后重新出具")
            files.append(DemoFile("amended-original", first, f"被更正的原报告，已由 {second.number} 替代 / the "
                                  "original, replaced by its amendment", "已被替代 superseded，链接到现行版本",
                                  "SUPERSEDED, exit 3", bytes(first.pdf)))
            files.append(DemoFile("amended-current", second, f"更正后的现行报告，替代 {first.number} / the "
                                  "amendment in force", "真实有效 genuine", "GENUINE, exit 0", bytes(second.pdf)))
            _issue_all(signatory, samples[2:])
        elif n == 2 and len(samples) >= 2 and regulator is not None:
            gone = services.issue_report(signatory, samples[1], DEMO_PASSWORD)
            gone = services.withdraw_report(signatory, gone, DEMO_PASSWORD, "样品标识错误，报告作废")
            files.append(DemoFile("withdrawn", gone, "已撤回的报告 / withdrawn by the lab", "已撤回 withdrawn，"
                                  "附日期与原因", "WITHDRAWN, exit 4", bytes(gone.pdf)))
            institution = Institution.objects.get(pk=lab)
            # From the second after the withdrawn report's issue (issue times are whole seconds), so that
            # only the next report falls in the period.
            start = gone.issued_at + dt.timedelta(seconds=1)
            while timezone.now() < start:
                time.sleep(0.05)
            ledger.declare_not_accepted(regulator, institution, start, None,
                                        "演示：出具虚假检验检测报告，暂停采信其数据和结果")
            distrusted = services.issue_report(signatory, samples[0], DEMO_PASSWORD)
            files.append(DemoFile("not-accepted", distrusted, "失信期间出具的报告 / issued while the regulator did "
                                  "not accept the lab's results", "红色「失信」在前，然后是真实有效",
                                  "GENUINE, exit 0 (the ledger is not the register: the web page says 失信)",
                                  bytes(distrusted.pdf)))
            _issue_all(signatory, samples[2:])
        else:
            _issue_all(signatory, samples)
    return files


def _readme(files: list[DemoFile]) -> str:
    lines = [
        "# 演示报告 / Demo reports", "",
        "由平台真实出具流程（批准、生成、电子签章、账本登记）生成。在 /verify/ 上传 PDF，或输入报告编号和验证码；",
        "离线核验：`opentic verify 文件.pdf --key \"$(curl -s http://127.0.0.1:8000/ledger/key)\"`",
        "（加 `--refresh http://127.0.0.1:8000` 取最新状态）。", "",
        "Issued through the platform's real path (approve, render, PAdES-sign, register). Upload a PDF at",
        "/verify/, or type its report number and verification code; or check offline with `opentic verify`.", "",
        "| 文件 file | 报告编号 number | 验证码 code | 是什么 what | 网页结论 web verdict | opentic verify |",
        "|---|---|---|---|---|---|",
    ]
    for f in files:
        lines.append(f"| {f.name}.pdf | {f.report.number} | `{f.report.code}` | {f.what} | {f.verdict} | {f.cli} |")
    return "\n".join(lines) + "\n"


def issue_demo_reports(out: Path | None = None) -> int:
    """Issue the demo labs' verified samples and write the verification samples; returns how many reports."""
    before = Report.objects.count()
    files = _issue(timezone.localdate())
    out = out or Path(settings.DATA_DIR) / "demo-reports"
    out.mkdir(parents=True, exist_ok=True)
    for old in [*out.glob("*.pdf"), *out.glob("*.tlog-proof")]:
        old.unlink()  # the files of an earlier demo describe reports this database does not hold
    for f in files:
        (out / f"{f.name}.pdf").write_bytes(f.pdf)
        proof = ledger.current_proof(f.report.institution.credit_code, f.report.number, f.report.code)
        if proof:
            (out / f"{f.name}.pdf.tlog-proof").write_text(proof)
    if files:
        (out / "README.md").write_text(_readme(files))
    return Report.objects.count() - before
