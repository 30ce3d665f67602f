"""The report ledger: one append-only Merkle log per year, stored as entries, tiles and checkpoints.

Rows here are written only by the sequencer (`sequencer.py`), inside the transaction that signs the
checkpoint covering them, and never updated afterwards except the growing partial tiles and the log head.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from opentic.registry.models import Institution


class Log(models.Model):
    """One shard of the ledger: a tree of its own, with its own origin line, for one calendar year."""

    origin = models.CharField(max_length=200, unique=True)
    year = models.PositiveSmallIntegerField(unique=True)
    size = models.BigIntegerField(default=0)
    root = models.BinaryField(max_length=32)
    checkpoint = models.TextField(blank=True)  # the latest signed checkpoint note
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("ledger log")
        ordering = ["-year"]

    def __str__(self) -> str:
        return f"{self.origin} ({self.size})"


class Entry(models.Model):
    """One event of one report (issued, amended, withdrawn), as sequenced into a log."""

    log = models.ForeignKey(Log, on_delete=models.PROTECT, related_name="entries")
    index = models.BigIntegerField()
    leaf_hash = models.BinaryField(max_length=32)
    data = models.BinaryField()  # the canonical entry bytes (entry.py)
    institution = models.CharField(max_length=18)  # credit code as in the entry
    report = models.CharField(max_length=64)  # commitment to the report number
    pdf = models.CharField(max_length=64)
    event = models.CharField(max_length=10)
    replaces = models.CharField(max_length=64, blank=True)
    claimed_at = models.DateTimeField()
    sequenced_at = models.DateTimeField()

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        constraints = [
            models.UniqueConstraint(fields=["log", "index"], name="ledger_entry_index"),
            # The same entry submitted twice (a retry after a crash) is sequenced once.
            models.UniqueConstraint(fields=["log", "leaf_hash"], name="ledger_entry_once"),
        ]
        indexes = [models.Index(fields=["report"]), models.Index(fields=["pdf"]),
                   models.Index(fields=["replaces"])]

    def __str__(self) -> str:
        return f"{self.log.origin} #{self.index} {self.event}"


class Tile(models.Model):
    """A tile of the tree (c2sp.org/tlog-tiles); the last one of each level grows until full."""

    log = models.ForeignKey(Log, on_delete=models.PROTECT, related_name="tiles")
    level = models.PositiveSmallIntegerField()
    index = models.BigIntegerField()
    data = models.BinaryField(max_length=8192)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["log", "level", "index"], name="ledger_tile_key")]

    def __str__(self) -> str:
        return f"{self.log_id} {self.level}/{self.index} ({len(self.data) // 32})"


class Checkpoint(models.Model):
    """Every checkpoint the log ever signed, so a monitor or a test can check each against the next."""

    log = models.ForeignKey(Log, on_delete=models.PROTECT, related_name="checkpoints")
    size = models.BigIntegerField()
    root = models.BinaryField(max_length=32)
    note = models.TextField()
    signed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["log", "size"], name="ledger_checkpoint_size")]
        ordering = ["log", "size"]

    def __str__(self) -> str:
        return f"{self.log.origin} @{self.size}"


class Cosignature(models.Model):
    """A witness's statement that it checked a checkpoint consistent with all it saw before."""

    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.CASCADE, related_name="cosignatures")
    witness = models.CharField(max_length=200)
    line = models.TextField()  # the signature line, to append to the checkpoint note
    timestamp = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["checkpoint", "witness"], name="ledger_cosignature_once")]

    def __str__(self) -> str:
        return f"{self.witness} on {self.checkpoint}"


class NotAccepted(models.Model):
    """A period in which the regulator did not accept an institution's results (失信)."""

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="not_accepted")
    start = models.DateTimeField(_("from"))
    end = models.DateTimeField(_("until"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=500)
    decided_by = models.CharField(_("decided by"), max_length=150)
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("results not accepted")
        verbose_name_plural = _("results not accepted")
        ordering = ["institution", "start"]

    def __str__(self) -> str:
        return f"{self.institution}: {self.start:%Y-%m-%d} – {self.end or ''}"


class SigningKey(models.Model):
    """A signatory's certificate for a machine client (a lab's own LIMS): registrations it signs are the
    signatory's electronic signature, and report PDFs signed with it are trusted for this institution."""

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=100)
    certificate = models.TextField(_("certificate (PEM)"))
    fingerprint = models.CharField(max_length=64, unique=True)  # SHA-256 of the certificate's DER
    registered_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("signing key")

    def __str__(self) -> str:
        return f"{self.name} ({self.fingerprint[:12]})"


class Registration(models.Model):
    """Who signed one ledger registration, how, and over what; kept by the platform, not published.

    The number and code let a reader who holds them (printed on the report) find the report without the
    institution's credit code, and let a superseded report link to its current version.
    """

    # The entry, by log and index (the sequencer does not read entries back, so no primary key is at hand).
    log = models.ForeignKey(Log, on_delete=models.PROTECT, related_name="+")
    index = models.BigIntegerField()
    institution = models.CharField(max_length=18)
    number = models.CharField(max_length=60)
    code = models.CharField(max_length=22)
    event = models.CharField(max_length=10)
    reason = models.CharField(max_length=500, blank=True)
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    method = models.CharField(max_length=10)  # password | key | approval (checked by the reports service)
    key = models.ForeignKey(SigningKey, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    statement = models.CharField(max_length=64)  # SHA-256 of the signed statement (esign.statement)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["number", "code"])]
        constraints = [models.UniqueConstraint(fields=["log", "index"], name="ledger_registration_entry")]

    def __str__(self) -> str:
        return f"{self.number} {self.event}"


class AuditAnchor(models.Model):
    """One anchor of the audit chains' heads (anchors.py): a checkpoint of the anchor log, signed with the
    ledger's key, over every anchor so far. Written by the minute and with every electronic signature."""

    size = models.BigIntegerField(unique=True)  # this anchor's position in the anchor log, from 1
    text = models.TextField()  # the canonical anchor: the previous anchor's leaf hash, the time, the heads
    leaf_hash = models.BinaryField(max_length=32)
    frontier = models.JSONField()  # the log's right edge after this anchor: [[height, hex hash], …]
    note = models.TextField()  # the signed checkpoint of the anchor log at this size
    signed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("audit anchor")
        ordering = ["size"]

    def __str__(self) -> str:
        return f"audit anchor {self.size}"


class AnchoredHead(models.Model):
    """The last anchored head of each audit chain: tells the minute's anchor which heads moved. A cache,
    never trusted by verification, which reads the signed anchors themselves."""

    chain = models.CharField(max_length=40, unique=True)
    seq = models.BigIntegerField()
    hash = models.CharField(max_length=64)
    anchor_size = models.BigIntegerField()

    def __str__(self) -> str:
        return f"{self.chain} @ {self.seq}"
