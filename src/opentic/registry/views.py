"""The regulator's pages on the register, and an institution's own pages. Thin: services do the work."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from opentic.core import audit, history
from opentic.core.feedback import refused
from opentic.core.http import AuthenticatedHttpRequest
from opentic.core.models import AuditEvent, User
from opentic.core.permissions import can_manage_staff_and_instruments, can_view_private, is_regulator
from opentic.registry import services, validity
from opentic.registry.filters import ImportForm, InstitutionFilterForm, StatusChangeForm, filter_institutions
from opentic.registry.importing import ImportRejected
from opentic.registry.jobs import EXPORT_FORMATS, export_queryset, export_rows, submit_export, submit_import
from opentic.registry.models import ImportBatch, Institution, Staff
from opentic.registry.sheets import SHEETS, export, run_import


def visible_institution(request: HttpRequest, pk: int) -> Institution:
    """The institution, if this user may see its non-public data; otherwise 404 (no existence leak)."""
    if not can_view_private(request.user, pk):
        raise Http404
    return get_object_or_404(Institution.objects.select_related("district"), pk=pk)


@login_required
def institution_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not is_regulator(request.user):
        raise PermissionDenied("只有监管部门可以查看机构名录")
    form = InstitutionFilterForm(request.GET or None)
    queryset: QuerySet[Institution] = Institution.objects.select_related("district")
    if form.is_valid():
        queryset = filter_institutions(queryset, form.cleaned_data)
    page = Paginator(queryset.order_by("name"), 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "registry/list.html", {
        "form": form, "page": page, "query": query.urlencode(),
        # The regulator's reminders (Order 163 art. 13): certificates to renew soon, and ended ones.
        "expiring_count": validity.filter_expiring(Institution.objects.all()).count(),
        "expired_count": validity.filter_status(Institution.objects.all(), "expired").count(),
    })


@login_required
def institution_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    institution = visible_institution(request, pk)
    today = timezone.localdate()
    lines = (institution.scope_lines.select_related("test_object", "parameter", "standard")
             .order_by("field", "category", "seq"))
    return render(request, "registry/detail.html", {
        "institution": institution,
        "today": today,
        "units": institution.spatial_units(),
        "lines": lines[:500],
        "line_count": lines.count(),
        "staff": institution.staff.select_related("user").prefetch_related(
            "signatory_authorizations").order_by("employee_no")[:200],
        "staff_count": institution.staff.count(),
        "instruments": institution.instruments.order_by("asset_number")[:200],
        "instrument_count": institution.instruments.count(),
        "status_form": StatusChangeForm() if is_regulator(request.user) else None,
        "can_manage": can_manage_staff_and_instruments(request.user, institution.pk),
        "accounts": User.objects.filter(institution=institution).order_by("username"),
    })


# The register's own records in an institution's chain: its scope, staff and instruments, and the
# regulator's 失信 declarations. The lab's LIMS work has its own page (lims:trail).
REGISTER_ENTITIES = Q(entity__startswith="registry.") | Q(entity="ledger.NotAccepted")


class AccountForm(forms.Form):
    user = forms.ModelChoiceField(queryset=User.objects.none(), required=False)

    def __init__(self, institution: Institution, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast("forms.ModelChoiceField[User]", self.fields["user"]).queryset = User.objects.filter(
            institution=institution)


@login_required
@require_POST
def staff_account(request: AuthenticatedHttpRequest, pk: int, staff_pk: int) -> HttpResponse:
    """Say which account is this staff member: signing authority follows this link, never a name."""
    institution = visible_institution(request, pk)
    staff = get_object_or_404(Staff, pk=staff_pk, institution=institution)
    form = AccountForm(institution, request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose one of the institution's accounts."))
    else:
        try:
            services.link_account(request.user, staff, form.cleaned_data["user"])
            messages.success(request, _("Saved."))
        except (ValidationError, PermissionDenied) as exc:
            refused(request, exc)
    return redirect("registry:detail", pk=institution.pk)


@login_required
def institution_history(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    institution = visible_institution(request, pk)
    events = audit.history(institution) | AuditEvent.objects.filter(
        REGISTER_ENTITIES, chain=audit.chain_key(institution.pk))
    page, described = history.page_of(events, request.GET.get("page"))
    return render(request, "registry/history.html", {
        "institution": institution,
        "status_changes": institution.status_changes.select_related("actor"),
        "page": page, "events": described, "query": "",
    })


@login_required
@require_POST
def institution_status(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    institution = visible_institution(request, pk)
    form = StatusChangeForm(request.POST)
    if form.is_valid():
        try:
            services.change_institution_status(
                request.user, institution, form.cleaned_data["status"], form.cleaned_data["reason"]
            )
            messages.success(request, _("Status changed."))
        except ValidationError as exc:
            messages.error(request, "; ".join(exc.messages))
    else:
        messages.error(request, _("Choose a status and give the reason."))
    return redirect("registry:detail", pk=institution.pk)


@login_required
def export_view(request: AuthenticatedHttpRequest, kind: str, fmt: str) -> HttpResponse:
    if kind not in SHEETS or fmt not in EXPORT_FORMATS:
        raise Http404
    user = request.user
    query = request.GET.urlencode()
    queryset = export_queryset(user, kind, query)
    if export_rows(kind, queryset) > settings.OPENTIC_INLINE_EXPORT_ROWS:  # too long for a request: a job
        return redirect("core:job", pk=submit_export(user, kind, fmt, query).pk)
    data, filename = export(kind, queryset, fmt)
    response = HttpResponse(data, content_type=EXPORT_FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
def import_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    if not (is_regulator(user) or can_manage_staff_and_instruments(user, user.institution_id)):
        raise PermissionDenied("只有监管部门和机构管理员可以导入数据")
    form = ImportForm(request.POST or None, request.FILES or None)
    errors: list[object] | None = None
    result = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > settings.OPENTIC_INLINE_IMPORT_BYTES:  # a large file is imported by a job
            job = submit_import(user, form.cleaned_data["kind"], upload.name, upload.read())
            return redirect("core:job", pk=job.pk)
        try:
            result = run_import(user, form.cleaned_data["kind"], upload.name, upload.read())
        except ImportRejected as exc:
            errors = list(exc.errors)
        except PermissionDenied as exc:
            errors = [str(exc) or _("You may not import this.")]
    batches = ImportBatch.objects.all() if is_regulator(user) else ImportBatch.objects.filter(
        institution_id=getattr(user, "institution_id", None) or 0)
    return render(request, "registry/import.html", {
        "form": form, "errors": errors, "result": result, "sheets": SHEETS.values(),
        "batches": batches.select_related("actor")[:20], "status": 422 if errors else 200,
    }, status=422 if errors else 200)
