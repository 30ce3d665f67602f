from django.contrib import admin

from opentic.core.admin_base import ReadOnlyAdmin
from opentic.ledger import models


@admin.register(models.Log)
class LogAdmin(ReadOnlyAdmin):
    list_display = ["origin", "year", "size", "created_at"]


@admin.register(models.Entry)
class EntryAdmin(ReadOnlyAdmin):
    list_display = ["log", "index", "institution", "event", "claimed_at", "sequenced_at"]
    list_filter = ["event", "log"]
    search_fields = ["institution", "report"]
    exclude = ["data", "leaf_hash"]


@admin.register(models.Checkpoint)
class CheckpointAdmin(ReadOnlyAdmin):
    list_display = ["log", "size", "signed_at"]
    exclude = ["root"]


@admin.register(models.NotAccepted)
class NotAcceptedAdmin(ReadOnlyAdmin):
    list_display = ["institution", "start", "end", "reason", "decided_by"]
