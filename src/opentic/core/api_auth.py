"""API authentication: a bearer token for machine clients, or the browser's session (with CSRF)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer, SessionAuth

from opentic.core.models import ApiToken, User
from opentic.core.tokens import issue_token

__all__ = ["AUTH", "TokenAuth", "issue_token"]


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        now = timezone.now()
        found = (ApiToken.objects.select_related("user")
                 .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now), digest=ApiToken.hash(token),
                         revoked_at__isnull=True, user__is_active=True).first())
        if found is None:
            return None
        ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
        request.user = found.user
        return found.user


AUTH: list[Any] = [TokenAuth(), SessionAuth()]
