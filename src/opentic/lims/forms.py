from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from opentic.core.api_schemas import MAX_ID

from .models import SAMPLE_CHOICES, AnalysisService, Order


class SampleFilterForm(forms.Form):
    q = forms.CharField(label=_("lab number or name"), required=False, max_length=100)
    state = forms.ChoiceField(label=_("state"), required=False,
                              choices=[("", "—"), *SAMPLE_CHOICES])


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


class ServiceForm(forms.Form):
    keyword = forms.SlugField(label=_("keyword"), max_length=30)
    method = forms.ChoiceField(label=_("parameter and method (from the accredited scope)"))
    unit = forms.CharField(label=_("unit"), max_length=20)
    places = forms.IntegerField(label=_("reported decimal places"), min_value=0, max_value=10, initial=2)
    loq = forms.DecimalField(label=_("limit of quantitation"), required=False, min_value=0)
    lod = forms.DecimalField(label=_("limit of detection"), required=False, min_value=0)
    below_loq = forms.ChoiceField(label=_("below the LOQ, report"), choices=[("lt_loq", "<LOQ"), ("nd", "未检出")])
    formula = forms.CharField(label=_("formula"), max_length=500, required=False)
    reason = forms.CharField(label=_("reason for the change"), max_length=300, required=False)

    def __init__(self, methods: list[tuple[str, str]], *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["method"].choices = methods  # type: ignore[attr-defined]


class AuthorizationForm(forms.Form):
    user = forms.ChoiceField(label=_("analyst"))
    standard = forms.ChoiceField(label=_("method"))
    valid_from = forms.DateField(label=_("valid from"))
    valid_until = forms.DateField(label=_("valid until"), required=False)

    def __init__(self, users: list[tuple[str, str]], standards: list[tuple[str, str]], *args: object,
                 **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["user"].choices = users  # type: ignore[attr-defined]
        self.fields["standard"].choices = standards  # type: ignore[attr-defined]


class SpecificationForm(forms.Form):
    name = forms.CharField(label=_("specification"), max_length=100)
    test_object = forms.CharField(label=_("object"), max_length=100)
    parameter = forms.CharField(label=_("parameter"), max_length=100)
    lower = forms.DecimalField(label=_("lower limit"), required=False)
    upper = forms.DecimalField(label=_("upper limit"), required=False)
    unit = forms.CharField(label=_("unit"), max_length=20)
    reason = forms.CharField(label=_("reason for the change"), max_length=300, required=False)


class ResultForm(forms.Form):
    """One result typed on the sample page; the number itself is checked by the service (GB/T 8170 parsing)."""

    value = forms.CharField(max_length=40, required=False)
    uncertainty = forms.CharField(max_length=40, required=False)
    instrument = forms.IntegerField(required=False, min_value=1)
    reason = forms.CharField(max_length=300, required=False)
    version = forms.IntegerField(required=False, min_value=0)


def form_messages(form: forms.Form) -> list[str]:
    """A bound form's errors as sentences naming their field."""
    return [f"{form.fields[name].label or name}：{error}" if name in form.fields else str(error)
            for name, errors in form.errors.items() for error in errors]


class ChooseMethodForm(forms.Form):
    """The method a new worksheet is for, from the query string or the posted form: an id, or nothing chosen
    ("²" passed str.isdigit and then failed int(): a 500)."""

    service = forms.IntegerField(min_value=1, max_value=MAX_ID)


class WorksheetForm(forms.Form):
    service = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    instrument = forms.ChoiceField(label=_("instrument"))
    limit = forms.IntegerField(label=_("pending analyses, at most"), min_value=1, max_value=1000, initial=20)
    blanks = forms.IntegerField(label=_("blanks"), min_value=0, max_value=10, initial=1)
    duplicate = forms.BooleanField(label=_("duplicate of the first sample"), required=False)
    reference_material = forms.ChoiceField(label=_("control or reference material"), required=False)

    def __init__(self, instruments: list[tuple[str, str]], materials: list[tuple[str, str]], *args: Any,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        instrument = self.fields["instrument"]
        material = self.fields["reference_material"]
        assert isinstance(instrument, forms.ChoiceField) and isinstance(material, forms.ChoiceField)
        instrument.choices = instruments
        material.choices = [("", "—"), *materials]


class SampleStateForm(forms.Form):
    """Cancel a sample before testing, or invalidate one whose results must not be used; always with a reason."""

    action = forms.ChoiceField(choices=[("cancel", _("cancel the sample")), ("invalidate", _("invalidate the sample"))])
    reason = forms.CharField(label=_("reason"), max_length=300)
    version = forms.IntegerField(required=False, min_value=0)
