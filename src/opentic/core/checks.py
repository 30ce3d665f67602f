"""Deployment checks of our own, run by `manage.py check --deploy` next to Django's."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def shared_counters(app_configs: Any, **kwargs: Any) -> list[Warning]:
    """Rate limits and e-signature locks count in the cache: a per-process cache lets N workers multiply them."""
    backend = settings.CACHES["default"]["BACKEND"]
    if getattr(settings, "DEMO", False) or "redis" in backend.lower():
        return []
    return [Warning("The rate limit and the e-signature lock count in a per-process cache",
                    hint="Set OPENTIC_REDIS_URL so that every worker shares one count.", id="opentic.W001")]
