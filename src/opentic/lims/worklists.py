"""Each role lands on its work: the analyst's analyses by due date, the reviewer's results awaiting
verification and worksheets awaiting release, the signatory's samples ready for a report, and the
institution admin's calibrations, reference materials, certificate and control targets that need care."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, F, Q
from django.utils import timezone

from opentic.core.models import Role, User
from opentic.registry.models import Institution, Instrument, InstrumentStatus

from .lifecycle import SampleState
from .models import Analysis, AnalysisService, ControlTarget, Position, ReferenceMaterial, Sample, Worksheet

HORIZON = dt.timedelta(days=30)  # what falls due within a month is shown to the admin
LIMIT = 50


@dataclass
class Worklist:
    analyses_due: list[Any] = field(default_factory=list)
    open_worksheets: list[Any] = field(default_factory=list)
    to_verify: list[Any] = field(default_factory=list)
    to_release: list[Any] = field(default_factory=list)
    to_approve: list[Any] = field(default_factory=list)
    calibrations_due: list[Any] = field(default_factory=list)
    materials_expiring: list[Any] = field(default_factory=list)
    certificate: dict[str, Any] | None = None
    methods_without_target: list[Any] = field(default_factory=list)


def worklist(user: User, institution_id: int) -> Worklist:
    today = timezone.localdate()
    out = Worklist()
    if user.has_role(Role.ANALYST, Role.INSTITUTION_ADMIN):
        out.analyses_due = list(Analysis.objects.filter(
            sample__institution_id=institution_id, state=Analysis.State.PENDING,
            sample__state__in=[SampleState.RECEIVED, SampleState.IN_TESTING])
            .select_related("sample__order", "service__parameter", "service__standard")
            .order_by(F("sample__order__due_on").asc(nulls_last=True), "sample__lab_number")[:LIMIT])
        out.open_worksheets = list(Worksheet.objects.filter(institution_id=institution_id,
                                                            state=Worksheet.State.OPEN)
                                   .select_related("service__parameter").order_by("id")[:LIMIT])
    if user.has_role(Role.REVIEWER, Role.INSTITUTION_ADMIN):
        out.to_verify = list(Sample.objects.filter(institution_id=institution_id,
                                                   state=SampleState.TO_BE_VERIFIED)
                             .annotate(waiting=Count("analyses", filter=Q(analyses__state=Analysis.State.ENTERED)))
                             .select_related("order").order_by("order__due_on", "lab_number")[:LIMIT])
        out.to_release = [w for w in Worksheet.objects.filter(institution_id=institution_id,
                                                              state=Worksheet.State.OPEN)
                          .annotate(empty=Count("positions", filter=Q(positions__kind=Position.Kind.SAMPLE,
                                                                      positions__analysis__value="")))
                          .select_related("service__parameter").order_by("id")[:LIMIT] if not w.empty]
    if user.has_role(Role.SIGNATORY, Role.INSTITUTION_ADMIN):
        out.to_approve = list(Sample.objects.filter(institution_id=institution_id, state=SampleState.VERIFIED)
                              .select_related("order__client").order_by("order__due_on", "lab_number")[:LIMIT])
    if user.has_role(Role.INSTITUTION_ADMIN):
        out.calibrations_due = list(Instrument.objects.filter(
            institution_id=institution_id, status=InstrumentStatus.IN_SERVICE,
            calibration_due__lte=today + HORIZON).order_by("calibration_due")[:LIMIT])
        out.materials_expiring = list(ReferenceMaterial.objects.filter(
            institution_id=institution_id, expires_on__lte=today + HORIZON).order_by("expires_on")[:LIMIT])
        institution = Institution.objects.get(pk=institution_id)
        # SAMR Order 163 art. 13: renew at least three months before the certificate expires.
        if institution.cma_valid_until <= today + dt.timedelta(days=92):
            out.certificate = {"number": institution.cma_number, "until": institution.cma_valid_until,
                               "expired": institution.cma_valid_until < today}
        with_target = set(ControlTarget.objects.filter(institution_id=institution_id)
                          .values_list("service_id", flat=True))
        out.methods_without_target = [s for s in AnalysisService.objects.filter(
            institution_id=institution_id, qc_controls__gt=0).select_related("parameter", "standard")
            if s.pk not in with_target]
    return out
