"""Approving a sample's report, downloading it and its machine-readable twin (the lab's own staff)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from opentic.core.permissions import is_regulator, lab_of
from opentic.lims.models import Sample

from . import services
from .batch import launch, start_batch
from .models import Report, ReportBatch, Seal
from .seal import data_uri as seal_uri
from .seal import save_seal


def _own(request: HttpRequest) -> int:
    return lab_of(request.user)


@login_required
@require_POST
def approve(request: HttpRequest, sample_pk: int) -> HttpResponse:
    sample = get_object_or_404(Sample, pk=sample_pk, institution_id=_own(request))
    replaces = None
    if request.POST.get("replaces"):
        replaces = get_object_or_404(Report, pk=request.POST["replaces"], sample=sample)
    try:
        report = services.issue_report(request.user, sample, request.POST.get("password", ""),  # type: ignore[arg-type]
                                       replaces=replaces, reason=request.POST.get("reason", ""))
        messages.success(request, f"报告 {report.number} 已签发并登记入账")
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc))
    return redirect("lims:sample", pk=sample.pk)


def _visible(request: HttpRequest, pk: int) -> Report:
    """A report: to its own lab's staff, and to the regulator, who sees every issued report."""
    if is_regulator(request.user):
        return get_object_or_404(Report, pk=pk)
    return get_object_or_404(Report, pk=pk, institution_id=_own(request))


@login_required
def pdf(request: HttpRequest, pk: int) -> HttpResponse:
    report = _visible(request, pk)
    response = HttpResponse(bytes(report.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{report.number}.pdf"'
    return response


@login_required
def twin(request: HttpRequest, pk: int) -> HttpResponse:
    report = _visible(request, pk)
    return HttpResponse(services.twin_json(report), content_type="application/json; charset=utf-8")


@login_required
@require_POST
def start(request: HttpRequest) -> HttpResponse:
    """Approve every verified sample of the lab with one signature; the batch runs in the background."""
    institution_id = _own(request)
    samples = list(Sample.objects.filter(institution_id=institution_id, state="verified"))
    try:
        batch = start_batch(request.user, samples, request.POST.get("password", ""))  # type: ignore[arg-type]
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc))
        return redirect("lims:list")
    launch(batch)
    return redirect("reports:batch", pk=batch.pk)


@login_required
def batch(request: HttpRequest, pk: int) -> HttpResponse:
    batches = ReportBatch.objects.select_related("job").defer("job__input", "job__output")
    item = get_object_or_404(batches, pk=pk, institution_id=_own(request))
    template = "reports/_batch.html" if request.headers.get("HX-Request") else "reports/batch.html"
    return render(request, template, {"batch": item})


@login_required
def seal_page(request: HttpRequest) -> HttpResponse:
    """The institution's seal image: shown to its staff, replaced by its administrator."""
    institution_id = _own(request)
    if request.method == "POST":
        upload = request.FILES.get("seal")
        try:
            if upload is None:
                raise ValidationError("请选择印章图片(PNG)")
            save_seal(request.user, upload.read())  # type: ignore[arg-type]
            messages.success(request, "检验检测专用章已更新,之后签发的报告使用新印章")
            return redirect("reports:seal")
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc))
    current = Seal.objects.filter(institution_id=institution_id).first()
    return render(request, "reports/seal.html", {
        "seal": current, "uri": seal_uri(current.institution.credit_code) if current else ""})
