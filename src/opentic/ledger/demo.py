"""Sample reports for the demo: registered in the ledger, written out to try the verification page with."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from opentic.core.models import Role, User

from . import services
from .entry import new_code
from .samples import sample_pdf


@transaction.atomic
def register_samples(per_lab: int = 10, out: Path | None = None) -> int:
    """Issue `per_lab` sample reports for each demo lab, amend one and withdraw one; returns how many
    ledger entries were made. The PDFs and proof files go to DATA_DIR/demo-reports, with one altered copy."""
    out = out or Path(settings.DATA_DIR) / "demo-reports"
    out.mkdir(parents=True, exist_ok=True)
    signatories = User.objects.filter(username__in=["lab1-signatory", "lab2-signatory"]).select_related(
        "institution").order_by("username")
    made = 0
    now = timezone.now().replace(microsecond=0)
    for signatory in signatories:
        institution = signatory.institution
        if institution is None or not signatory.has_role(Role.SIGNATORY):
            continue
        prefix = institution.cma_number[-4:]
        issued: list[tuple[str, str, bytes]] = []
        for n in range(1, per_lab + 1):
            number = f"{prefix}-{now:%Y}-{n:04d}"
            code = new_code()
            pdf = sample_pdf(services.verification_url(institution.credit_code, number, code),
                             [f"Test report {number}", institution.credit_code, "Lead (Pb) in rice: 0.042 mg/kg",
                              "Method: GB 5009.12-2017", "Limit: GB 2762-2022, 0.2 mg/kg; conforms"])
            receipt = services.register_report(signatory, institution, number, pdf, code=code, issued_at=now)
            (out / f"{number}.pdf").write_bytes(pdf)
            (out / f"{number}.pdf.tlog-proof").write_text(receipt.proof)
            issued.append((number, code, pdf))
            made += 1
        if len(issued) >= 3:
            first_number, _, first_pdf = issued[0]
            (out / f"{first_number}-altered.pdf").write_bytes(first_pdf.replace(b"0.042", b"0.012"))
            old_number, old_code, _ = issued[1]
            number, code = f"{old_number}-A1", new_code()
            pdf = sample_pdf(services.verification_url(institution.credit_code, number, code),
                             [f"Test report {number} (amends {old_number})", institution.credit_code])
            receipt = services.register_report(signatory, institution, number, pdf, code=code, event="amended",
                                               replaces=(old_number, old_code))
            (out / f"{number}.pdf").write_bytes(pdf)
            (out / f"{number}.pdf.tlog-proof").write_text(receipt.proof)
            gone_number, gone_code, gone_pdf = issued[2]
            services.register_report(signatory, institution, gone_number, gone_pdf, code=gone_code,
                                     event="withdrawn")
            made += 2
    return made
