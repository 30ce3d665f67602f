"""What every page needs to know about the platform it runs on."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def platform(request: HttpRequest) -> dict[str, object]:
    return {"OPENTIC_DEMO": bool(getattr(settings, "DEMO", False))}
