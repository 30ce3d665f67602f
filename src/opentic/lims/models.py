"""A laboratory's daily work: clients and orders, samples, the analyses requested on them and their results.

Every row belongs to one institution (directly or through its sample), and every change goes through
`services.py`, which writes the audit trail in the same transaction.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from opentic.numerics.reporting import BelowLoq
from opentic.registry.models import Institution, Instrument, Parameter, Standard, TestObject

from .lifecycle import SAMPLE_LABELS, SampleState

# The decision rules of ILAC-G8 a client may agree to (numerics/conformity.py applies them).
DECISION_RULES = [
    ("simple", _("simple acceptance")), ("guarded", _("guarded acceptance, w = U")),
    ("guarded_nonbinary", _("guarded acceptance, w = U, with conditional statements"))]


class Client(models.Model):
    class Kind(models.TextChoices):
        ENTERPRISE = "enterprise", _("enterprise")
        GOVERNMENT = "government", _("government buyer")
        PERSON = "person", _("person")

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.ENTERPRISE)
    credit_code = models.CharField(_("credit code"), max_length=18, blank=True)
    contact = models.CharField(_("contact"), max_length=60, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("client")
        ordering = ["institution", "name"]
        constraints = [models.UniqueConstraint(fields=["institution", "name"], name="lims_client_name")]

    def __str__(self) -> str:
        return self.name


class Order(models.Model):
    """A 委托单: what the client asks for; or a supervision sampling task (监督抽检)."""

    class Kind(models.TextChoices):
        COMMISSION = "commission", _("commissioned testing")
        SUPERVISION = "supervision", _("supervision sampling")
        RISK = "risk", _("risk monitoring")
        RECHECK = "recheck", _("re-examination")

    # Kinds where the laboratory samples itself, so the report carries the sampling block.
    SAMPLING_KINDS = frozenset({Kind.SUPERVISION, Kind.RISK})

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    number = models.CharField(_("order number"), max_length=40)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="orders")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.COMMISSION)
    received_on = models.DateField(_("received on"))
    due_on = models.DateField(_("due date"), null=True, blank=True)
    # Contract review (ISO/IEC 17025 7.1): what was agreed with the client.
    methods_agreed = models.CharField(_("methods agreed"), max_length=300, blank=True)
    # The product standards the results are judged against: names of specification sets ("GB 2762-2022");
    # empty means only results are reported, with no statement of conformity.
    judgement_basis = models.JSONField(_("judgement basis"), default=list, blank=True)
    decision_rule = models.CharField(_("decision rule"), max_length=20, choices=DECISION_RULES, default="simple")
    # Subcontracting only with the client's consent, named in the report (SAMR Order 39 art. 10).
    subcontracted = models.CharField(_("subcontracted items"), max_length=300, blank=True)
    subcontractor = models.CharField(_("subcontractor"), max_length=200, blank=True)
    subcontract_consent = models.BooleanField(_("client consents to subcontracting"), default=False)
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("order")
        ordering = ["-received_on", "-id"]
        constraints = [models.UniqueConstraint(fields=["institution", "number"], name="lims_order_number")]

    def __str__(self) -> str:
        return self.number


class AnalysisService(models.Model):
    """How this lab runs one parameter by one method: unit, reported places, limits, calculation."""

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    parameter = models.ForeignKey(Parameter, on_delete=models.PROTECT, related_name="+")
    standard = models.ForeignKey(Standard, on_delete=models.PROTECT, related_name="+")
    keyword = models.SlugField(_("keyword"), max_length=30, help_text=_("the name formulas use"))
    unit = models.CharField(_("unit"), max_length=20)
    places = models.PositiveSmallIntegerField(_("reported decimal places"), default=2)
    loq = models.DecimalField(_("limit of quantitation"), max_digits=20, decimal_places=10, null=True, blank=True)
    lod = models.DecimalField(_("limit of detection"), max_digits=20, decimal_places=10, null=True, blank=True)
    below_loq = models.CharField(_("below the LOQ, report"), max_length=6, choices=[
        (BelowLoq.LESS_THAN, "<LOQ"), (BelowLoq.NOT_DETECTED, "未检出")], default=BelowLoq.LESS_THAN)
    formula = models.CharField(_("formula"), max_length=500, blank=True)
    # What the analyst types for a formula beside other results: [{"keyword": "m", "label": "称样量", "unit": "g"}].
    inputs = models.JSONField(_("formula inputs"), default=list, blank=True)
    # The plausible range of a result; outside it the method refuses the value, or asks for a remark.
    plausible_min = models.DecimalField(_("plausible minimum"), max_digits=20, decimal_places=10, null=True,
                                        blank=True, default=0)
    plausible_max = models.DecimalField(_("plausible maximum"), max_digits=20, decimal_places=10, null=True,
                                        blank=True)
    out_of_range = models.CharField(_("outside the plausible range"), max_length=6, choices=[
        ("refuse", _("refuse the value")), ("flag", _("accept with a remark"))], default="refuse")
    # QC policy: what every batch of at most `qc_batch_size` samples carries (blank, control, duplicate).
    qc_batch_size = models.PositiveSmallIntegerField(_("QC batch size (samples)"), null=True, blank=True)
    qc_blanks = models.PositiveSmallIntegerField(_("blanks per batch"), default=0)
    qc_controls = models.PositiveSmallIntegerField(_("controls per batch"), default=0)
    qc_duplicates = models.PositiveSmallIntegerField(_("duplicates per batch"), default=0)
    instruments = models.ManyToManyField(Instrument, verbose_name=_("instruments"), blank=True, related_name="+")
    version = models.PositiveIntegerField(_("method version"), default=1)

    class Meta:
        verbose_name = _("analysis service")
        ordering = ["institution", "keyword"]
        constraints = [models.UniqueConstraint(fields=["institution", "keyword"], name="lims_service_keyword")]

    def __str__(self) -> str:
        return f"{self.parameter} · {self.standard}"


class MethodAuthorization(models.Model):
    """An analyst authorized to run a method (ISO/IEC 17025 6.2.5)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="authorizations")
    standard = models.ForeignKey(Standard, on_delete=models.PROTECT, related_name="+")
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)

    class Meta:
        verbose_name = _("method authorization")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.standard_id}"


class LabNumberCounter(models.Model):
    """The last number given in a series (samples, worksheets) of an institution in a year."""

    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="+")
    series = models.CharField(max_length=10, default="sample")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["institution", "series", "year"], name="lims_counter_series")]

    def __str__(self) -> str:
        return f"{self.institution_id}/{self.year}: {self.last}"


class Sample(models.Model):
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="samples")
    lab_number = models.CharField(_("lab number"), max_length=30)
    name = models.CharField(_("sample name"), max_length=200)
    test_object = models.ForeignKey(TestObject, verbose_name=_("object"), on_delete=models.PROTECT, related_name="+")
    description = models.CharField(_("description"), max_length=500, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=[(s.value, SAMPLE_LABELS[s]) for s in SampleState],
                             default=SampleState.REGISTERED)
    condition = models.CharField(_("condition on receipt"), max_length=300, blank=True)
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)
    state_reason = models.CharField(_("reason"), max_length=300, blank=True)
    retention_until = models.DateField(_("retained until"), null=True, blank=True)
    disposal_on = models.DateField(_("disposal date"), null=True, blank=True)
    # Supervision sampling (监督抽检)
    # The sampling block (抽样单) when the laboratory sampled: supervision sampling, risk monitoring.
    sampled_on = models.DateField(_("sampling date"), null=True, blank=True)
    sampled_unit = models.CharField(_("sampled unit"), max_length=200, blank=True)
    manufacturer = models.CharField(_("nominal manufacturer"), max_length=200, blank=True)
    model_spec = models.CharField(_("specification / model"), max_length=100, blank=True)
    trademark = models.CharField(_("trademark"), max_length=100, blank=True)
    quantity = models.CharField(_("sample quantity"), max_length=60, blank=True)
    sampler = models.CharField(_("sampler"), max_length=60, blank=True)
    sampling_place = models.CharField(_("sampling place"), max_length=200, blank=True)
    batch_number = models.CharField(_("batch number"), max_length=60, blank=True)
    production_date = models.DateField(_("production date"), null=True, blank=True)
    # The product standard its results are judged against, and the decision rule agreed with the client.
    specification = models.CharField(_("specification"), max_length=100, blank=True)
    decision_rule = models.CharField(_("decision rule"), max_length=20, choices=DECISION_RULES, default="simple")
    version = models.PositiveIntegerField(default=1)  # optimistic locking
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("sample")
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["institution", "lab_number"], name="lims_sample_number")]
        indexes = [models.Index(fields=["institution", "state", "-id"], name="lims_sample_list")]

    def __str__(self) -> str:
        return self.lab_number


class Analysis(models.Model):
    """One parameter to test on one sample, by one method, and its result."""

    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        ENTERED = "entered", _("entered")
        VERIFIED = "verified", _("verified")
        RETRACTED = "retracted", _("retracted for retest")

    sample = models.ForeignKey(Sample, on_delete=models.PROTECT, related_name="analyses")
    service = models.ForeignKey(AnalysisService, on_delete=models.PROTECT, related_name="+")
    accredited = models.BooleanField(_("within the accredited scope"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PENDING)
    value = models.CharField(_("result"), max_length=40, blank=True)  # the decimal as entered or calculated
    calculated = models.BooleanField(default=False)
    unit = models.CharField(_("unit"), max_length=20)
    uncertainty = models.CharField(_("expanded uncertainty U"), max_length=40, blank=True)
    coverage_factor = models.CharField(_("coverage factor k"), max_length=10, blank=True)
    instrument = models.ForeignKey(Instrument, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    method_version = models.PositiveIntegerField(null=True, blank=True)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    entered_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    verified_at = models.DateTimeField(null=True, blank=True)
    signature = models.CharField(max_length=64, blank=True)  # hash of what the verifier signed
    retest_of = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="retest")
    retest_reason = models.CharField(_("retest reason"), max_length=300, blank=True)
    # The conformity statement with what it was judged by: the limits and the decision rule, as they were.
    conformity = models.CharField(_("conformity"), max_length=20, blank=True)
    judged_against = models.CharField(_("judged against"), max_length=300, blank=True)
    limit = models.CharField(_("limit"), max_length=100, blank=True)  # as printed: "≤ 0.2 mg/kg"
    inputs = models.JSONField(_("formula inputs"), default=dict, blank=True)  # keyword → decimal text
    remark = models.CharField(_("remark"), max_length=300, blank=True)
    version = models.PositiveIntegerField(default=1)  # optimistic locking

    class Meta:
        verbose_name = _("analysis")
        verbose_name_plural = _("analyses")
        ordering = ["sample", "id"]

    def __str__(self) -> str:
        return f"{self.sample_id} {self.service_id}"


class ReferenceMaterial(models.Model):
    """A reference material or control material (标准物质/质控样) with its certified value and expiry."""

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=200)
    lot = models.CharField(_("lot"), max_length=60)
    certified_value = models.CharField(_("certified value"), max_length=40, blank=True)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    expires_on = models.DateField(_("expires on"))

    class Meta:
        verbose_name = _("reference material")
        constraints = [models.UniqueConstraint(fields=["institution", "name", "lot"], name="lims_rm_lot")]

    def __str__(self) -> str:
        return f"{self.name} ({self.lot})"


class Worksheet(models.Model):
    """A batch of analyses run together by one method on one instrument, with its QC positions."""

    class State(models.TextChoices):
        OPEN = "open", _("open")
        RELEASED = "released", _("released")

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    number = models.CharField(_("worksheet number"), max_length=30)
    service = models.ForeignKey(AnalysisService, verbose_name=_("method"), on_delete=models.PROTECT,
                                related_name="+")
    instrument = models.ForeignKey(Instrument, verbose_name=_("instrument"), on_delete=models.PROTECT,
                                   related_name="+")
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.OPEN)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    released_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    released_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("worksheet")
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["institution", "number"], name="lims_worksheet_number")]

    def __str__(self) -> str:
        return self.number


class Position(models.Model):
    """A slot of a worksheet: a sample's analysis, or a QC check (blank, duplicate, control material)."""

    class Kind(models.TextChoices):
        SAMPLE = "sample", _("sample")
        BLANK = "blank", _("blank")
        DUPLICATE = "duplicate", _("duplicate")
        CONTROL = "control", _("control or reference material")

    worksheet = models.ForeignKey(Worksheet, on_delete=models.CASCADE, related_name="positions")
    slot = models.PositiveIntegerField(_("position"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    analysis = models.ForeignKey(Analysis, null=True, blank=True, on_delete=models.PROTECT, related_name="positions")
    reference_material = models.ForeignKey(ReferenceMaterial, null=True, blank=True, on_delete=models.PROTECT,
                                           related_name="+")
    value = models.CharField(_("QC result"), max_length=40, blank=True)  # for QC positions; samples use analysis

    class Meta:
        ordering = ["worksheet", "slot"]
        constraints = [
            models.UniqueConstraint(fields=["worksheet", "slot"], name="lims_position_slot"),
            # An analysis sits on one worksheet at a time (a duplicate refers to it from a QC position).
            models.UniqueConstraint(fields=["analysis"], condition=models.Q(kind="sample"),
                                    name="lims_analysis_on_one_worksheet"),
        ]

    def __str__(self) -> str:
        return f"{self.worksheet_id}#{self.slot} {self.kind}"


class InstrumentMapping(models.Model):
    """How to read one instrument's export file: which column holds the lab number, which the results."""

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=100)
    sample_column = models.CharField(_("lab number column"), max_length=100)
    type_column = models.CharField(_("row type column"), max_length=100, blank=True)
    sample_types = models.JSONField(_("row types that are samples"), default=list, blank=True)
    columns = models.JSONField(_("result columns"), default=dict)  # header → analysis service keyword

    class Meta:
        verbose_name = _("instrument file mapping")
        constraints = [models.UniqueConstraint(fields=["instrument", "name"], name="lims_mapping_name")]

    def __str__(self) -> str:
        return f"{self.instrument}: {self.name}"


class Specification(models.Model):
    """A limit from a product standard, e.g. GB 2762-2022: 铅 in 大米 ≤ 0.2 mg/kg."""

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("specification"), max_length=100)  # "GB 2762-2022"
    test_object = models.ForeignKey(TestObject, on_delete=models.PROTECT, related_name="+")
    parameter = models.ForeignKey(Parameter, on_delete=models.PROTECT, related_name="+")
    lower = models.DecimalField(_("lower limit"), max_digits=20, decimal_places=10, null=True, blank=True)
    upper = models.DecimalField(_("upper limit"), max_digits=20, decimal_places=10, null=True, blank=True)
    unit = models.CharField(_("unit"), max_length=20)

    class Meta:
        verbose_name = _("specification")

    def __str__(self) -> str:
        return f"{self.name}: {self.parameter} in {self.test_object}"


class ControlTarget(models.Model):
    """The established mean and standard deviation of a control material run by a method: the centre line and
    the ±1s/2s/3s lines of its Levey–Jennings chart, against which the Westgard rules judge each run."""

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    service = models.ForeignKey(AnalysisService, verbose_name=_("method"), on_delete=models.PROTECT, related_name="+")
    reference_material = models.ForeignKey(ReferenceMaterial, verbose_name=_("control material"),
                                           on_delete=models.PROTECT, related_name="+")
    mean = models.DecimalField(_("target mean"), max_digits=20, decimal_places=10)
    sd = models.DecimalField(_("target standard deviation"), max_digits=20, decimal_places=10)
    established_on = models.DateField(_("established on"))

    class Meta:
        verbose_name = _("control target")
        constraints = [
            models.UniqueConstraint(fields=["service", "reference_material"], name="lims_control_target"),
            models.CheckConstraint(condition=models.Q(sd__gt=0), name="lims_control_sd_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.service}: {self.reference_material}"


class QCRejection(models.Model):
    """A worksheet whose control results broke a Westgard rejection rule. It holds the worksheet's release
    until a reviewer records the corrective action."""

    worksheet = models.ForeignKey(Worksheet, on_delete=models.PROTECT, related_name="rejections")
    rules = models.JSONField(_("rules violated"))  # [{"rule": "1-3s", "scope": "within run", "material": …}]
    found_at = models.DateTimeField(auto_now_add=True)
    found_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    corrective_action = models.TextField(_("corrective action"), blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("QC rejection")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.worksheet}: {', '.join(r['rule'] for r in self.rules)}"


class UncertaintyComponent(models.Model):
    """One input of a method's uncertainty budget (GUM, CNAS-GL006), as a relative uncertainty: for the
    products and quotients of a chemical method the relative uncertainties combine in quadrature."""

    class Distribution(models.TextChoices):
        NORMAL = "normal", _("normal (standard uncertainty)")
        RECTANGULAR = "rectangular", _("rectangular (half-width)")
        TRIANGULAR = "triangular", _("triangular (half-width)")
        ARCSINE = "arcsine", _("U-shaped (half-width)")

    service = models.ForeignKey(AnalysisService, on_delete=models.CASCADE, related_name="uncertainty_budget")
    name = models.CharField(_("source of uncertainty"), max_length=100)
    kind = models.CharField(_("evaluation"), max_length=1, choices=[("A", "A"), ("B", "B")], default="B")
    distribution = models.CharField(_("distribution"), max_length=12, choices=Distribution.choices,
                                    default=Distribution.NORMAL)
    relative = models.DecimalField(_("relative value (%)"), max_digits=12, decimal_places=6)
    dof = models.PositiveIntegerField(_("degrees of freedom"), null=True, blank=True)  # blank: infinite

    class Meta:
        verbose_name = _("uncertainty component")
        ordering = ["service", "id"]
        constraints = [models.CheckConstraint(condition=models.Q(relative__gt=0), name="lims_u_component_positive")]

    def __str__(self) -> str:
        return f"{self.service}: {self.name}"
