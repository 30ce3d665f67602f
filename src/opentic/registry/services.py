"""Every change to the register: each function runs in one transaction and writes the audit trail."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from opentic.core import audit
from opentic.core.models import User
from opentic.core.permissions import can_manage_staff_and_instruments, require, require_regulator
from opentic.registry.models import (
    Institution,
    InstitutionStatus,
    InstitutionStatusChange,
    Staff,
    Standard,
    StandardStatus,
)

# Which status may follow which: a revoked certificate is final; an expired one is renewed by
# registering the new certificate (valid again).
STATUS_TRANSITIONS: dict[str, set[str]] = {
    InstitutionStatus.VALID: {InstitutionStatus.SUSPENDED, InstitutionStatus.REVOKED, InstitutionStatus.EXPIRED},
    InstitutionStatus.SUSPENDED: {InstitutionStatus.VALID, InstitutionStatus.REVOKED, InstitutionStatus.EXPIRED},
    InstitutionStatus.EXPIRED: {InstitutionStatus.VALID},
    InstitutionStatus.REVOKED: set(),
}


def person_key(resident_id: str) -> str:
    """A keyed hash of a resident ID: equal for the same person, useless to anyone without the key."""
    return hmac.new(settings.OPENTIC_ID_HASH_KEY.encode(), resident_id.encode(), hashlib.sha256).hexdigest()


@transaction.atomic
def change_institution_status(actor: User, institution: Institution, new_status: str, reason: str) -> Institution:
    require_regulator(actor)
    reason = (reason or "").strip()
    if new_status not in InstitutionStatus.values:
        raise ValidationError({"status": _("Unknown status: %(status)s") % {"status": new_status}})
    if not reason:
        raise ValidationError({"reason": _("A change of an institution's status needs its reason.")})
    institution = Institution.objects.select_for_update().get(pk=institution.pk)
    old = institution.status
    if new_status not in STATUS_TRANSITIONS[old]:
        raise ValidationError({"status": _("“%(old)s” cannot become “%(new)s”.") % {
            "old": InstitutionStatus(old).label, "new": InstitutionStatus(new_status).label}})
    if new_status == InstitutionStatus.VALID and institution.cma_valid_until < timezone.localdate():
        raise ValidationError({"status": _(
            "The CMA certificate ended on %(day)s: register the renewed certificate before restoring “valid”."
        ) % {"day": formats.date_format(institution.cma_valid_until, "DATE_FORMAT")}})
    institution.status = new_status
    institution.save(update_fields=["status", "updated_at"])
    InstitutionStatusChange.objects.create(
        institution=institution, old_status=old, new_status=new_status, reason=reason, actor=actor
    )
    audit.record(
        actor=actor, action="status", entity=institution, changes={"status": [old, new_status]}, reason=reason
    )
    return institution


@transaction.atomic
def set_standard_status(
    actor: User, standard: Standard, status: str, reason: str, replaced_by: Standard | None = None
) -> Standard:
    require_regulator(actor)
    if status not in StandardStatus.values:
        raise ValidationError({"status": f"未知状态:{status}"})
    if status == StandardStatus.REPLACED and replaced_by is None:
        raise ValidationError({"replaced_by": "被替代的标准必须指明替代标准"})
    before = {"status": standard.status, "replaced_by": standard.replaced_by_id}
    standard.status = status
    standard.replaced_by = replaced_by
    standard.save(update_fields=["status", "replaced_by"])
    audit.record(
        actor=actor, action="update", entity=standard,
        changes=audit.diff(before, {"status": status, "replaced_by": standard.replaced_by_id}), reason=reason,
    )
    return standard


def institution_snapshot(institution: Institution) -> dict[str, Any]:
    return {
        "name": institution.name,
        "cma_number": institution.cma_number,
        "cma_valid_from": institution.cma_valid_from,
        "cma_valid_until": institution.cma_valid_until,
        "ownership": institution.ownership,
        "third_party": institution.third_party,
        "district": institution.district_id,
        "address": institution.address,
        "phone": institution.phone,
    }


@transaction.atomic
def link_account(actor: User, staff: Staff, user: User | None) -> Staff:
    """Say which platform account is this staff member (or that none is). Authority that the register gives
    a person, such as signing reports, reaches the account only through this link: two people who share a
    name never share it."""
    require(can_manage_staff_and_instruments(actor, staff.institution_id), "只有本机构管理员或监管部门可以关联账号")
    staff = Staff.objects.select_for_update().get(pk=staff.pk)
    if user is not None:
        if user.institution_id != staff.institution_id:
            raise ValidationError({"user": "只能关联本机构的账号"})
        if Staff.objects.filter(user=user).exclude(pk=staff.pk).exists():
            raise ValidationError({"user": "该账号已关联另一名人员"})
    old = staff.user_id
    staff.user = user
    staff.save(update_fields=["user"])
    audit.record(actor=actor, action="link-account", entity=staff, institution_id=staff.institution_id,
                 changes={"user": [old, user.pk if user else None]})
    return staff
