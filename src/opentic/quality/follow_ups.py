"""The regulator's follow-up list: every unsatisfactory PT result opens a follow-up for its institution
(pt.publish_round); here the regulator sees them per institution, with their state, until each is closed
with its corrective action."""

from __future__ import annotations

from dataclasses import dataclass, field

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from opentic.core.permissions import is_regulator
from opentic.registry.models import Institution

from .models import FollowUp


class FollowUpFilterForm(forms.Form):
    state = forms.ChoiceField(label=_("state"), required=False,
                              choices=[("", _("all")), *FollowUp.State.choices])
    q = forms.CharField(label=_("Institution name or credit code"), required=False, max_length=100)


@dataclass
class InstitutionFollowUps:
    institution: Institution
    rows: list[FollowUp] = field(default_factory=list)

    @property
    def open(self) -> int:
        return sum(1 for f in self.rows if f.state == FollowUp.State.OPEN)


def grouped(follow_ups: QuerySet[FollowUp]) -> list[InstitutionFollowUps]:
    """Per institution, the ones with open follow-ups first (most open first), then by name."""
    groups: dict[int, InstitutionFollowUps] = {}
    for f in follow_ups.select_related("institution", "participation__round__scheme").order_by("-opened_at"):
        groups.setdefault(f.institution_id, InstitutionFollowUps(f.institution)).rows.append(f)
    return sorted(groups.values(), key=lambda g: (-g.open, g.institution.name))


@login_required
def follow_ups(request: HttpRequest) -> HttpResponse:
    if not is_regulator(request.user):
        raise PermissionDenied
    form = FollowUpFilterForm(request.GET or {"state": FollowUp.State.OPEN})
    queryset = FollowUp.objects.all()
    if form.is_valid():
        if form.cleaned_data["state"]:
            queryset = queryset.filter(state=form.cleaned_data["state"])
        if q := form.cleaned_data["q"].strip():
            queryset = queryset.filter(institution__name__contains=q) | queryset.filter(
                institution__credit_code=q.upper())
    groups = grouped(queryset) if form.is_valid() else []
    return render(request, "quality/follow_ups.html", {
        "form": form, "groups": groups, "open_total": FollowUp.objects.filter(state=FollowUp.State.OPEN).count(),
    }, status=200 if form.is_valid() else 400)
