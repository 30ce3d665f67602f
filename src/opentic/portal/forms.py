from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from opentic.portal.finder import MAX_QUERY_LENGTH, FinderQuery
from opentic.registry.models import District, Domain, SpatialUnit


class FinderForm(forms.Form):
    q = forms.CharField(label=_("What do you need tested?"), required=False, max_length=MAX_QUERY_LENGTH)
    region = forms.ChoiceField(label=_("Region"), required=False)
    district = forms.ModelChoiceField(label=_("District"), required=False, queryset=District.objects.all(),
                                      empty_label="—")
    unit = forms.ModelChoiceField(label=_("Cluster, zone or base"), required=False,
                                  queryset=SpatialUnit.objects.all(), empty_label="—")
    domain = forms.ModelChoiceField(label=_("Domain"), required=False, queryset=Domain.objects.all(), empty_label="—")
    page = forms.IntegerField(required=False, min_value=1, max_value=1000, widget=forms.HiddenInput)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        regions = District.objects.order_by().values_list("region", flat=True).distinct()
        self.fields["region"].choices = [("", "—"), *((r, r) for r in sorted(regions))]  # type: ignore[attr-defined]

    def to_query(self) -> FinderQuery:
        d = self.cleaned_data
        return FinderQuery(
            q=d.get("q") or "", region=d.get("region") or "",
            district=d["district"].code if d.get("district") else "",
            unit=d["unit"].code if d.get("unit") else "",
            domain=d["domain"].code if d.get("domain") else "",
            page=d.get("page") or 1,
        )
