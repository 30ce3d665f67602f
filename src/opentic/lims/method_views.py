"""The page of one method's working rules (QC policy, plausible range, formula inputs, instruments)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from opentic.core.feedback import form_errors
from opentic.core.models import Role, User
from opentic.core.permissions import lab_of

from .method_setup import Policy, parse_inputs, save_method_rules
from .models import AnalysisService
from .order_forms import MethodRulesForm


@login_required
def method_rules(request: HttpRequest, pk: int) -> HttpResponse:
    institution_id = lab_of(request.user)
    service = get_object_or_404(AnalysisService.objects.select_related("parameter", "standard"), pk=pk,
                                institution_id=institution_id)
    user = request.user
    assert isinstance(user, User)
    if not user.has_role(Role.INSTITUTION_ADMIN):
        raise PermissionDenied(_("Only the institution admin sets up methods."))
    initial = {"qc_batch_size": service.qc_batch_size, "qc_blanks": service.qc_blanks,
               "qc_controls": service.qc_controls, "qc_duplicates": service.qc_duplicates,
               "plausible_min": service.plausible_min, "plausible_max": service.plausible_max,
               "out_of_range": service.out_of_range,
               "inputs": "\n".join(f"{i['keyword']}, {i['label']}, {i['unit']}" for i in service.inputs),
               "instruments": list(service.instruments.values_list("pk", flat=True))}
    form = MethodRulesForm(institution_id, request.POST if request.method == "POST" else None, initial=initial)
    errors: list[str] = []
    if form.is_valid():
        d = form.cleaned_data
        try:
            save_method_rules(user, service, Policy(d["qc_batch_size"], d["qc_blanks"], d["qc_controls"],
                                                    d["qc_duplicates"], d["plausible_min"], d["plausible_max"],
                                                    d["out_of_range"]),
                              parse_inputs(d["inputs"]), list(d["instruments"]), d["reason"])
            messages.success(request, _("Method rules saved."))
            return redirect("lims:method_rules", pk=service.pk)
        except (ValidationError, PermissionDenied) as exc:
            errors = form_errors(form, exc)
    elif form.is_bound:
        errors = [_("Not saved: see the marked fields.")]
    return render(request, "lims/method_rules.html", {"service": service, "form": form, "errors": errors},
                  status=422 if errors else 200)
