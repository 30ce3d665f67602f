from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .lifecycle import SAMPLE_LABELS, SampleState
from .models import AnalysisService, Order


class SampleFilterForm(forms.Form):
    q = forms.CharField(label=_("lab number or name"), required=False, max_length=100)
    state = forms.ChoiceField(label=_("state"), required=False,
                              choices=[("", "—"), *((s.value, SAMPLE_LABELS[s]) for s in SampleState)])


class RegisterForm(forms.Form):
    order = forms.ModelChoiceField(label=_("order"), queryset=Order.objects.none())
    name = forms.CharField(label=_("sample name"), max_length=200)
    test_object = forms.CharField(label=_("object"), max_length=100)
    services = forms.ModelMultipleChoiceField(label=_("tests"), queryset=AnalysisService.objects.none())
    batch_number = forms.CharField(label=_("batch number"), max_length=60, required=False)
    production_date = forms.DateField(label=_("production date"), required=False)
    allow_non_accredited = forms.BooleanField(label=_("allow tests outside the accredited scope (marked so)"),
                                              required=False)

    def __init__(self, institution_id: int, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["order"].queryset = Order.objects.filter(institution_id=institution_id)  # type: ignore[attr-defined]
        self.fields["services"].queryset = AnalysisService.objects.filter(  # type: ignore[attr-defined]
            institution_id=institution_id).select_related("parameter", "standard")


class UploadForm(forms.Form):
    order = forms.ModelChoiceField(label=_("order"), queryset=Order.objects.none())
    file = forms.FileField(label=_("File (.xlsx or .csv)"))
    allow_non_accredited = forms.BooleanField(label=_("allow tests outside the accredited scope (marked so)"),
                                              required=False)

    def __init__(self, institution_id: int, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["order"].queryset = Order.objects.filter(institution_id=institution_id)  # type: ignore[attr-defined]
