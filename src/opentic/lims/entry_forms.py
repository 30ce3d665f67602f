"""Forms of the daily work on a sample and a bench: receipt, result entry, verification, a new worksheet.

Every POST of these pages goes through one, so a malformed value (a version that is not a number, an id of
another lab, "1e999" as a count) is refused with a message instead of reaching int() or the database.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from opentic.core.api_schemas import MAX_ID
from opentic.registry.models import Instrument, InstrumentStatus

from .models import Analysis, AnalysisService, ReferenceMaterial, Sample

MAX_VERSION = 2**31 - 1  # versions are integer columns; a larger number is malformed, not a conflict


def _choices(form: forms.Form, name: str) -> forms.ModelChoiceField[Any]:
    return cast("forms.ModelChoiceField[Any]", form.fields[name])


def _version(required: bool = False) -> forms.IntegerField:
    return forms.IntegerField(required=required, min_value=0, max_value=MAX_VERSION, widget=forms.HiddenInput)


class ReceiveForm(forms.Form):
    condition = forms.CharField(label=_("condition on receipt"), max_length=300, required=False)
    reason = forms.CharField(label=_("reason (to reject)"), max_length=300, required=False)
    decision = forms.ChoiceField(choices=[("accept", _("Receive")), ("reject", _("Reject"))], required=False)
    version = _version()


class ResultForm(forms.Form):
    value = forms.CharField(label=_("result"), max_length=40, required=False)
    uncertainty = forms.CharField(label="U", max_length=40, required=False)
    instrument = forms.ModelChoiceField(label=_("instrument"), queryset=Instrument.objects.none(), required=False)
    reason = forms.CharField(label=_("reason for the change"), max_length=300, required=False)
    version = _version()

    def __init__(self, institution_id: int, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choices(self, "instrument").queryset = Instrument.objects.filter(institution_id=institution_id)


class VerifyForm(forms.Form):
    # none chosen is the service's refusal to word ("请选择要审核的结果"), not the form's
    analysis = forms.TypedMultipleChoiceField(label=_("results to verify"), coerce=int, choices=[], required=False)
    password = forms.CharField(label=_("electronic signature password"), max_length=128, strip=False)

    def __init__(self, sample: Sample, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["analysis"]).choices = [
            (pk, str(pk)) for pk in Analysis.objects.filter(sample=sample).values_list("pk", flat=True)]


class WorksheetForm(forms.Form):
    service = forms.ModelChoiceField(label=_("method"), queryset=AnalysisService.objects.none())
    instrument = forms.ModelChoiceField(label=_("instrument"), queryset=Instrument.objects.none())
    limit = forms.IntegerField(label=_("pending analyses, at most"), min_value=1, max_value=1000, required=False)
    blanks = forms.IntegerField(label=_("blanks"), min_value=0, max_value=5, required=False)
    duplicate = forms.BooleanField(label=_("duplicate of the first sample"), required=False)
    reference_material = forms.ModelChoiceField(label=_("control or reference material"),
                                                queryset=ReferenceMaterial.objects.none(), required=False)

    def __init__(self, institution_id: int, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        _choices(self, "service").queryset = AnalysisService.objects.filter(institution_id=institution_id)
        _choices(self, "instrument").queryset = Instrument.objects.filter(
            institution_id=institution_id, status=InstrumentStatus.IN_SERVICE, calibration_due__gte=today)
        _choices(self, "reference_material").queryset = ReferenceMaterial.objects.filter(
            institution_id=institution_id, expires_on__gte=today)


def form_errors(form: forms.Form) -> list[str]:
    """The form's refusals as lines a page shows: the field's label, then what is wrong with it."""
    lines = []
    for name, errors in form.errors.items():
        field = form.fields.get(name)
        label = str(field.label) if field is not None and field.label else name
        lines += [f"{label}:{e}" for e in errors]
    return lines


class ReasonForm(forms.Form):
    """The reason a page asks for beside an action (a retest, a revocation, a change of results)."""

    reason = forms.CharField(label=_("reason"), max_length=300, required=False)


class CorrectiveActionForm(forms.Form):
    corrective_action = forms.CharField(label=_("Corrective action"), max_length=2000, required=False)


class ControlTargetForm(forms.Form):
    # The numbers are parsed by the service (GB/T 8170 decimals, with its own messages).
    service = forms.IntegerField(min_value=1, max_value=MAX_ID)
    material = forms.IntegerField(min_value=1, max_value=MAX_ID)
    mean = forms.CharField(label=_("target mean"), max_length=40)
    sd = forms.CharField(label="s", max_length=40)


class BudgetLinesForm(forms.Form):
    lines = forms.CharField(max_length=5000, required=False)


class MappingForm(forms.Form):
    instrument = forms.IntegerField(min_value=1, max_value=MAX_ID)
    name = forms.CharField(label=_("name"), max_length=100)
    sample_column = forms.CharField(label=_("lab number column"), max_length=100)
    columns = forms.CharField(label=_("result columns"), max_length=5000)
    type_column = forms.CharField(label=_("row type column"), max_length=100, required=False)
    sample_types = forms.CharField(label=_("row types that are samples"), max_length=500, required=False)
