"""Core pages: where a user lands after signing in."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect


def start(request: HttpRequest) -> HttpResponse:
    """Where a user lands after signing in: the lab's staff on their worklist, the regulator on the register,
    everyone else on the home page. URLs by name only: core does not import the apps above it."""
    user = request.user
    if getattr(user, "institution_id", None):
        return redirect("lims:work")
    if getattr(user, "is_regulator", False):
        return redirect("registry:list")
    return redirect("portal:home")
