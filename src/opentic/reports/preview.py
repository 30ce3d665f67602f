"""The signatory's preview: the exact document the approval would issue, before anything is signed.

Rendered by the same template from the same twin, with three differences a reader cannot miss or misuse:
"预览 · 未签发" across every page, no number (none is taken from the counter), and no QR code, verification
code, signature or seal. Nothing is registered in the ledger, nothing is written: a preview changes no state.
"""

from __future__ import annotations

import base64
import io

from django.utils import timezone

from opentic.core.models import Role, User
from opentic.core.permissions import require
from opentic.lims import lifecycle
from opentic.lims.models import Sample

from . import services, twin
from .models import Report, ReportTemplate

PLACEHOLDER_NUMBER = "（签发时编号）"


def current_report(sample: Sample) -> Report | None:
    """The sample's report in force: issued and not replaced by an amendment."""
    return Report.objects.filter(sample=sample, state=Report.State.ISSUED, replaced_by__isnull=True).first()


def preview_pdf(actor: User, sample: Sample, reason: str = "") -> bytes:
    """The report (or, for a reported sample, its amendment) as approval would issue it, marked 未签发."""
    require(actor.is_authenticated and actor.institution_id == sample.institution_id and
            actor.has_role(Role.SIGNATORY), "只有本机构的授权签字人可以预览待签发的报告")
    sample = Sample.objects.select_related("order__client", "order__institution", "test_object").get(pk=sample.pk)
    replaces = current_report(sample) if sample.state == lifecycle.SampleState.REPORTED else None
    fields = services._check(actor, sample, replaces, reason or "预览")
    data = twin.build(sample, PLACEHOLDER_NUMBER, "", actor, fields, timezone.now().replace(microsecond=0),
                      replaces, reason.strip() or ("（签发时填写）" if replaces else ""))
    custom = ReportTemplate.objects.filter(institution_id=sample.institution_id).values_list("html", flat=True).first()
    return services._render(data, custom, preview=True)


def page_images(pdf: bytes, scale: float = 1.4) -> list[str]:
    """The PDF's pages as PNG data URIs (PDFium, in process), so that the page shows the document itself in
    any browser, with or without a PDF viewer."""
    import pypdfium2 as pdfium  # imported here: only the preview page needs it

    document = pdfium.PdfDocument(pdf)
    try:
        uris = []
        for index in range(len(document)):
            out = io.BytesIO()
            document[index].render(scale=scale).to_pil().save(out, "PNG", optimize=True)
            uris.append(f"data:image/png;base64,{base64.b64encode(out.getvalue()).decode()}")
        return uris
    finally:
        document.close()
