"""Proficiency testing pages: the provider's schemes and rounds, the participant's submissions, scores,
reports, appeals and follow-ups. Thin: every change is a call to `pt.py`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from opentic.core.feedback import attempt, posted_id, refused
from opentic.core.http import AuthenticatedHttpRequest
from opentic.core.permissions import is_regulator
from opentic.numerics.stats.checks import NotFinite, parse_finite
from opentic.registry.models import Institution, Parameter, ScopeLine, TestObject

from . import pt, reporting
from .models import Appeal, FollowUp, Participation, Round, Scheme


def managed_schemes(user: Any) -> QuerySet[Scheme]:
    if is_regulator(user):
        return Scheme.objects.all()
    if getattr(user, "institution_id", None) and user.has_role("institution_admin"):
        return Scheme.objects.filter(provider_id=user.institution_id)
    return Scheme.objects.none()


def _round(request: HttpRequest, pk: int) -> tuple[Round, bool, Participation | None]:
    """The round, whether this user manages it, and this user's participation; 404 for anyone else."""
    r = get_object_or_404(Round.objects.select_related("scheme__parameter", "scheme__test_object"), pk=pk)
    manager = pt.can_manage(request.user, r.scheme)
    institution_id = getattr(request.user, "institution_id", None)
    mine = r.participations.filter(institution_id=institution_id).first() if institution_id else None
    if not manager and mine is None:
        raise Http404
    return r, manager, mine


@login_required
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    schemes = managed_schemes(user).select_related("parameter", "provider").prefetch_related("rounds")
    institution_id = getattr(user, "institution_id", None)
    mine = Participation.objects.filter(institution_id=institution_id).select_related(
        "round__scheme").order_by("-round__deadline") if institution_id else Participation.objects.none()
    follow_ups = FollowUp.objects.filter(institution_id=institution_id).select_related(
        "participation__round__scheme") if institution_id else FollowUp.objects.none()
    if request.method == "POST" and is_regulator(user):
        try:
            scheme = pt.create_scheme(
                user, request.POST.get("code", ""), request.POST.get("name", ""),
                get_object_or_404(Parameter, pk=posted_id(request.POST, "parameter")),
                get_object_or_404(TestObject, pk=posted_id(request.POST, "test_object")), request.POST.get("unit", ""),
                Institution.objects.filter(pk=posted_id(request.POST, "provider")).first()
                if request.POST.get("provider") else None)
            messages.success(request, _("Scheme %(code)s created.") % {"code": scheme.code})
        except (ValidationError, PermissionDenied) as exc:
            refused(request, exc)
        return redirect("quality:pt")
    return render(request, "quality/home.html", {
        "schemes": schemes, "mine": mine, "follow_ups": follow_ups, "regulator": is_regulator(user),
        "parameters": Parameter.objects.order_by("name")[:500] if is_regulator(user) else [],
        "objects": TestObject.objects.order_by("name")[:500] if is_regulator(user) else [],
        "round_choices": {"assigned": Round.AssignedValue.choices, "sigma": Round.Sigma.choices,
                          "score": Round.ScoreKind.choices},
    })


def _items(raw: str) -> list[tuple[str, str]]:
    """“A 大米粉 A; B 大米粉 B” → [(A, 大米粉 A), (B, 大米粉 B)]."""
    out = []
    for part in raw.replace("\uff1b", ";").split(";"):  # full-width semicolons too
        code, _, description = part.strip().partition(" ")
        if code:
            out.append((code, description))
    return out


@login_required
@require_POST
def new_round(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    scheme = get_object_or_404(managed_schemes(request.user), pk=pk)
    try:
        deadline = dt.date.fromisoformat(request.POST.get("deadline", ""))
    except ValueError:
        messages.error(request, _("The deadline is not a date (YYYY-MM-DD)."))
        return redirect("quality:pt")
    settings = pt.RoundSettings(**{k: request.POST.get(k, "") or getattr(pt.RoundSettings, k) for k in (
        "assigned_method", "sigma_method", "sigma_value", "score_kind", "reference_value", "reference_uncertainty")})
    try:
        r = pt.create_round(request.user, scheme, request.POST.get("number", ""), deadline,
                            _items(request.POST.get("items", "")), settings)
        return redirect("quality:round", pk=r.pk)
    except (ValidationError, PermissionDenied) as exc:
        refused(request, exc)
    return redirect("quality:pt")


@login_required
def round_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    r, manager, mine = _round(request, pk)
    return render(request, "quality/round.html", reporting.round_context(r, manager, mine, request.user))


@login_required
@require_POST
def round_action(request: AuthenticatedHttpRequest, pk: int, action: str) -> HttpResponse:
    r, _manager, _mine = _round(request, pk)
    actions = {"open": pt.open_round, "close": pt.close_round, "evaluate": pt.evaluate_round,
               "publish": pt.publish_round}
    if action not in actions:
        raise Http404
    attempt(request, _("Done."), lambda: actions[action](request.user, r))
    return redirect("quality:round", pk=r.pk)


@login_required
@require_POST
def invite(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Invite by credit code, one per line, and/or every institution accredited for the scheme's parameter."""
    r, _manager, _mine = _round(request, pk)
    codes = [c.strip().upper() for c in request.POST.get("credit_codes", "").split() if c.strip()]
    found = list(Institution.objects.filter(credit_code__in=codes))
    unknown = sorted(set(codes) - {i.credit_code for i in found})
    if unknown:
        messages.error(request, _("Unknown credit codes: %(codes)s") % {"codes": ", ".join(unknown)})
        return redirect("quality:round", pk=r.pk)
    if request.POST.get("by_scope"):
        ids = ScopeLine.objects.valid_on(timezone.localdate()).filter(
            parameter_id=r.scheme.parameter_id).values_list("institution_id", flat=True).distinct()
        found += list(Institution.objects.filter(pk__in=ids))
    try:
        rows = pt.invite(request.user, r, found)
        messages.success(request, _("%(count)d institutions invited.") % {"count": len(rows)})
    except (ValidationError, PermissionDenied) as exc:
        refused(request, exc)
    return redirect("quality:round", pk=r.pk)


def _numbers(text: str, what: str) -> list[list[float]]:
    """One line per item of measurements separated by spaces or commas; a specific error per bad line."""
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        parts = line.replace("\uff0c", " ").replace(",", " ").split()  # full-width or ASCII commas
        if not parts:
            continue
        try:
            rows.append([parse_finite(p) for p in parts])
        except NotFinite as exc:
            raise ValidationError(f"{what}第 {number} 行：“{line.strip()}”含 NaN 或无穷大，不是有限数值") from exc
        except ValueError as exc:
            raise ValidationError(f"{what}第 {number} 行:“{line.strip()}”不是数值") from exc
    return rows


@login_required
@require_POST
def homogeneity(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    r, manager, _mine = _round(request, pk)
    if not manager:
        raise Http404
    item = get_object_or_404(r.items, pk=posted_id(request.POST, "item"))
    try:
        pairs = _numbers(request.POST.get("pairs", ""), "均匀性数据")
        if any(len(p) != 2 for p in pairs):
            raise ValidationError("均匀性数据每行应为同一样品的两次测定结果")
        later = [v for row in _numbers(request.POST.get("later", ""), "稳定性数据") for v in row]
        sigma = parse_finite(request.POST.get("sigma_pt") or "0")
        pt.record_homogeneity(request.user, item, pairs, later, sigma)
        messages.success(request, _("Homogeneity of item %(item)s recorded.") % {"item": item.code})
    except NotFinite:
        messages.error(request, _("σ_pt must be a finite number."))
    except ValueError:
        messages.error(request, _("σ_pt is not a number."))
    except (ValidationError, PermissionDenied) as exc:
        refused(request, exc)
    return redirect("quality:round", pk=r.pk)


@login_required
@require_POST
def submit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    r, _manager, mine = _round(request, pk)
    if mine is None:
        raise Http404
    item = get_object_or_404(r.items, pk=posted_id(request.POST, "item"))
    try:
        if request.POST.get("analysis"):
            pt.submit_from_lims(request.user, mine, item, posted_id(request.POST, "analysis"))
        else:
            pt.submit_result(request.user, mine, item, request.POST.get("value", ""),
                             request.POST.get("expanded_uncertainty", ""), request.POST.get("coverage_factor", ""),
                             method=request.POST.get("method", ""))
        messages.success(request, _("Result for item %(item)s saved.") % {"item": item.code})
    except (ValidationError, PermissionDenied, ValueError) as exc:
        refused(request, exc)
    return redirect("quality:round", pk=r.pk)


@login_required
@require_POST
def appeal(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    r, _manager, mine = _round(request, pk)
    if mine is None:
        raise Http404
    attempt(request, _("Appeal filed."),
            lambda: pt.file_appeal(request.user, mine, request.POST.get("reason", "")))
    return redirect("quality:round", pk=r.pk)


@login_required
@require_POST
def decide(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    a = get_object_or_404(Appeal.objects.select_related("participation__round__scheme"), pk=pk)
    if not pt.can_manage(request.user, a.participation.round.scheme):
        raise Http404
    attempt(request, _("Appeal decided."), lambda: pt.decide_appeal(
        request.user, a, request.POST.get("upheld") == "1", request.POST.get("decision", "")))
    return redirect("quality:round", pk=a.participation.round_id)


@login_required
@require_POST
def close_follow_up(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    f = get_object_or_404(FollowUp, pk=pk, institution_id=getattr(request.user, "institution_id", None) or 0)
    attempt(request, _("Follow-up closed."), lambda: pt.close_follow_up(
        request.user, f, request.POST.get("corrective_action", "")))
    return redirect("quality:pt")


def _pdf(data: bytes, name: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


@login_required
def round_report(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The round report with its charts: for the provider, and for participants once published."""
    r, manager, _mine = _round(request, pk)
    if not manager and r.state != Round.State.PUBLISHED:
        raise Http404
    return _pdf(reporting.round_pdf(r, None), f"PT-{r.scheme.code}-{r.number}.pdf")


@login_required
def participant_report(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    r, manager, mine = _round(request, pk)
    if r.state != Round.State.PUBLISHED:
        raise Http404
    code = request.GET.get("code")
    target = mine if not (manager and code) else r.participations.filter(code=code).first()
    if target is None:
        raise Http404
    return _pdf(reporting.round_pdf(r, target), f"PT-{r.scheme.code}-{r.number}-{target.code}.pdf")
