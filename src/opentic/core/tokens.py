"""API tokens: issued to a person, shown once, expiring or not, revoked by their owner; both audited."""

from __future__ import annotations

import datetime as dt
import secrets

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from opentic.core import audit
from opentic.core.models import ApiToken, User

MAX_DAYS = 3650


@transaction.atomic
def issue_token(user: User, name: str, expires_at: dt.datetime | None = None,
                actor: User | None = None) -> tuple[ApiToken, str]:
    """Create a token; the plain token is returned once and never stored (only its SHA-256).

    `actor` is who issues it: the user on their token page, nobody (the command line) otherwise."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "请说明令牌的用途"})
    if len(name) > 100:
        raise ValidationError({"name": "用途不超过 100 个字"})
    now = timezone.now()
    if expires_at is not None and not now < expires_at <= now + dt.timedelta(days=MAX_DAYS):
        raise ValidationError({"expires_at": f"有效期应在今后 {MAX_DAYS} 天以内"})
    token = "otk_" + secrets.token_urlsafe(32)
    record = ApiToken.objects.create(user=user, name=name, digest=ApiToken.hash(token), prefix=token[:8],
                                     expires_at=expires_at)
    audit.record(actor=actor, action="token-issue", entity=record, institution_id=user.institution_id,
                 changes={"user": user.get_username(), "name": name, "prefix": record.prefix,
                          "expires_at": expires_at})
    return record, token


@transaction.atomic
def revoke_token(actor: User | None, token: ApiToken, reason: str = "") -> ApiToken:
    """Revoke a token at once; its owner may, and the command line (actor None). Revoking twice changes
    nothing more."""
    token = ApiToken.objects.select_for_update().select_related("user").get(pk=token.pk)
    if actor is not None and actor.pk != token.user_id:
        raise PermissionDenied("只能吊销自己的令牌")
    if token.revoked_at is not None:
        return token
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit.record(actor=actor, action="token-revoke", entity=token, institution_id=token.user.institution_id,
                 changes={"user": token.user.get_username(), "name": token.name, "prefix": token.prefix},
                 reason=reason)
    return token
