"""How a page tells its user what a service did: the success message, or the service's refusal as it gave it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, QueryDict


def refused(request: HttpRequest, exc: Exception) -> None:
    messages.error(request, "；".join(exc.messages) if isinstance(exc, ValidationError) else str(exc))


def attempt(request: HttpRequest, success: str, action: Callable[[], object]) -> bool:
    """Run a service call; show `success`, or the refusal (nothing changed). Returns whether it succeeded."""
    try:
        action()
    except (ValidationError, PermissionDenied) as exc:
        refused(request, exc)
        return False
    messages.success(request, success)
    return True


def form_errors(form: Any, exc: Exception) -> list[str]:
    """A service's refusal shown on the form that was posted: each field error beside its field (the typed
    values stay in the bound form), and every message in the list at the top, so that nothing is lost."""
    if isinstance(exc, PermissionDenied):
        return [str(exc)]
    assert isinstance(exc, ValidationError)
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            if name in form.fields:
                form.add_error(name, errors)
    return list(exc.messages)


TYPED = "opentic-typed"  # what a refused save had typed, shown again on the page it came from


def keep_typed(request: HttpRequest, key: str, values: dict[str, str]) -> None:
    """Keep the values of a refused POST for the page it redirects to (POST, redirect, GET)."""
    request.session[TYPED] = {"key": key, "values": values}


def kept_typed(request: HttpRequest, key: str) -> dict[str, str]:
    kept = request.session.pop(TYPED, None)
    return dict(kept["values"]) if kept and kept.get("key") == key else {}


def posted_id(data: QueryDict, name: str) -> int:
    """The id of an object chosen in a POSTed field. A missing or malformed one ("nan", "1e999", digits beyond
    a bigint) names no object: 404, as an unknown id does, instead of a ValueError from the database layer."""
    value = (data.get(name) or "").strip()
    if not (value.isascii() and value.isdigit() and len(value) <= 18):
        raise Http404("没有这条记录")
    return int(value)
