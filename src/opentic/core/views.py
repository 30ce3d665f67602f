from __future__ import annotations

from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
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
