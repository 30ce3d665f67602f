"""The laboratory's audit trail, for its own staff: every change in its LIMS, filtered by sample, action,
person and date, as a person reads it (core.history). The register's page shows only the register's events."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from opentic.core import audit, history
from opentic.core.models import AuditEvent
from opentic.core.permissions import lab_of

from .models import Sample


class TrailFilterForm(forms.Form):
    sample = forms.CharField(label=_("Sample (lab number)"), required=False, max_length=30)
    action = forms.ChoiceField(label=_("Action"), required=False)
    person = forms.CharField(label=_("Person (user name)"), required=False, max_length=150)
    since = forms.DateField(label=_("Since"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", "—"), *history.action_choices()]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if isinstance(since, dt.date) and isinstance(until, dt.date) and until < since:
            self.add_error("until", _("The end date is before the start date."))
        return data


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time()))


def sample_events(institution_id: int, sample: Sample) -> QuerySet[AuditEvent]:
    ids = [str(i) for i in sample.analyses.values_list("pk", flat=True)]
    return AuditEvent.objects.filter(chain=audit.chain_key(institution_id)).filter(
        Q(entity="lims.Sample", entity_id=str(sample.pk)) | Q(entity="lims.Analysis", entity_id__in=ids))


def filtered(institution_id: int, data: dict[str, object]) -> tuple[QuerySet[AuditEvent], bool]:
    """The lab's events matching the filter, and whether a named sample was found."""
    events = AuditEvent.objects.filter(chain=audit.chain_key(institution_id))
    found = True
    if number := str(data.get("sample") or "").strip():
        sample = Sample.objects.filter(institution_id=institution_id, lab_number=number).first()
        found = sample is not None
        events = sample_events(institution_id, sample) if sample is not None else events.none()
    if data.get("action"):
        events = events.filter(action=data["action"])
    if person := str(data.get("person") or "").strip():
        events = events.filter(actor_label=person)
    if isinstance(since := data.get("since"), dt.date):
        events = events.filter(at__gte=_local_midnight(since))
    if isinstance(until := data.get("until"), dt.date):  # the whole last day, in Chongqing
        events = events.filter(at__lt=_local_midnight(until + dt.timedelta(days=1)))
    return events, found


@login_required
def trail(request: HttpRequest) -> HttpResponse:
    institution_id = lab_of(request.user)
    form = TrailFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    events, found = filtered(institution_id, data) if not form.errors else (AuditEvent.objects.none(), True)
    page, described = history.page_of(events, request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "lims/trail.html", {
        "form": form, "page": page, "events": described, "query": query.urlencode(), "sample_found": found,
    }, status=400 if form.errors else 200)
