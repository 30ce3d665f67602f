"""Who may see and do what. Services call these; views use them to decide what to show."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404

from opentic.core.models import Role


def is_regulator(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_regulator)


def can_view_private(user: Any, institution_id: int | None) -> bool:
    """Non-public data of an institution: its regulator, or its own staff."""
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(is_regulator(user) or (institution_id is not None and user.institution_id == institution_id))


def can_manage_staff_and_instruments(user: Any, institution_id: int | None) -> bool:
    if is_regulator(user):
        return True
    return bool(
        getattr(user, "is_authenticated", False)
        and institution_id is not None
        and user.institution_id == institution_id
        and user.has_role(Role.INSTITUTION_ADMIN)
    )


def can_register_reports(user: Any, institution_id: int | None) -> bool:
    """Registering a report in the ledger is a signature: the institution's authorized signatories only
    (an administrator manages the lab; it does not sign its reports)."""
    return bool(
        getattr(user, "is_authenticated", False)
        and institution_id is not None
        and user.institution_id == institution_id
        and user.has_role(Role.SIGNATORY)
    )


def lab_of(user: Any) -> int:
    """The institution whose laboratory pages this user works in; 404 for anyone who belongs to none, so that
    laboratory pages do not even confirm what exists to regulators or the public."""
    institution_id = getattr(user, "institution_id", None) if getattr(user, "is_authenticated", False) else None
    if institution_id is None:
        raise Http404
    return int(institution_id)


def require(allowed: bool, message: str = "") -> None:
    if not allowed:
        raise PermissionDenied(message or "没有权限")


def require_regulator(user: Any) -> None:
    require(is_regulator(user), "只有监管部门可以执行此操作")
