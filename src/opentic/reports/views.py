"""Approving a sample's report (after its preview), withdrawing one, downloading it and its machine-readable
twin; the seal and each person's signature image."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from opentic.core.http import AuthenticatedHttpRequest
from opentic.core.models import User
from opentic.core.permissions import is_regulator, lab_of
from opentic.lims.models import Sample
from opentic.registry.models import Institution

from . import marks, services
from .batch import launch, start_batch
from .forms import ApproveForm, ImageForm, PasswordForm, WithdrawForm
from .models import Report, ReportBatch, Seal, Signature
from .preview import current_report, page_images, preview_pdf
from .seal import MAX_BYTES, save_seal
from .seal import data_uri as seal_uri
from .signatures import images, save_signature


def _own(request: HttpRequest) -> int:
    return lab_of(request.user)


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # every view here is behind login_required
    return request.user


def _refused(request: HttpRequest, exc: ValidationError | PermissionDenied) -> None:
    messages.error(request, "；".join(exc.messages) if isinstance(exc, ValidationError) else str(exc))


def _form_refused(request: HttpRequest, form: PasswordForm | ImageForm) -> None:
    parts = []
    for name, errors in form.errors.items():
        text = "、".join(str(e) for e in errors)
        parts.append(f"{form.fields[name].label}：{text}" if name in form.fields else text)
    messages.error(request, "；".join(parts))


@login_required
@require_POST
def approve(request: AuthenticatedHttpRequest, sample_pk: int) -> HttpResponse:
    sample = get_object_or_404(Sample, pk=sample_pk, institution_id=_own(request))
    form = ApproveForm(request.POST)
    if not form.is_valid():
        _form_refused(request, form)
        return redirect("lims:sample", pk=sample.pk)
    replaces = None
    if form.cleaned_data["replaces"]:
        replaces = get_object_or_404(Report, pk=form.cleaned_data["replaces"], sample=sample)
    try:
        report = services.issue_report(_user(request), sample, form.cleaned_data["password"], replaces=replaces,
                                       reason=form.cleaned_data["reason"])
        messages.success(request, f"报告 {report.number} 已签发并登记入账")
    except (ValidationError, PermissionDenied) as exc:
        _refused(request, exc)
    return redirect("lims:sample", pk=sample.pk)


@login_required
@require_GET
def preview(request: HttpRequest, sample_pk: int) -> HttpResponse:
    """The signatory's page: the document as it would be issued, and the approval under it."""
    sample = get_object_or_404(Sample.objects.select_related("order__client"), pk=sample_pk,
                               institution_id=_own(request))
    try:
        pages = page_images(preview_pdf(_user(request), sample))
    except ValidationError as exc:
        _refused(request, exc)
        return redirect("lims:sample", pk=sample.pk)
    return render(request, "reports/preview.html", {"sample": sample, "current": current_report(sample),
                                                    "pages": pages})


@login_required
@require_GET
def preview_file(request: HttpRequest, sample_pk: int) -> HttpResponse:
    sample = get_object_or_404(Sample, pk=sample_pk, institution_id=_own(request))
    try:
        data = preview_pdf(_user(request), sample)
    except ValidationError as exc:
        _refused(request, exc)
        return redirect("lims:sample", pk=sample.pk)
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="preview-{sample.lab_number}.pdf"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    report = get_object_or_404(Report, pk=pk, institution_id=_own(request))
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        _form_refused(request, form)
        return redirect("lims:sample", pk=report.sample_id)
    try:
        services.withdraw_report(_user(request), report, form.cleaned_data["password"], form.cleaned_data["reason"])
        messages.success(request, f"报告 {report.number} 已撤回，撤回已登记入账")
    except (ValidationError, PermissionDenied) as exc:
        _refused(request, exc)
    return redirect("lims:sample", pk=report.sample_id)


def _visible(request: HttpRequest, pk: int) -> Report:
    """A report: to its own lab's staff, and to the regulator, who sees every issued report."""
    if is_regulator(request.user):
        return get_object_or_404(Report, pk=pk)
    return get_object_or_404(Report, pk=pk, institution_id=_own(request))


@login_required
def pdf(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    report = _visible(request, pk)
    response = HttpResponse(bytes(report.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{report.number}.pdf"'
    return response


@login_required
def twin(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    report = _visible(request, pk)
    return HttpResponse(services.twin_json(report), content_type="application/json; charset=utf-8")


@login_required
@require_POST
def start(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Approve every verified sample of the lab with one signature; the batch runs in the background."""
    institution_id = _own(request)
    samples = list(Sample.objects.filter(institution_id=institution_id, state="verified"))
    form = PasswordForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError("请输入密码（电子签名）")
        batch = start_batch(_user(request), samples, form.cleaned_data["password"])
    except (ValidationError, PermissionDenied) as exc:
        _refused(request, exc)
        return redirect("lims:list")
    launch(batch)
    return redirect("reports:batch", pk=batch.pk)


@login_required
def batch(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    batches = ReportBatch.objects.select_related("job").defer("job__input", "job__output")
    item = get_object_or_404(batches, pk=pk, institution_id=_own(request))
    template = "reports/_batch.html" if request.headers.get("HX-Request") else "reports/batch.html"
    return render(request, template, {"batch": item})


@login_required
@require_http_methods(["GET", "POST"])
def seal_page(request: HttpRequest) -> HttpResponse:
    """The institution's seal image: shown to its staff, replaced by its administrator."""
    institution_id = _own(request)
    if request.method == "POST":
        form = ImageForm("seal", request.POST, request.FILES)
        try:
            if not form.is_valid():
                raise ValidationError("请选择印章图片（PNG）")
            save_seal(_user(request), form.cleaned_data["seal"].read(MAX_BYTES + 1))
            messages.success(request, "检验检测专用章已更新，之后签发的报告使用新印章")
            return redirect("reports:seal")
        except (ValidationError, PermissionDenied) as exc:
            _refused(request, exc)
    current = Seal.objects.filter(institution_id=institution_id).first()
    name = Institution.objects.filter(pk=institution_id).values_list("name", flat=True).first() or ""
    return render(request, "reports/seal.html", {
        "seal": current, "uri": seal_uri(current.institution.credit_code) if current else "",
        "drawn": marks.data_uri(marks.seal_svg(name))})


@login_required
@require_http_methods(["GET", "POST"])
def signature_page(request: HttpRequest) -> HttpResponse:
    """A person's own signature image: each member of a lab uploads and sees only their own."""
    _own(request)
    user = _user(request)
    if request.method == "POST":
        form = ImageForm("signature", request.POST, request.FILES)
        try:
            if not form.is_valid():
                raise ValidationError("请选择签名图片（PNG）")
            save_signature(user, form.cleaned_data["signature"].read())
            messages.success(request, "签名图片已更新，之后签发的报告使用新签名")
            return redirect("reports:signature")
        except (ValidationError, PermissionDenied) as exc:
            _refused(request, exc)
    current = Signature.objects.filter(user=user).first()
    return render(request, "reports/signature.html", {"signature": current, "uri": images([user.pk]).get(user.pk)})
