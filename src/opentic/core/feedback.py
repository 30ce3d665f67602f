"""How a page tells its user what a service did: the success message, or the service's refusal as it gave it."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest


def refused(request: HttpRequest, exc: Exception) -> None:
    messages.error(request, "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc))


def attempt(request: HttpRequest, success: str, action: Callable[[], object]) -> bool:
    """Run a service call; show `success`, or the refusal (nothing changed). Returns whether it succeeded."""
    try:
        action()
    except (ValidationError, PermissionDenied) as exc:
        refused(request, exc)
        return False
    messages.success(request, success)
    return True
