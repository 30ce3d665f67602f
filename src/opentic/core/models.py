"""Accounts, roles, API tokens and the append-only, hash-chained audit trail."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    PLATFORM_ADMIN = "platform_admin", _("Platform administrator")
    REGULATOR = "regulator", _("Regulator staff")
    INSTITUTION_ADMIN = "institution_admin", _("Institution administrator")
    ANALYST = "analyst", _("Analyst")
    REVIEWER = "reviewer", _("Reviewer")
    SIGNATORY = "signatory", _("Authorized signatory")


REGULATOR_ROLES = frozenset({Role.PLATFORM_ADMIN, Role.REGULATOR})
INSTITUTION_ROLES = frozenset({Role.INSTITUTION_ADMIN, Role.ANALYST, Role.REVIEWER, Role.SIGNATORY})


class User(AbstractUser):
    """A person who signs in. Institution staff belong to exactly one institution; regulators to none."""

    institution = models.ForeignKey(
        "registry.Institution",
        verbose_name=_("institution"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    roles = models.JSONField(_("roles"), default=list, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def has_role(self, *roles: str) -> bool:
        return bool(set(self.roles) & set(roles))

    @property
    def is_regulator(self) -> bool:
        return self.is_superuser or self.has_role(*REGULATOR_ROLES)

    def belongs_to(self, institution: models.Model | int | None) -> bool:  # an Institution (one floor up)
        if institution is None or self.institution_id is None:
            return False
        pk = institution if isinstance(institution, int) else institution.pk
        return bool(self.institution_id == pk)


class ApiToken(models.Model):
    """A bearer token for machine clients. Only its SHA-256 is stored; the token is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)  # none: until revoked

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def is_active(self, now: dt.datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class AuditChain(models.Model):
    """The head of one hash chain: one per institution, and one ('platform') for the regulator's register."""

    key = models.CharField(max_length=40, unique=True)
    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"{self.key} @ {self.last_seq}"


class AuditEvent(models.Model):
    """One append-only entry of the audit trail. `hash` covers every field and the previous hash."""

    chain = models.CharField(max_length=40, db_index=True)
    seq = models.BigIntegerField()
    at = models.DateTimeField()
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor_label = models.CharField(max_length=150)
    action = models.CharField(max_length=40)
    entity = models.CharField(max_length=60)
    entity_id = models.CharField(max_length=64)
    changes = models.JSONField(default=dict)
    reason = models.TextField(blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["chain", "seq"]
        constraints = [models.UniqueConstraint(fields=["chain", "seq"], name="audit_chain_seq_unique")]
        indexes = [models.Index(fields=["entity", "entity_id"])]

    def __str__(self) -> str:
        return f"{self.chain}#{self.seq} {self.action} {self.entity}:{self.entity_id}"

    def payload(self) -> dict[str, Any]:
        return {
            "chain": self.chain,
            "seq": self.seq,
            "at": self.at.isoformat(),
            "actor": self.actor_id,
            "actor_label": self.actor_label,
            "action": self.action,
            "entity": self.entity,
            "entity_id": self.entity_id,
            "changes": self.changes,
            "reason": self.reason,
            "prev_hash": self.prev_hash,
        }


class Job(models.Model):
    """One piece of durable background work (core/jobs.py): its state lives here, not in the queue, so a
    worker killed mid-job loses nothing: its lease runs out and the job is run again, from where its
    handler's own records say it stopped."""

    class State(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    kind = models.CharField(max_length=60)
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    institution = models.ForeignKey("registry.Institution", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    args = models.JSONField(default=dict)
    input = models.BinaryField(null=True, blank=True)  # an uploaded file the job reads
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=5)
    not_before = models.DateTimeField(null=True, blank=True)  # the next try, after a backoff
    enqueued_at = models.DateTimeField(null=True, blank=True)
    lease_owner = models.CharField(max_length=120, blank=True)  # host:pid:thread of the runner
    lease_until = models.DateTimeField(null=True, blank=True)  # renewed by the runner's heartbeat
    done = models.PositiveBigIntegerField(default=0)
    total = models.PositiveBigIntegerField(default=0)
    stage = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    output = models.BinaryField(null=True, blank=True)  # the file to download when done
    output_name = models.CharField(max_length=200, blank=True)
    output_type = models.CharField(max_length=100, blank=True)
    result = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("background job")
        indexes = [models.Index(fields=["state", "lease_until"])]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} {self.state}"
