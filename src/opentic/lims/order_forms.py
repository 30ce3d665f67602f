"""The forms of orders and of registering an order's samples."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext_lazy as _

from opentic.registry.codes import CodeError, normalize_credit_code
from opentic.registry.models import Instrument

from .models import DECISION_RULES, AnalysisService, Client, Order

DATE = forms.DateInput(attrs={"type": "date"})


class ClientForm(forms.Form):
    name = forms.CharField(label=_("client name"), max_length=200)
    kind = forms.ChoiceField(label=_("kind"), choices=Client.Kind.choices, initial=Client.Kind.ENTERPRISE)
    credit_code = forms.CharField(label=_("unified social credit code"), max_length=18, required=False)
    contact = forms.CharField(label=_("contact"), max_length=60, required=False)
    phone = forms.CharField(label=_("phone"), max_length=40, required=False)
    address = forms.CharField(label=_("address"), max_length=200, required=False)

    def clean_credit_code(self) -> str:
        code: str = self.cleaned_data["credit_code"].strip()
        if not code:
            return ""
        try:
            return normalize_credit_code(code)
        except CodeError as exc:
            raise forms.ValidationError(str(exc)) from exc


class OrderForm(forms.Form):
    client = forms.ModelChoiceField(label=_("client"), queryset=Client.objects.none(), required=False,
                                    empty_label=_("— a new client (below) —"))
    number = forms.CharField(label=_("order number"), max_length=40)
    kind = forms.ChoiceField(label=_("kind of testing"), choices=Order.Kind.choices)
    received_on = forms.DateField(label=_("order date"), widget=DATE)
    due_on = forms.DateField(label=_("due date"), widget=DATE, required=False)
    methods_agreed = forms.CharField(label=_("methods agreed with the client"), max_length=300, required=False)
    judgement_basis = forms.MultipleChoiceField(
        label=_("judgement basis (product standards)"), required=False, widget=forms.CheckboxSelectMultiple,
        help_text=_("None chosen: the report gives results only, without a statement of conformity."))
    decision_rule = forms.ChoiceField(label=_("decision rule agreed with the client"), choices=DECISION_RULES)
    subcontracted = forms.CharField(label=_("subcontracted items"), max_length=300, required=False)
    subcontractor = forms.CharField(label=_("subcontractor"), max_length=200, required=False)
    subcontract_consent = forms.BooleanField(label=_("the client consents to subcontracting"), required=False)
    note = forms.CharField(label=_("note"), max_length=500, required=False)

    def __init__(self, institution_id: int, basis: list[str], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        client = self.fields["client"]
        assert isinstance(client, forms.ModelChoiceField)
        client.queryset = Client.objects.filter(institution_id=institution_id).order_by("name")
        judgement = self.fields["judgement_basis"]
        assert isinstance(judgement, forms.MultipleChoiceField)
        judgement.choices = [(b, b) for b in basis]


class ObjectForm(forms.Form):
    """Step one of registering samples: the object, from which the tests are proposed."""

    test_object = forms.CharField(label=_("object"), max_length=100)


class SampleRowForm(forms.Form):
    """One sample of an order, with its sampling block (shown when the lab sampled)."""

    name = forms.CharField(label=_("sample name"), max_length=200)
    description = forms.CharField(label=_("description"), max_length=500, required=False)
    quantity = forms.CharField(label=_("sample quantity"), max_length=60, required=False)
    model_spec = forms.CharField(label=_("specification / model"), max_length=100, required=False)
    trademark = forms.CharField(label=_("trademark"), max_length=100, required=False)
    batch_number = forms.CharField(label=_("batch number"), max_length=60, required=False)
    production_date = forms.DateField(label=_("production date"), widget=DATE, required=False)
    manufacturer = forms.CharField(label=_("nominal manufacturer"), max_length=200, required=False)
    sampled_on = forms.DateField(label=_("sampling date"), widget=DATE, required=False)
    sampler = forms.CharField(label=_("sampler"), max_length=60, required=False)
    sampling_place = forms.CharField(label=_("sampling place"), max_length=200, required=False)
    sampled_unit = forms.CharField(label=_("sampled unit"), max_length=200, required=False)


SampleRows = forms.formset_factory(SampleRowForm, extra=0, min_num=1, max_num=50, validate_min=True,
                                   validate_max=True)


if TYPE_CHECKING:
    _Choices = forms.ModelMultipleChoiceField[Any]
else:  # the stubs make the field generic; Django's class is not subscriptable at run time
    _Choices = forms.ModelMultipleChoiceField


class Choices(_Choices):
    """Checkboxes of model rows, each labelled by a function of the row."""

    def __init__(self, label_of: Callable[[Any], str], **kwargs: Any) -> None:
        self.label_of = label_of
        super().__init__(**kwargs)

    def label_from_instance(self, obj: Any) -> str:
        return self.label_of(obj)


class TestsForm(forms.Form):
    services = Choices(lambda s: f"{s.parameter.name}（{s.standard.full_code}）", label=_("tests"),
                       queryset=AnalysisService.objects.none(), widget=forms.CheckboxSelectMultiple)
    allow_non_accredited = forms.BooleanField(label=_("allow tests outside the accredited scope (marked so)"),
                                              required=False)

    def __init__(self, institution_id: int, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        services = self.fields["services"]
        assert isinstance(services, forms.ModelMultipleChoiceField)
        services.queryset = AnalysisService.objects.filter(institution_id=institution_id).select_related(
            "parameter", "standard").order_by("parameter__name", "id")


class MethodRulesForm(forms.Form):
    """A method's QC policy, plausible range, formula inputs and instruments."""

    qc_batch_size = forms.IntegerField(label=_("QC batch size (samples)"), min_value=1, max_value=1000,
                                       required=False)
    qc_blanks = forms.IntegerField(label=_("blanks per batch"), min_value=0, max_value=10, initial=0)
    qc_controls = forms.IntegerField(label=_("controls per batch"), min_value=0, max_value=10, initial=0)
    qc_duplicates = forms.IntegerField(label=_("duplicates per batch"), min_value=0, max_value=10, initial=0)
    plausible_min = forms.DecimalField(label=_("plausible minimum"), required=False, max_digits=20,
                                       decimal_places=10, help_text=_("blank: no lower bound (e.g. negative "
                                                                      "values allowed)"))
    plausible_max = forms.DecimalField(label=_("plausible maximum"), required=False, max_digits=20,
                                       decimal_places=10)
    out_of_range = forms.ChoiceField(label=_("outside the plausible range"),
                                     choices=[("refuse", _("refuse the value")), ("flag", _("accept with a remark"))])
    inputs = forms.CharField(label=_("formula inputs: one per line, keyword, label, unit"), required=False,
                             widget=forms.Textarea(attrs={"rows": 3, "cols": 40, "placeholder": "m, 称样量, g"}),
                             max_length=2000)
    instruments = Choices(lambda i: f"{i.asset_number} {i.name}", label=_("instruments"),
                          queryset=Instrument.objects.none(), required=False, widget=forms.CheckboxSelectMultiple)
    reason = forms.CharField(label=_("reason for the change"), max_length=300, required=False)

    def __init__(self, institution_id: int, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["instruments"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = Instrument.objects.filter(institution_id=institution_id).order_by("asset_number")
