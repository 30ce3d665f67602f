"""The institution filter shared by the regulator's list page, its export and the API."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from opentic.registry import validity
from opentic.registry.models import District, Domain, Institution, InstitutionStatus, Ownership, SpatialUnit


class PlaceFilterForm(forms.Form):
    """Where and in which domain: the filters the register list and the public finder share."""

    region = forms.ChoiceField(label=_("Region"), required=False)
    district = forms.ModelChoiceField(label=_("District"), required=False, queryset=District.objects.all(),
                                      empty_label="—")
    unit = forms.ModelChoiceField(label=_("Cluster, zone or base"), required=False,
                                  queryset=SpatialUnit.objects.all(), empty_label="—")
    domain = forms.ModelChoiceField(label=_("Domain"), required=False, queryset=Domain.objects.all(), empty_label="—")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        regions = District.objects.order_by().values_list("region", flat=True).distinct()
        self.fields["region"].choices = [("", "—"), *((r, r) for r in sorted(regions))]  # type: ignore[attr-defined]


class InstitutionFilterForm(PlaceFilterForm):
    q = forms.CharField(label=_("Name, credit code or CMA number"), required=False, max_length=100)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", "—"), *InstitutionStatus.choices])
    ownership = forms.ChoiceField(label=_("Ownership"), required=False, choices=[("", "—"), *Ownership.choices])
    expiring = forms.BooleanField(label=_("Certificate ends within 3 months"), required=False)
    field_order = ["q", "status", "expiring", "region", "district", "unit", "domain", "ownership"]


def filter_institutions(queryset: QuerySet[Institution], data: dict[str, Any]) -> QuerySet[Institution]:
    """Apply cleaned filter values (from the form or the API) to a queryset of institutions."""
    if q := (data.get("q") or "").strip():
        queryset = queryset.filter(Q(name__contains=q) | Q(credit_code=q.upper()) | Q(cma_number=q))
    if data.get("status"):  # the status today: an ended certificate is 过期 (registry.validity)
        queryset = validity.filter_status(queryset, data["status"])
    if data.get("expiring"):
        queryset = validity.filter_expiring(queryset)
    if data.get("region"):
        queryset = queryset.filter(district__region=data["region"])
    if data.get("district"):
        queryset = queryset.filter(district=data["district"])
    if data.get("domain"):
        queryset = queryset.filter(domains=data["domain"])
    if data.get("ownership"):
        queryset = queryset.filter(ownership=data["ownership"])
    if data.get("unit"):
        queryset = queryset.filter(pk__in=Institution.objects.in_spatial_unit(data["unit"]).values("pk"))
    return queryset


class StatusChangeForm(forms.Form):
    status = forms.ChoiceField(label=_("New status"), choices=InstitutionStatus.choices)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label=_("What to import"), choices=[
        ("institutions", _("Institutions")), ("scope", _("Accredited scope")),
        ("staff", _("Staff and signatories")), ("instruments", _("Instruments")),
    ])
    file = forms.FileField(label=_("File (.xlsx or .csv)"))
