"""Public pages: no sign-in, rate-limited per client."""

from __future__ import annotations

from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from opentic.core.ratelimit import rate_limited, too_many
from opentic.ledger.models import NotAccepted
from opentic.portal.finder import FinderError, find
from opentic.portal.forms import FinderForm
from opentic.registry.models import Institution, Instrument, ScopeLine


def home(request: HttpRequest) -> HttpResponse:
    """The platform's front page, with the register's counts of today."""
    today = timezone.localdate()
    valid = Institution.objects.valid_on(today)
    return render(request, "portal/home.html", {
        "valid_count": valid.count(),
        "line_count": ScopeLine.objects.valid_on(today).filter(institution__in=valid).count(),
        "shared_count": Instrument.objects.filter(Q(shared=True), institution__in=valid).count(),
    })


def not_accepted_now(institution_ids: list[int]) -> dict[int, NotAccepted]:
    """The open 失信 periods (the regulator does not accept the institution's results) of these institutions."""
    now = timezone.now()
    periods = NotAccepted.objects.filter(institution_id__in=institution_ids, start__lte=now).exclude(end__lte=now)
    return {p.institution_id: p for p in periods.order_by("start")}


def find_lab(request: HttpRequest) -> HttpResponse:
    if rate_limited(request, "finder"):
        return too_many(request)
    form = FinderForm(request.GET or None)
    result = None
    error = ""
    if request.GET and form.is_valid():
        try:
            result = find(form.to_query())
        except FinderError as exc:
            error = str(exc)
    elif request.GET:
        error = _("Please correct the search form.")
    template = "portal/_results.html" if request.headers.get("HX-Request") else "portal/find.html"
    distrusted = not_accepted_now([hit.institution.pk for hit in result.hits]) if result else {}
    return render(request, template, {"form": form, "result": result, "error": error, "distrusted": distrusted},
                  status=400 if error else 200)


def lab(request: HttpRequest, pk: int) -> HttpResponse:
    """An institution's public page: what it is accredited for today, and its shared instruments."""
    if rate_limited(request, "lab"):
        return too_many(request)
    today = timezone.localdate()
    institution = Institution.objects.select_related("district").filter(pk=pk).first()
    if institution is None:
        raise Http404
    lines = (institution.scope_lines.valid_on(today).select_related("test_object", "parameter", "standard")
             .order_by("field", "category", "seq"))
    return render(request, "portal/lab.html", {
        "institution": institution, "valid": institution.is_valid_on(today), "lines": lines,
        "not_accepted": not_accepted_now([institution.pk]).get(institution.pk),
        "units": institution.spatial_units(),
        "shared": institution.instruments.filter(shared=True).order_by("name"),
    })
