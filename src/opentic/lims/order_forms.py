"""The forms of orders and of registering an order's samples."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext_lazy as _

from opentic.registry.codes import CodeError, normalize_credit_code

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
    _Choices = forms.ModelMultipleChoiceField[AnalysisService]
else:  # the stubs make the field generic; Django's class is not subscriptable at run time
    _Choices = forms.ModelMultipleChoiceField


class ServiceChoices(_Choices):
    def label_from_instance(self, obj: AnalysisService) -> str:
        return f"{obj.parameter.name}（{obj.standard.full_code}）"


class TestsForm(forms.Form):
    services = ServiceChoices(label=_("tests"), queryset=AnalysisService.objects.none(),
                                              widget=forms.CheckboxSelectMultiple)
    allow_non_accredited = forms.BooleanField(label=_("allow tests outside the accredited scope (marked so)"),
                                              required=False)

    def __init__(self, institution_id: int, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        services = self.fields["services"]
        assert isinstance(services, forms.ModelMultipleChoiceField)
        services.queryset = AnalysisService.objects.filter(institution_id=institution_id).select_related(
            "parameter", "standard").order_by("parameter__name", "id")
