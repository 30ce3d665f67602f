from __future__ import annotations

from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from opentic.registry.models import Institution, Instrument, ScopeLine


def home(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    valid = Institution.objects.valid_on(today)
    return render(request, "core/home.html", {
        "valid_count": valid.count(),
        "line_count": ScopeLine.objects.valid_on(today).filter(institution__in=valid).count(),
        "shared_count": Instrument.objects.filter(Q(shared=True), institution__in=valid).count(),
    })


def start(request: HttpRequest) -> HttpResponse:
    """Where a user lands after signing in: the lab's staff on their worklist, the regulator on the register,
    everyone else on the home page. URLs by name only: core does not import the apps above it."""
    user = request.user
    if getattr(user, "institution_id", None):
        return redirect("lims:work")
    if getattr(user, "is_regulator", False):
        return redirect("registry:list")
    return redirect("core:home")
