"""The laboratory's pages: sample list, registration (one or a campaign), a sample with its results grid."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from opentic.core.feedback import keep_typed, kept_typed, posted_id, refused
from opentic.core.history import page_of
from opentic.core.http import AuthenticatedHttpRequest
from opentic.core.models import Role, User
from opentic.core.permissions import lab_of
from opentic.numerics.reporting import BelowLoq, Reporting, formatted
from opentic.numerics.rounding import RoundingError, to_decimal
from opentic.numerics.stats.checks import NotFinite, parse_finite
from opentic.registry.importing import ImportRejected
from opentic.registry.models import Institution, Instrument, Parameter, ScopeLine, TestObject

from . import budget, gates, hooks, lab_setup, services, trail, verification
from .benches import bench_instruments
from .entry_forms import BudgetLinesForm, MappingForm, ReasonForm, ReceiveForm, VerifyForm, form_errors
from .forms import (
    AuthorizationForm,
    RegisterForm,
    ResultForm,
    SampleFilterForm,
    SampleStateForm,
    ServiceForm,
    SpecificationForm,
    UploadForm,
    form_messages,
)
from .judgement import CONFORMITY_LABELS
from .labels import label_pdf
from .lifecycle import SampleState, results_allowed
from .models import (
    Analysis,
    AnalysisService,
    InstrumentMapping,
    MethodAuthorization,
    Sample,
    Specification,
)
from .results_import import import_results
from .sheets import HEADERS, import_samples


def _institution_id(request: HttpRequest) -> int:
    return lab_of(request.user)


def _sample(request: HttpRequest, pk: int) -> Sample:
    return get_object_or_404(Sample.objects.select_related("order__client", "test_object"), pk=pk,
                             institution_id=_institution_id(request))


@login_required
def sample_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    institution_id = _institution_id(request)
    form = SampleFilterForm(request.GET or None)
    samples = Sample.objects.filter(institution_id=institution_id).select_related("test_object", "order")
    if form.is_valid():
        if form.cleaned_data["state"]:
            samples = samples.filter(state=form.cleaned_data["state"])
        if form.cleaned_data["q"]:
            q = form.cleaned_data["q"].strip()
            samples = samples.filter(Q(lab_number__startswith=q) | Q(name__contains=q))
    page = Paginator(samples.order_by("-id"), 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "lims/list.html", {
        "form": form, "page": page, "query": query.urlencode(),
        # Only the administrator maintains the lab's setup: nobody else is shown a button to a refusal.
        "can_setup": isinstance(request.user, User) and request.user.has_role(Role.INSTITUTION_ADMIN),
    })


@login_required
def register(request: AuthenticatedHttpRequest) -> HttpResponse:
    institution_id = _institution_id(request)
    form = RegisterForm(institution_id, request.POST if "name" in request.POST else None)
    upload = UploadForm(institution_id, request.POST if "file" in request.FILES else None, request.FILES or None)
    errors: list[str] = []
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        obj = TestObject.objects.filter(name=data["test_object"].strip()).first()
        if obj is None:
            errors.append(_("Unknown object: %(name)s") % {"name": data["test_object"]})
        else:
            try:
                sample = services.register_samples(request.user, data["order"], [{
                    "name": data["name"], "test_object": obj, "services": list(data["services"]),
                    "batch_number": data["batch_number"], "production_date": data["production_date"],
                }], allow_non_accredited=data["allow_non_accredited"])[0]
                messages.success(request, _("Sample %(number)s registered.") % {"number": sample.lab_number})
                return redirect("lims:sample", pk=sample.pk)
            except (ValidationError, PermissionDenied) as exc:
                errors += exc.messages if isinstance(exc, ValidationError) else [str(exc)]
    if upload.is_bound and upload.is_valid():
        file = upload.cleaned_data["file"]
        try:
            created = import_samples(request.user, upload.cleaned_data["order"], file.name, file.read(),
                                     allow_non_accredited=upload.cleaned_data["allow_non_accredited"])
            messages.success(request, _("%(count)d samples registered.") % {"count": len(created)})
            return redirect("lims:list")
        except ImportRejected as exc:
            errors += [str(e) for e in exc.errors]
    status = 422 if errors else 200
    return render(request, "lims/register.html", {"form": form, "upload": upload, "errors": errors,
                                                  "headers": HEADERS}, status=status)


def _why_not_verifiable(a: Analysis, user: Any) -> str:
    if a.state != "entered":
        return ""
    if a.entered_by_id == user.pk:
        return _("entered by you: a second person verifies it")
    if not user.has_role(Role.REVIEWER):
        return _("only a reviewer verifies results")
    return ""


def _rows(sample: Sample, user: Any, typed: dict[str, str] | None = None) -> list[dict[str, Any]]:
    enters = user.has_role(Role.ANALYST, Role.INSTITUTION_ADMIN)
    typed = typed or {}
    rows = []
    for a in sample.analyses.select_related("service__parameter", "service__standard", "entered_by", "verified_by",
                                            "instrument").order_by("id"):
        s = a.service
        shown = ""
        if a.value:
            try:
                shown = formatted(to_decimal(a.value), Reporting(s.places, s.loq, s.lod, BelowLoq(s.below_loq)))
            except RoundingError:
                shown = a.value
        rows.append({"a": a, "shown": shown, "conformity": CONFORMITY_LABELS.get(a.conformity, ""),
                     "editable": enters and a.state in ("pending", "entered") and not s.formula
                     and results_allowed(sample.state),
                     "editable_inputs": enters and a.state in ("pending", "entered") and results_allowed(sample.state),
                     "verifiable": a.state == "entered" and not _why_not_verifiable(a, user),
                     "why_not": _why_not_verifiable(a, user),
                     "typed": {k.split(":", 1)[1]: v for k, v in typed.items() if k.startswith(f"{a.pk}:")},
                     "inputs": [{**i, "value": typed.get(f"{a.pk}:in-{i['keyword']}", a.inputs.get(i["keyword"], ""))}
                                for i in s.inputs]})
    return rows


@login_required
def sample(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    s = _sample(request, pk)
    rows = _rows(s, request.user, kept_typed(request, f"sample-{s.pk}"))
    for row in rows:
        row["instruments"] = bench_instruments(row["a"].service)
    return render(request, "lims/sample.html", {
        "sample": s, "rows": rows, "can_review": request.user.has_role(Role.REVIEWER),
        "any_verifiable": any(r["verifiable"] for r in rows), "any_why_not": any(r["why_not"] for r in rows),
        "can_cancel": s.state in (SampleState.REGISTERED, SampleState.RECEIVED),
        "can_invalidate": request.user.has_role(Role.REVIEWER) and s.state in (
            SampleState.IN_TESTING, SampleState.TO_BE_VERIFIED, SampleState.VERIFIED, SampleState.REPORTED),
        "state_label": s.get_state_display(),
        "can_receive": s.state == SampleState.REGISTERED,
        # Reports build on the LIMS, not the other way round: their app registers the lookup (lims/hooks.py).
        "reports": hooks.reports_of(s),
        "can_approve": s.state in (SampleState.VERIFIED, SampleState.REPORTED) and request.user.has_role(
            Role.SIGNATORY),
    })




@login_required
@require_POST
def receive(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    s = _sample(request, pk)
    form = ReceiveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "; ".join(form_errors(form)))
        return redirect("lims:sample", pk=s.pk)
    d = form.cleaned_data
    try:
        services.receive_sample(request.user, s, d["condition"], accepted=d["decision"] != "reject",
                                reason=d["reason"], expected_version=d["version"] or None)
    except (ValidationError, PermissionDenied) as exc:
        refused(request, exc)
    return redirect("lims:sample", pk=s.pk)


@login_required
@require_POST
def change_state(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    s = _sample(request, pk)
    form = SampleStateForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(form_messages(form))
        d = form.cleaned_data
        change = services.cancel_sample if d["action"] == "cancel" else services.invalidate_sample
        change(request.user, s, d["reason"], expected_version=d["version"] or None)
        messages.success(request, _("Sample %(number)s: %(state)s.") % {
            "number": s.lab_number, "state": Sample.objects.get(pk=s.pk).get_state_display()})
    except (ValidationError, PermissionDenied) as exc:
        refused(request, exc)
    return redirect("lims:sample", pk=s.pk)


@login_required
@require_POST
def result(request: AuthenticatedHttpRequest, pk: int, analysis_pk: int) -> HttpResponse:
    s = _sample(request, pk)
    analysis = get_object_or_404(Analysis, pk=analysis_pk, sample=s)
    form = ResultForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(form_messages(form))
        d = form.cleaned_data
        instrument = None
        if d["instrument"]:
            instrument = get_object_or_404(Instrument, pk=d["instrument"], institution_id=s.institution_id)
        inputs = {k.removeprefix("in-"): str(v) for k, v in request.POST.items() if k.startswith("in-")}
        if inputs:
            services.enter_inputs(request.user, analysis, inputs, reason=d["reason"])
        if not analysis.service.formula:
            services.enter_result(request.user, analysis, d["value"], instrument=instrument,
                                  uncertainty=d["uncertainty"], reason=d["reason"],
                                  expected_version=d["version"] or None)
    except (ValidationError, PermissionDenied) as exc:
        refused(request, exc)
        keep_typed(request, f"sample-{s.pk}", {f"{analysis.pk}:{k}": str(v) for k, v in request.POST.items()
                                                 if k in ("value", "uncertainty", "reason", "instrument")
                                                 or k.startswith("in-")})
    return redirect("lims:sample", pk=s.pk)


@login_required
@require_POST
def verify(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Sign the chosen results as verified: one password, one signature, all of them or none."""
    s = _sample(request, pk)
    form = VerifyForm(s, request.POST)
    if not form.is_valid():
        messages.error(request, "；".join(form_errors(form)))
        return redirect("lims:sample", pk=s.pk)
    if not form.cleaned_data["analysis"]:  # nothing chosen: say why the rest cannot be verified by this person
        blocked = [f"{a.service.parameter.name}：{why}" for a in s.analyses.select_related("service__parameter")
                   if (why := _why_not_verifiable(a, request.user))]
        messages.error(request, "；".join(blocked) if blocked else _("Choose the results to verify."))
        return redirect("lims:sample", pk=s.pk)
    try:
        verification.verify_results(request.user, s, form.cleaned_data["analysis"],
                                form.cleaned_data["password"])
    except (ValidationError, PermissionDenied) as exc:
        refused(request, exc)
    return redirect("lims:sample", pk=s.pk)


@login_required
@require_POST
def retest(request: AuthenticatedHttpRequest, pk: int, analysis_pk: int) -> HttpResponse:
    s = _sample(request, pk)
    analysis = get_object_or_404(Analysis, pk=analysis_pk, sample=s)
    form = ReasonForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(form_messages(form))
        verification.request_retest(request.user, analysis, form.cleaned_data["reason"])
    except (ValidationError, PermissionDenied) as exc:
        refused(request, exc)
    return redirect("lims:sample", pk=s.pk)


@login_required
def history(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    s = _sample(request, pk)
    page, events = page_of(trail.sample_events(s.institution_id, s), request.GET.get("page"))
    return render(request, "lims/history.html", {"sample": s, "page": page, "events": events, "query": ""})



@login_required
def labels(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The sample's label, or with ?order=1 the labels of every sample of its order."""
    s = _sample(request, pk)
    samples = Sample.objects.filter(order=s.order).order_by("lab_number") if request.GET.get("order") else [s]
    # The local (Chongqing) date of registration, not the UTC one.
    data = label_pdf([(x.lab_number, s.order.number, f"{timezone.localtime(x.created_at):%Y-%m-%d}") for x in samples])
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="labels-{s.lab_number}.pdf"'
    return response


# ---------------------------------------------------------------- the lab's setup


@login_required
def setup(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Methods, analysts' authorizations and specifications: what an institution admin maintains."""
    institution_id = _institution_id(request)
    institution = get_object_or_404(Institution, pk=institution_id)
    user = request.user
    # Lost in a merge (the typed-request change) and found by the generated tenancy matrix: the setup page
    # is the institution admin's; the services refuse other roles' POSTs, the page itself must too.
    if not user.has_role(Role.INSTITUTION_ADMIN):
        raise PermissionDenied("只有机构管理员可以维护实验室设置")
    today = timezone.localdate()
    scope = ScopeLine.objects.valid_on(today).filter(institution_id=institution_id).values_list(
        "parameter_id", "parameter__name", "standard_id", "standard__code", "standard__year").distinct()
    methods = sorted({(f"{p}:{s}", f"{pn} · {sc}-{sy}" if sy else f"{pn} · {sc}") for p, pn, s, sc, sy in scope},
                     key=lambda m: m[1])
    services_ = AnalysisService.objects.filter(institution_id=institution_id).select_related("parameter", "standard")
    staff = User.objects.filter(institution_id=institution_id).order_by("username")
    users = [(str(u.pk), u.get_username()) for u in staff if u.has_role(Role.ANALYST)]
    standards = sorted({(str(s.standard_id), s.standard.full_code) for s in services_}, key=lambda x: x[1])
    forms_ = {"service": ServiceForm(methods), "grant": AuthorizationForm(users, standards),
              "spec": SpecificationForm()}
    if request.method == "POST":
        which = request.POST.get("form", "")
        try:
            if which == "service":
                form = ServiceForm(methods, request.POST)
                if form.is_valid():
                    d = form.cleaned_data
                    parameter_id, standard_id = (int(x) for x in d["method"].split(":"))
                    lab_setup.save_service(user, institution, d["keyword"], parameter_id, standard_id, d["unit"],
                                          d["places"], d["loq"], d["lod"], d["below_loq"], d["formula"], d["reason"])
                    messages.success(request, _("Saved."))
                    return redirect("lims:setup")
                forms_["service"] = form
            elif which == "grant":
                grant = AuthorizationForm(users, standards, request.POST)
                if grant.is_valid():
                    d = grant.cleaned_data
                    analyst = staff.get(pk=d["user"])
                    lab_setup.authorize(user, analyst, int(d["standard"]), d["valid_from"], d["valid_until"])
                    messages.success(request, _("Saved."))
                    return redirect("lims:setup")
                forms_["grant"] = grant
            elif which == "revoke":
                item = get_object_or_404(MethodAuthorization, pk=posted_id(request.POST, "grant"),
                                         user__institution_id=institution_id)
                reason = ReasonForm(request.POST)
                if not reason.is_valid():
                    raise ValidationError(form_messages(reason))
                lab_setup.revoke(user, item, reason.cleaned_data["reason"])
                return redirect("lims:setup")
            elif which == "budget":
                service = get_object_or_404(services_, pk=posted_id(request.POST, "service"))
                lines = BudgetLinesForm(request.POST)
                if not lines.is_valid():
                    raise ValidationError(form_messages(lines))
                found = lab_setup.save_uncertainty_budget(user, service, _budget_lines(lines.cleaned_data["lines"]))
                messages.success(request, _("Uncertainty budget saved: u_rel %(u).2f %%, k = %(k).2f.")
                                 % {"u": found.uc * 100, "k": found.k})
                return redirect("lims:setup")
            elif which == "spec":
                spec = SpecificationForm(request.POST)
                if spec.is_valid():
                    d = spec.cleaned_data
                    obj = TestObject.objects.filter(name=d["test_object"].strip()).first()
                    parameter = Parameter.objects.filter(name=d["parameter"].strip()).first()
                    if obj is None or parameter is None:
                        raise ValidationError(_("Unknown object or parameter."))
                    lab_setup.save_specification(user, institution, d["name"], obj, parameter.pk, d["unit"],
                                                d["lower"], d["upper"], d["reason"])
                    messages.success(request, _("Saved."))
                    return redirect("lims:setup")
                forms_["spec"] = spec
        except (ValidationError, PermissionDenied) as exc:
            refused(request, exc)
    budgets = []
    for s in services_.prefetch_related("uncertainty_budget"):
        method = gates.method_budget(s)
        budgets.append((s, method, 100 * method.uc if method else None))
    return render(request, "lims/setup.html", {
        **forms_, "services": services_, "budgets": budgets,
        "grants": MethodAuthorization.objects.filter(user__institution_id=institution_id).select_related(
            "user", "standard").order_by("user__username"),
        "specs": Specification.objects.filter(institution_id=institution_id).select_related("test_object",
                                                                                            "parameter"),
    }, status=400 if request.method == "POST" else 200)


def _budget_lines(text: str) -> list[budget.Input]:
    """One input per line: `source, distribution, relative %, degrees of freedom` (the last may be blank)."""
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.replace("\uff0c", ",").split(",")]  # full-width commas too
        if len(parts) not in (3, 4):
            raise ValidationError(f"第 {number} 行:应为“来源, 分布, 相对值%, 自由度”")
        try:
            relative = parse_finite(parts[2].rstrip("%"))
            dof = int(parts[3]) if len(parts) == 4 and parts[3] else None
        except NotFinite as exc:
            raise ValidationError(f"第 {number} 行：相对值含 NaN 或无穷大，不是有限数值") from exc
        except ValueError as exc:
            raise ValidationError(f"第 {number} 行:相对值或自由度不是数") from exc
        if relative < 0:
            raise ValidationError(f"第 {number} 行：相对值不能为负")
        if dof is not None and dof < 1:
            raise ValidationError(f"第 {number} 行：自由度至少为 1（不填表示无穷大）")
        rows.append(budget.Input(parts[0], parts[1], relative, dof))
    if not rows:
        raise ValidationError("不确定度预算至少要有一行")
    return rows


# ---------------------------------------------------------------- instrument files


def _parse_columns(text: str) -> dict[str, str]:
    """One line per result column: `header => keyword`."""
    columns = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        header, sep, keyword = line.rpartition("=>")
        if not sep or not header.strip() or not keyword.strip():
            raise ValidationError(_("Each line is: column header => keyword (%(line)s)") % {"line": line.strip()})
        columns[header.strip()] = keyword.strip()
    return columns


@login_required
def instrument_files(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Saved mappings of the lab's instrument exports, and the upload of a file through one of them."""
    institution_id = _institution_id(request)
    errors: list[str] = []
    if request.method == "POST":
        try:
            if request.POST.get("form") == "mapping":
                mapping_form = MappingForm(request.POST)
                if not mapping_form.is_valid():
                    raise ValidationError(form_messages(mapping_form))
                d = mapping_form.cleaned_data
                instrument = get_object_or_404(Instrument, pk=d["instrument"], institution_id=institution_id)
                lab_setup.save_mapping(request.user, instrument, d["name"], d["sample_column"],
                                       _parse_columns(d["columns"]), d["type_column"], d["sample_types"].split(","))
                messages.success(request, _("Saved."))
                return redirect("lims:instrument_files")
            mapping = get_object_or_404(InstrumentMapping, pk=posted_id(request.POST, "mapping"),
                                        institution_id=institution_id)
            upload = request.FILES.get("file")
            if upload is None:
                raise ValidationError(_("Choose a file."))
            reason = ReasonForm(request.POST)
            if not reason.is_valid():
                raise ValidationError(form_messages(reason))
            summary = import_results(request.user, mapping, upload.name or "upload", upload.read(),
                                     reason.cleaned_data["reason"])
            messages.success(request, _("%(results)d results imported, %(calculated)d calculated.") % {
                "results": summary.results, "calculated": summary.calculated})
            return redirect("lims:instrument_files")
        except ImportRejected as exc:
            errors = [str(e) for e in exc.errors]
        except (ValidationError, PermissionDenied) as exc:
            errors = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
    return render(request, "lims/instrument_files.html", {
        "mappings": InstrumentMapping.objects.filter(institution_id=institution_id).select_related("instrument"),
        "instruments": Instrument.objects.filter(institution_id=institution_id).order_by("name"),
        "errors": errors,
    }, status=422 if errors else 200)
