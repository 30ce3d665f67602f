"""Proficiency testing schemes (ISO/IEC 17043, evaluated per ISO 13528): a provider runs rounds of items,
invited institutions submit results, the provider evaluates and publishes, participants may appeal, and an
unsatisfactory result opens a follow-up action that stays on the institution's credit record.

Every change goes through `pt.py`, which writes the audit trail in the same transaction."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from opentic.registry.models import Institution, Parameter, TestObject


class Scheme(models.Model):
    """A PT scheme (能力验证计划): one measurand in one kind of item, run in rounds. Created by the regulator,
    who may name an accredited provider institution to run it."""

    code = models.CharField(_("scheme code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    provider = models.ForeignKey(Institution, verbose_name=_("provider"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")  # null: the regulator runs it
    parameter = models.ForeignKey(Parameter, verbose_name=_("parameter"), on_delete=models.PROTECT, related_name="+")
    test_object = models.ForeignKey(TestObject, verbose_name=_("test object"), on_delete=models.PROTECT,
                                    related_name="+")
    unit = models.CharField(_("unit"), max_length=20)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("PT scheme")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Round(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", _("draft")
        OPEN = "open", _("open for results")
        CLOSED = "closed", _("closed")
        EVALUATED = "evaluated", _("evaluated")
        PUBLISHED = "published", _("published")

    class AssignedValue(models.TextChoices):
        ALGORITHM_A = "algorithm_a", _("consensus, Algorithm A")
        Q_HAMPEL = "q_hampel", _("consensus, Q/Hampel")
        MEDIAN = "median", _("consensus, median and nIQR")
        REFERENCE = "reference", _("reference or formulation value")

    class Sigma(models.TextChoices):
        ROBUST = "robust", _("robust standard deviation of the results")
        FIXED = "fixed", _("fixed value (fitness for purpose)")
        PERCENT = "percent", _("percentage of the assigned value")
        HORWITZ = "horwitz", _("Horwitz curve")

    class ScoreKind(models.TextChoices):
        Z = "z", "z"
        Z_PRIME = "z'", "z′"
        ZETA = "zeta", "ζ"
        EN = "En", "En"

    scheme = models.ForeignKey(Scheme, on_delete=models.PROTECT, related_name="rounds")
    number = models.CharField(_("round"), max_length=30)
    deadline = models.DateField(_("deadline for results"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.DRAFT)
    assigned_method = models.CharField(_("assigned value"), max_length=12, choices=AssignedValue.choices,
                                       default=AssignedValue.ALGORITHM_A)
    reference_value = models.DecimalField(_("reference value"), max_digits=20, decimal_places=10, null=True,
                                          blank=True)
    reference_uncertainty = models.DecimalField(_("its expanded uncertainty (k = 2)"), max_digits=20,
                                                decimal_places=10, null=True, blank=True)
    sigma_method = models.CharField(_("σ_pt"), max_length=8, choices=Sigma.choices, default=Sigma.ROBUST)
    sigma_value = models.DecimalField(_("σ_pt value or percentage"), max_digits=20, decimal_places=10, null=True,
                                      blank=True)
    score_kind = models.CharField(_("performance statistic"), max_length=4, choices=ScoreKind.choices,
                                  default=ScoreKind.Z)
    created_at = models.DateTimeField(auto_now_add=True)
    evaluated_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("PT round")
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["scheme", "number"], name="pt_round_number")]

    def __str__(self) -> str:
        return f"{self.scheme.code} / {self.number}"


class Item(models.Model):
    """A PT item (能力验证样品) of a round; two items of a round make a Youden pair."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="items")
    code = models.CharField(_("item"), max_length=10)
    description = models.CharField(_("description"), max_length=200, blank=True)
    # The provider's homogeneity and stability check (ISO 13528 Annex B): the measurements and the verdict.
    homogeneity = models.JSONField(_("homogeneity and stability"), null=True, blank=True)

    class Meta:
        ordering = ["round", "code"]
        constraints = [models.UniqueConstraint(fields=["round", "code"], name="pt_item_code")]

    def __str__(self) -> str:
        return self.code


class Participation(models.Model):
    """An invited institution, known in the round's reports only by its code."""

    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="participations")
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    code = models.CharField(_("participant code"), max_length=10)
    invited_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["round", "code"]
        constraints = [
            models.UniqueConstraint(fields=["round", "institution"], name="pt_participation_once"),
            models.UniqueConstraint(fields=["round", "code"], name="pt_participation_code"),
        ]

    def __str__(self) -> str:
        return f"{self.round} {self.code}"


class Submission(models.Model):
    class Source(models.TextChoices):
        FORM = "form", _("form")
        API = "api", _("API")
        LIMS = "lims", _("LIMS")

    participation = models.ForeignKey(Participation, on_delete=models.PROTECT, related_name="submissions")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="submissions")
    value = models.DecimalField(_("result"), max_digits=20, decimal_places=10)
    expanded_uncertainty = models.DecimalField(_("expanded uncertainty U"), max_digits=20, decimal_places=10,
                                               null=True, blank=True)
    coverage_factor = models.DecimalField(_("coverage factor k"), max_digits=6, decimal_places=3, null=True,
                                          blank=True)
    method = models.CharField(_("method"), max_length=200, blank=True)
    source = models.CharField(_("source"), max_length=6, choices=Source.choices, default=Source.FORM)
    analysis = models.ForeignKey("lims.Analysis", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField()
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["participation", "item"]
        constraints = [models.UniqueConstraint(fields=["participation", "item"], name="pt_one_result_per_item")]

    def __str__(self) -> str:
        return f"{self.participation.code} {self.item.code}: {self.value}"


class ItemResult(models.Model):
    """The evaluation of one item: assigned value, its uncertainty and σ_pt."""

    item = models.OneToOneField(Item, on_delete=models.CASCADE, related_name="result")
    x_pt = models.FloatField()
    u_x_pt = models.FloatField()
    sigma_pt = models.FloatField()
    scale = models.FloatField()  # s* of the results (0 for a reference value)
    participants = models.PositiveIntegerField()
    negligible_u = models.BooleanField()  # u(x_pt) < 0.3 σ_pt (ISO 13528 9.2.1)

    def __str__(self) -> str:
        return f"{self.item_id}: x_pt {self.x_pt:g}, σ_pt {self.sigma_pt:g}"


class Score(models.Model):
    class Performance(models.TextChoices):
        SATISFACTORY = "satisfactory", _("satisfactory")
        QUESTIONABLE = "questionable", _("questionable")
        UNSATISFACTORY = "unsatisfactory", _("unsatisfactory")

    submission = models.OneToOneField(Submission, on_delete=models.CASCADE, related_name="score")
    kind = models.CharField(max_length=4)
    value = models.FloatField()
    performance = models.CharField(max_length=14, choices=Performance.choices)

    def __str__(self) -> str:
        return f"{self.kind} = {self.value:.2f} ({self.performance})"


class Appeal(models.Model):
    class State(models.TextChoices):
        OPEN = "open", _("open")
        UPHELD = "upheld", _("upheld")
        REJECTED = "rejected", _("rejected")

    participation = models.ForeignKey(Participation, on_delete=models.PROTECT, related_name="appeals")
    reason = models.TextField(_("reason"))
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    filed_at = models.DateTimeField(auto_now_add=True)
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.OPEN)
    decision = models.TextField(_("decision"), blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.participation}: {self.state}"


class FollowUp(models.Model):
    """The follow-up action an unsatisfactory result opens for its institution. It keeps its own copy of the
    result, so that it stays on the credit record whatever happens to the round's evaluation."""

    class State(models.TextChoices):
        OPEN = "open", _("open")
        CLOSED = "closed", _("closed")
        WITHDRAWN = "withdrawn", _("withdrawn after appeal")

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    participation = models.ForeignKey(Participation, on_delete=models.PROTECT, related_name="follow_ups")
    item_code = models.CharField(max_length=10)
    kind = models.CharField(max_length=4)
    score = models.FloatField()
    opened_at = models.DateTimeField(auto_now_add=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.OPEN)
    corrective_action = models.TextField(_("corrective action"), blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["participation", "item_code"], name="pt_one_follow_up")]

    def __str__(self) -> str:
        return f"{self.participation} {self.item_code}: {self.state}"
