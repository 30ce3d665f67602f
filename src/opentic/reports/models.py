"""Issued test reports: never edited after issue; an amendment is a new report naming the one it replaces."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from opentic.lims.models import Sample
from opentic.registry.models import Institution

# A report's state as its reader sees it; "withdrawn" alone means 废止 for standards, hence the context.
STATUS_LABELS = {"issued": pgettext_lazy("report status", "issued"),
                 "superseded": pgettext_lazy("report status", "superseded"),
                 "withdrawn": pgettext_lazy("report status", "withdrawn")}


class Report(models.Model):
    class State(models.TextChoices):
        ISSUED = "issued", _("issued")
        WITHDRAWN = "withdrawn", _("withdrawn")

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    sample = models.ForeignKey(Sample, on_delete=models.PROTECT, related_name="reports")
    number = models.CharField(_("report number"), max_length=60)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.ISSUED)
    replaces = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="replaced_by")
    amendment_reason = models.CharField(_("reason for the amendment"), max_length=500, blank=True)
    withdrawal_reason = models.CharField(_("reason for the withdrawal"), max_length=500, blank=True)
    code = models.CharField(max_length=22)  # the verification code printed with the QR code
    pdf = models.BinaryField()
    twin = models.JSONField()  # the machine-readable report
    ledger_index = models.BigIntegerField()
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField()
    signature = models.CharField(max_length=64)  # hash of what the signatory approved

    class Meta:
        verbose_name = _("report")
        ordering = ["-issued_at"]
        constraints = [models.UniqueConstraint(fields=["institution", "number"], name="reports_number")]

    def __str__(self) -> str:
        return self.number

    @property
    def status(self) -> str:
        """issued, superseded (an amendment replaced it) or withdrawn: what a reader of the list must see."""
        if self.state == self.State.WITHDRAWN:
            return "withdrawn"
        return "superseded" if Report.objects.filter(replaces=self).exists() else "issued"

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS[self.status])


class ReportTemplate(models.Model):
    """An institution's own report layout (HTML for WeasyPrint), replacing the platform default."""

    institution = models.OneToOneField(Institution, on_delete=models.CASCADE, related_name="+")
    html = models.TextField(_("template"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("report template")

    def __str__(self) -> str:
        return f"{self.institution_id}"


class ReportBatch(models.Model):
    """Many reports approved with one electronic signature, issued by a job on the queue (batch.py)."""

    class State(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        FINISHED = "finished", _("finished")
        FAILED = "failed", _("failed")

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    sample_ids = models.JSONField()
    total = models.PositiveIntegerField()
    done = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    signature = models.CharField(max_length=64)  # hash of the list the signatory approved
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    job = models.ForeignKey("core.Job", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("report batch")

    def __str__(self) -> str:
        return f"{self.pk}: {self.done + self.failed}/{self.total}"


class BatchItem(models.Model):
    """One sample of a batch. It turns ISSUED in the transaction that records its report, so a batch run
    again after a crash issues exactly the samples still PENDING: none twice, none lost."""

    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        ISSUED = "issued", _("issued")
        FAILED = "failed", _("failed")

    batch = models.ForeignKey(ReportBatch, on_delete=models.CASCADE, related_name="items")
    sample = models.ForeignKey(Sample, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    report = models.OneToOneField(Report, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    error = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["batch", "sample"], name="reports_batch_item_once")]

    def __str__(self) -> str:
        return f"{self.batch_id}/{self.sample_id} {self.state}"


class ReportNumber(models.Model):
    """A report number taken from the institution's series, before the slow render and sign. Taking one
    writes the audit trail, and an attempt that dies before its report is recorded leaves the number
    RESERVED for the same sample, whose next attempt issues under it: no number is lost unaccounted."""

    class State(models.TextChoices):
        RESERVED = "reserved", _("reserved")
        ISSUED = "issued", _("issued")

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    number = models.CharField(max_length=60)
    sample = models.ForeignKey(Sample, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=10, choices=State.choices, default=State.RESERVED)
    report = models.OneToOneField(Report, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reserved_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["institution", "number"], name="reports_number_once")]
        indexes = [models.Index(fields=["sample", "state"])]

    def __str__(self) -> str:
        return f"{self.number} {self.state}"


class Seal(models.Model):
    """The institution's 检验检测专用章 as an image (PNG with a transparent background), printed on its reports.
    Without one, reports carry a drawn seal with the institution's name."""

    institution = models.OneToOneField(Institution, on_delete=models.CASCADE, related_name="+")
    png = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("inspection and testing seal")

    def __str__(self) -> str:
        return f"{self.institution_id}: {self.sha256[:12]}"


class Signature(models.Model):
    """A person's handwritten signature as an image (PNG, transparent background), uploaded by that person and
    printed beside their name on the reports they prepared, verified or approved. Without one, the typed name."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    png = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("signature image")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.sha256[:12]}"
