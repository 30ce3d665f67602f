"""Rate limiting of the public pages and endpoints, per client address. It sits on the ground floor because
the portal, the ledger's verification and the public API all use it."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_ratelimit.core import is_ratelimited


def rate_limited(request: HttpRequest, group: str) -> bool:
    return bool(is_ratelimited(request, group=group, key="ip", rate=settings.OPENTIC_PUBLIC_RATE, increment=True))


def too_many(request: HttpRequest) -> HttpResponse:
    response = render(request, "core/limited.html", status=429)
    response["Retry-After"] = "60"
    return response
