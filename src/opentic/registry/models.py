"""The regulator's register: reference geography, institutions, accredited scope, staff, instruments."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# ---------------------------------------------------------------- reference data (from the plan)


class District(models.Model):
    """A district-level division of Chongqing, keyed by its GB/T 2260 code."""

    code = models.CharField(_("code"), max_length=6, primary_key=True)
    name = models.CharField(_("name"), max_length=40)
    kind = models.CharField(_("kind"), max_length=10)
    region = models.CharField(_("region"), max_length=40, db_index=True)

    class Meta:
        verbose_name = _("district")
        verbose_name_plural = _("districts")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class FunctionalZone(models.Model):
    code = models.CharField(_("code"), max_length=10, primary_key=True)
    name = models.CharField(_("name"), max_length=60)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("functional zone")
        verbose_name_plural = _("functional zones")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class SpatialUnit(models.Model):
    """One element of the plan's layout 两区五群多基地: a national zone, a cluster or a base."""

    class Kind(models.TextChoices):
        ZONE = "zone", _("national zone")
        CLUSTER = "cluster", _("cluster")
        BASE = "base", _("base")

    code = models.CharField(_("code"), max_length=4, primary_key=True)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=60)
    focus = models.TextField(_("focus"), blank=True)
    districts = models.ManyToManyField(District, blank=True, related_name="spatial_units")
    zones = models.ManyToManyField(FunctionalZone, blank=True, related_name="spatial_units")
    revenue_2022 = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    revenue_2027_target = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        verbose_name = _("spatial unit")
        verbose_name_plural = _("spatial units")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Domain(models.Model):
    """A segment of the value chain (专栏1/3): upstream, midstream or downstream."""

    code = models.CharField(_("code"), max_length=4, primary_key=True)
    stage = models.CharField(_("stage"), max_length=8)
    name = models.CharField(_("name"), max_length=60)
    revenue_2022 = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    revenue_2027_target = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    institutions_2022 = models.IntegerField(null=True, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        verbose_name = _("domain")
        verbose_name_plural = _("domains")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


# ---------------------------------------------------------------- institutions


class Ownership(models.TextChoices):
    ADMINISTRATIVE = "administrative", _("administrative body")
    PUBLIC_INSTITUTION = "public_institution", _("public institution")
    STATE_OWNED = "state_owned", _("state-owned enterprise")
    PRIVATE = "private", _("private enterprise")
    FOREIGN = "foreign", _("foreign-invested")


class InstitutionStatus(models.TextChoices):
    VALID = "valid", _("valid")
    SUSPENDED = "suspended", _("suspended")
    REVOKED = "revoked", _("revoked")
    EXPIRED = "expired", _("expired")


class InstitutionQuerySet(models.QuerySet["Institution"]):
    def valid_on(self, day: dt.date) -> InstitutionQuerySet:
        return self.filter(status=InstitutionStatus.VALID, cma_valid_from__lte=day, cma_valid_until__gte=day)

    def in_spatial_unit(self, unit: SpatialUnit | str) -> InstitutionQuerySet:
        code = unit if isinstance(unit, str) else unit.code
        return self.filter(
            Q(district__spatial_units__code=code) | Q(zones__spatial_units__code=code)
        ).distinct()


class Institution(models.Model):
    """An inspection and testing institution holding a CMA certificate."""

    name = models.CharField(_("name"), max_length=200)
    credit_code = models.CharField(_("unified social credit code"), max_length=18, unique=True)
    cma_number = models.CharField(_("CMA certificate number"), max_length=12, unique=True)
    cma_valid_from = models.DateField(_("certificate valid from"))
    cma_valid_until = models.DateField(_("certificate valid until"))
    ownership = models.CharField(_("ownership"), max_length=20, choices=Ownership.choices)
    third_party = models.BooleanField(_("third-party"), default=True)
    district = models.ForeignKey(District, verbose_name=_("district"), on_delete=models.PROTECT)
    zones = models.ManyToManyField(FunctionalZone, verbose_name=_("functional zones"), blank=True)
    domains = models.ManyToManyField(Domain, verbose_name=_("domains"), blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=InstitutionStatus.choices, default=InstitutionStatus.VALID
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = InstitutionQuerySet.as_manager()

    class Meta:
        verbose_name = _("institution")
        verbose_name_plural = _("institutions")
        ordering = ["name"]
        indexes = [models.Index(fields=["status", "cma_valid_until"])]

    def __str__(self) -> str:
        return self.name

    def is_valid_on(self, day: dt.date | None = None) -> bool:
        day = day or timezone.localdate()
        return self.status == InstitutionStatus.VALID and self.cma_valid_from <= day <= self.cma_valid_until

    # The status today, derived from the certificate's dates (registry.validity): an ended certificate
    # reads 过期 before the daily job records it. Templates and API outputs show these, not `status`.
    @property
    def current_status(self) -> str:
        from opentic.registry.validity import effective_status

        return effective_status(self)

    def get_current_status_display(self) -> str:
        return str(InstitutionStatus(self.current_status).label)

    @property
    def expires_soon(self) -> bool:
        """Valid, and the certificate ends within three months (Order 163 art. 13: renew in time)."""
        from opentic.registry.validity import expiring_soon

        return expiring_soon(self)

    def spatial_units(self) -> models.QuerySet[SpatialUnit]:
        """Clusters, zones and bases this institution belongs to, derived from its district and zones."""
        return SpatialUnit.objects.filter(
            Q(districts=self.district_id) | Q(zones__in=self.zones.all())
        ).distinct()


class InstitutionStatusChange(models.Model):
    """The regulator's decisions on an institution's status, newest last."""

    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="status_changes")
    old_status = models.CharField(max_length=12, choices=InstitutionStatus.choices, blank=True)
    new_status = models.CharField(max_length=12, choices=InstitutionStatus.choices)
    reason = models.TextField(_("reason"))
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey("core.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.institution_id}: {self.old_status or '—'} → {self.new_status}"


# ---------------------------------------------------------------- catalogues shared by all scopes


class StandardStatus(models.TextChoices):
    CURRENT = "current", _("current")
    WITHDRAWN = "withdrawn", _("withdrawn")
    REPLACED = "replaced", _("replaced")


class Standard(models.Model):
    """A standard or method in the shared catalogue, one row per code and year."""

    code = models.CharField(_("code"), max_length=40)  # "GB 5009.12"
    year = models.CharField(_("year"), max_length=4, blank=True)
    compact = models.CharField(max_length=40, db_index=True)  # "GB5009.12": the search key
    title = models.CharField(_("title"), max_length=300, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=StandardStatus.choices, default=StandardStatus.CURRENT
    )
    replaced_by = models.ForeignKey(
        "self", verbose_name=_("replaced by"), null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        verbose_name = _("standard")
        verbose_name_plural = _("standards")
        ordering = ["code", "year"]
        constraints = [models.UniqueConstraint(fields=["code", "year"], name="standard_code_year_unique")]

    def __str__(self) -> str:
        return self.full_code

    @property
    def full_code(self) -> str:
        return f"{self.code}-{self.year}" if self.year else self.code


class TestObject(models.Model):
    """A product or object tested (检测对象), in a tree: 大米 ⊂ 粮食加工品 ⊂ 食品."""

    __test__ = False  # not a pytest test class, despite its name

    name = models.CharField(_("name"), max_length=100, unique=True)
    parent = models.ForeignKey(
        "self", verbose_name=_("broader object"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="children",
    )

    class Meta:
        verbose_name = _("test object")
        verbose_name_plural = _("test objects")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Parameter(models.Model):
    """A parameter or item tested (检测参数/项目), such as 铅 or 抗压强度."""

    name = models.CharField(_("name"), max_length=100, unique=True)

    class Meta:
        verbose_name = _("parameter")
        verbose_name_plural = _("parameters")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def valid_on_q(day: dt.date) -> Q:
    return Q(valid_from__lte=day) & (Q(valid_until__isnull=True) | Q(valid_until__gte=day))


class ScopeLineQuerySet(models.QuerySet["ScopeLine"]):
    def valid_on(self, day: dt.date) -> ScopeLineQuerySet:
        return self.filter(valid_on_q(day))


class ScopeLine(models.Model):
    """One line of the CMA certificate annex: field → category → object → parameter → method."""

    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="scope_lines")
    seq = models.PositiveIntegerField(_("line number"))
    field = models.CharField(_("field"), max_length=60)
    category = models.CharField(_("category"), max_length=100)
    test_object = models.ForeignKey(TestObject, verbose_name=_("object"), on_delete=models.PROTECT)
    parameter = models.ForeignKey(Parameter, verbose_name=_("parameter"), on_delete=models.PROTECT)
    standard = models.ForeignKey(Standard, verbose_name=_("standard or method"), on_delete=models.PROTECT)
    restriction = models.CharField(_("restriction"), max_length=200, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)

    objects = ScopeLineQuerySet.as_manager()

    class Meta:
        verbose_name = _("scope line")
        verbose_name_plural = _("scope lines")
        ordering = ["institution", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["institution", "seq"], name="scope_line_seq_unique"),
        ]
        # Covering indexes (PostgreSQL INCLUDE; plain on SQLite): the finder reads a query's lines by
        # index only, without visiting scattered heap pages (docs/decisions/0002).
        indexes = [
            models.Index(fields=["parameter", "test_object"], name="scope_param_object",
                         include=["institution", "standard", "valid_from", "valid_until"]),
            models.Index(fields=["test_object"], name="scope_object",
                         include=["institution", "parameter", "standard", "valid_from", "valid_until"]),
            models.Index(fields=["standard"], name="scope_standard",
                         include=["institution", "parameter", "test_object", "valid_from", "valid_until"]),
        ]

    def __str__(self) -> str:
        return f"{self.test_object} · {self.parameter} · {self.standard}"


class ScopeTallyQuerySet(models.QuerySet["ScopeTally"]):
    def valid_on(self, day: dt.date) -> ScopeTallyQuerySet:
        return self.filter(valid_on_q(day))


class ScopeTally(models.Model):
    """How many of an institution's scope lines name one parameter, object or standard, per validity window.

    Derived from ScopeLine and rebuilt by registry.tally whenever an institution's scope changes, never
    edited by hand. The finder counts broad queries here: 铅 is 15 lines in a food lab but one row here,
    because the lines of one certificate share their validity dates (docs/decisions/0008).
    """

    class Dimension(models.TextChoices):
        PARAMETER = "p", _("parameter")
        OBJECT = "o", _("object")
        STANDARD = "s", _("standard or method")

    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="+")
    dimension = models.CharField(max_length=1, choices=Dimension.choices)
    key = models.PositiveIntegerField()  # the id of the parameter, object or standard
    valid_from = models.DateField()
    valid_until = models.DateField(null=True)
    lines = models.PositiveIntegerField()

    objects = ScopeTallyQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["dimension", "key"], name="scope_tally_key",
                         include=["institution", "valid_from", "valid_until", "lines"]),
            models.Index(fields=["institution"], name="scope_tally_institution"),
        ]

    def __str__(self) -> str:
        return f"{self.institution_id} {self.dimension}{self.key}: {self.lines}"


# ---------------------------------------------------------------- staff and instruments


class Staff(models.Model):
    """A person employed by an institution. A person works at one institution at a time."""

    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="staff")
    name = models.CharField(_("name"), max_length=60)
    employee_no = models.CharField(_("employee number"), max_length=30)
    # HMAC of the resident ID number: unique across the platform without keeping the number itself.
    person_key = models.CharField(max_length=64)
    id_masked = models.CharField(_("ID number"), max_length=18)
    title = models.CharField(_("professional title"), max_length=40, blank=True)
    position = models.CharField(_("position"), max_length=60, blank=True)
    active = models.BooleanField(_("active"), default=True)
    # The platform account of this person, if they sign in: authority (signing, roles on reports) follows the
    # person through this link, never a display name that two people may share.
    user = models.OneToOneField(settings.AUTH_USER_MODEL, verbose_name=_("account"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="staff_record")

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")
        ordering = ["institution", "employee_no"]
        constraints = [
            models.UniqueConstraint(fields=["institution", "employee_no"], name="staff_employee_no_unique"),
            models.UniqueConstraint(
                fields=["person_key"], condition=Q(active=True), name="staff_one_active_institution"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SignatoryAuthorization(models.Model):
    """An authorized signatory (授权签字人) and the fields they may sign reports in."""

    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="signatory_authorizations")
    fields = models.CharField(_("signing fields"), max_length=300)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)

    class Meta:
        verbose_name = _("signatory authorization")
        verbose_name_plural = _("signatory authorizations")

    def __str__(self) -> str:
        return f"{self.staff_id}: {self.fields}"


class InstrumentStatus(models.TextChoices):
    IN_SERVICE = "in_service", _("in service")
    OUT_OF_SERVICE = "out_of_service", _("out of service")
    RETIRED = "retired", _("retired")


class Instrument(models.Model):
    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="instruments")
    asset_number = models.CharField(_("asset number"), max_length=40)
    name = models.CharField(_("name"), max_length=100)
    model = models.CharField(_("model"), max_length=100, blank=True)
    serial_number = models.CharField(_("serial number"), max_length=60, blank=True)
    measuring_range = models.CharField(_("measuring range"), max_length=100, blank=True)
    calibration_due = models.DateField(_("calibration due"), null=True, blank=True)
    is_large = models.BooleanField(_("large instrument"), default=False)
    value_yuan = models.DecimalField(_("value (yuan)"), max_digits=14, decimal_places=2, default=0)
    shared = models.BooleanField(_("open for sharing"), default=False)
    status = models.CharField(
        _("status"), max_length=16, choices=InstrumentStatus.choices, default=InstrumentStatus.IN_SERVICE
    )

    class Meta:
        verbose_name = _("instrument")
        verbose_name_plural = _("instruments")
        ordering = ["institution", "asset_number"]
        constraints = [
            models.UniqueConstraint(fields=["institution", "asset_number"], name="instrument_asset_unique"),
        ]
        indexes = [models.Index(fields=["shared", "is_large"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.asset_number})"


class ImportBatch(models.Model):
    """One accepted import: what file, by whom, and what it changed (rejected files change nothing)."""

    kind = models.CharField(max_length=20)
    filename = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    rows = models.IntegerField()
    created = models.IntegerField()
    updated = models.IntegerField()
    unchanged = models.IntegerField()
    actor = models.ForeignKey("core.User", null=True, on_delete=models.PROTECT, related_name="+")
    institution = models.ForeignKey(Institution, null=True, blank=True, on_delete=models.CASCADE)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.filename} ({self.rows})"
