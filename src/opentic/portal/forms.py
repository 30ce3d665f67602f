from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from opentic.portal.finder import MAX_QUERY_LENGTH, FinderQuery
from opentic.registry.filters import PlaceFilterForm


class FinderForm(PlaceFilterForm):
    q = forms.CharField(label=_("What do you need tested?"), required=False, max_length=MAX_QUERY_LENGTH)
    page = forms.IntegerField(required=False, min_value=1, max_value=1000, widget=forms.HiddenInput)

    def to_query(self) -> FinderQuery:
        d = self.cleaned_data
        return FinderQuery(
            q=d.get("q") or "", region=d.get("region") or "",
            district=d["district"].code if d.get("district") else "",
            unit=d["unit"].code if d.get("unit") else "",
            domain=d["domain"].code if d.get("domain") else "",
            page=d.get("page") or 1,
        )
