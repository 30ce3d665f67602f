from django.contrib import admin

from opentic.core.admin_base import ReadOnlyAdmin
from opentic.core.models import ApiToken, AuditEvent, User


@admin.register(User)
class UserAdmin(ReadOnlyAdmin):
    list_display = ["username", "institution", "roles", "is_active", "last_login"]
    search_fields = ["username"]
    exclude = ["password"]


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    exclude = ["digest"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["chain", "seq", "at", "actor_label", "action", "entity", "entity_id"]
    list_filter = ["action", "entity"]
    search_fields = ["entity_id", "chain"]
