"""API authentication: a bearer token for machine clients, or the browser's session (with CSRF)."""

from __future__ import annotations

import secrets
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer, SessionAuth

from opentic.core.models import ApiToken, User


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        found = (ApiToken.objects.select_related("user")
                 .filter(digest=ApiToken.hash(token), revoked_at__isnull=True, user__is_active=True).first())
        if found is None:
            return None
        ApiToken.objects.filter(pk=found.pk).update(last_used_at=timezone.now())
        request.user = found.user
        return found.user


def issue_token(user: User, name: str) -> tuple[ApiToken, str]:
    """Create a token; the plain token is returned once and never stored."""
    token = "otk_" + secrets.token_urlsafe(32)
    record = ApiToken.objects.create(user=user, name=name, digest=ApiToken.hash(token), prefix=token[:8])
    return record, token


AUTH: list[Any] = [TokenAuth(), SessionAuth()]
