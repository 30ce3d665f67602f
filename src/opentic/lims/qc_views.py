"""Internal QC pages: release of a worksheet (with its Westgard judgement), the corrective action of a
rejection, and the Levey–Jennings chart of each method and control material."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from opentic.core.feedback import attempt, refused
from opentic.core.http import AuthenticatedHttpRequest
from opentic.core.permissions import lab_of
from opentic.numerics import plots

from . import qc
from .entry_forms import ControlTargetForm, CorrectiveActionForm, form_errors
from .models import AnalysisService, ControlTarget, QCRejection, ReferenceMaterial, Worksheet


@login_required
@require_POST
def release(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    sheet = get_object_or_404(Worksheet, pk=pk, institution_id=lab_of(request.user))
    try:
        outcome = qc.release_worksheet(request.user, sheet)
        if outcome.released:
            messages.success(request, _("Worksheet released.") + (
                " " + _("Warning: %(rules)s") % {"rules": ", ".join(outcome.warnings)} if outcome.warnings else ""))
        else:
            assert outcome.rejection is not None
            rules = ", ".join(r["rule"] for r in outcome.rejection.rules)
            messages.error(request, _("QC rejected by %(rules)s: the worksheet is held until a corrective action "
                                      "is recorded.") % {"rules": rules})
    except (ValidationError, PermissionDenied) as exc:
        refused(request, exc)
    return redirect("lims:worksheet", pk=sheet.pk)


@login_required
@require_POST
def corrective_action(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    rejection = get_object_or_404(QCRejection, pk=pk, worksheet__institution_id=lab_of(request.user))
    form = CorrectiveActionForm(request.POST)
    text = form.cleaned_data["corrective_action"] if form.is_valid() else ""  # too long: the service refuses
    attempt(request, _("Corrective action recorded."), lambda: qc.record_corrective_action(
        request.user, rejection, text))
    return redirect("lims:worksheet", pk=rejection.worksheet_id)


@login_required
def charts(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Every control target of the lab with its chart; a form to set one (admin or reviewer)."""
    institution_id = lab_of(request.user)
    if request.method == "POST":
        form = ControlTargetForm(request.POST)
        if not form.is_valid():
            messages.error(request, "；".join(form_errors(form)))
            return redirect("lims:qc_charts")
        d = form.cleaned_data
        service = get_object_or_404(AnalysisService, pk=d["service"], institution_id=institution_id)
        material = get_object_or_404(ReferenceMaterial, pk=d["material"], institution_id=institution_id)
        attempt(request, _("Control target saved."), lambda: qc.set_control_target(
            request.user, service, material, d["mean"], d["sd"]))
        return redirect("lims:qc_charts")
    targets = ControlTarget.objects.filter(institution_id=institution_id).select_related(
        "service__parameter", "reference_material")
    panels = []
    for target in targets:
        points = qc.chart_points(target)
        svg = plots.levey_jennings([plots.Point(p.worksheet, p.z, abs(p.z) > 3) for p in points],
                                   f"{target.service.parameter.name} · {target.reference_material}")
        # plots escapes every text it draws
        panels.append({"target": target, "points": points, "svg": mark_safe(svg)})
    return render(request, "lims/qc_charts.html", {
        "panels": panels,
        "services": AnalysisService.objects.filter(institution_id=institution_id).select_related("parameter"),
        "materials": ReferenceMaterial.objects.filter(institution_id=institution_id),
    })
