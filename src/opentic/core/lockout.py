"""Brute force against passwords: failed sign-ins audited, and the same lock on e-signature passwords.

Sign-in (/login/ and /admin/login/) is guarded by django-axes (settings: AXES_*): after AXES_FAILURE_LIMIT
failures an account, and separately a client address, is locked for the cool-off time, during which even
the right password is refused. Axes does not see the password an authenticated user re-enters to sign a
result or a report (that never goes through authenticate()), so `check_signature_password` applies the same
limit per account, counted in the shared cache (Redis in production), so every worker sees one count.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from opentic.core import audit
from opentic.core.models import User


def failure_limit() -> int:
    return int(settings.AXES_FAILURE_LIMIT)


def cooloff() -> dt.timedelta:
    return dt.timedelta(hours=float(settings.AXES_COOLOFF_TIME))


def client_ip(request: HttpRequest | None) -> str:
    if request is None:
        return ""
    key = getattr(settings, "RATELIMIT_IP_META_KEY", None) or "REMOTE_ADDR"
    return str(request.META.get(key, "")).split(",")[0].strip()


def _record(action: str, entity_id: str, changes: dict[str, Any], actor: User | None = None,
            institution_id: int | None = None) -> None:
    # In a transaction of its own: a refused operation rolls its own back, the refusal must stay recorded.
    with transaction.atomic():
        audit.record(actor=actor, action=action, entity="core.User", entity_id=entity_id, changes=changes,
                     institution_id=institution_id)


@receiver(user_login_failed, dispatch_uid="opentic-login-failed")
def login_failed(sender: object, credentials: dict[str, Any], request: HttpRequest | None = None,
                 **kwargs: Any) -> None:
    """Every failed sign-in is in the platform's audit chain: which user name, from where, through which page."""
    username = str(credentials.get("username", ""))[:150]
    _record("login-failed", username, {"username": username, "ip": client_ip(request),
                                       "path": request.path if request is not None else ""})


def locked_response(request: HttpRequest, original_response: HttpResponse | None = None,
                    credentials: dict[str, Any] | None = None) -> HttpResponse:
    """What axes answers while an account or a client is locked: our page, in the user's language."""
    response = render(request, "core/locked.html", {
        "failure_limit": failure_limit(), "cooloff_minutes": round(cooloff().total_seconds() / 60)}, status=429)
    response["Retry-After"] = str(int(cooloff().total_seconds()))
    return response


@receiver(user_locked_out, dispatch_uid="opentic-login-locked")
def login_locked(sender: object, request: HttpRequest | None = None, username: str | None = None,
                 ip_address: str | None = None, **kwargs: Any) -> None:
    _record("login-locked", str(username or "")[:150], {"username": username or "", "ip": ip_address or ""})


def _key(user: User) -> str:
    return f"opentic:esign-failures:{user.pk}"


class SignatureLocked(PermissionDenied):
    pass


def check_signature_password(actor: User, password: str | None) -> None:
    """Refuse an e-signature whose password is wrong, or any while the account's signature is locked.

    Call it before the operation's transaction (or from a service whose refusals are logged after its
    rollback): the failure's audit event is written in a transaction of its own.
    """
    key, limit = _key(actor), failure_limit()
    minutes = round(cooloff().total_seconds() / 60)
    if int(cache.get(key, 0)) >= limit:
        raise SignatureLocked(f"电子签名已锁定:密码连续错误 {limit} 次,请 {minutes} 分钟后再试")
    if actor.check_password(password or ""):
        cache.delete(key)
        return
    cache.add(key, 0, timeout=int(cooloff().total_seconds()))
    failures = cache.incr(key)
    # Outside a transaction this commits at once; inside one (lims verify), the caller's refusal log records it.
    _record("signature-failed", str(actor.pk), {"failures": failures, "locked": failures >= limit},
                actor=actor, institution_id=actor.institution_id)
    if failures >= limit:
        raise SignatureLocked(f"电子签名已锁定:密码连续错误 {limit} 次,请 {minutes} 分钟后再试")
    raise PermissionDenied("电子签名失败:密码不正确")
