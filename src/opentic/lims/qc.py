"""Internal quality control (ISO/IEC 17025 7.7): the control results of each worksheet, in standard deviations
from the control material's established target, judged by the Westgard rules together with the runs before
it. A rejection holds the worksheet, and the verification of its results, until a reviewer records the
corrective action."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from opentic.core import audit
from opentic.core.models import Role, User
from opentic.numerics.rounding import RoundingError, to_decimal
from opentic.numerics.stats.charts import Violation, westgard

from . import qc_policy
from .models import AnalysisService, ControlTarget, Position, QCRejection, ReferenceMaterial, Worksheet
from .services import require_member

HISTORY_RUNS = 20  # enough runs before this one for 10-x along each material, even when two alternate


@dataclass(frozen=True)
class ControlPoint:
    worksheet_id: int
    worksheet: str
    slot: int
    material_id: int
    value: Decimal
    z: float


@dataclass
class Judgement:
    points: list[ControlPoint]  # this worksheet's control results
    violations: list[Violation] = field(default_factory=list)  # the rules this run broke (or warned on)

    @property
    def rejected(self) -> bool:
        return any(v.reject for v in self.violations)


@dataclass(frozen=True)
class Release:
    released: bool
    rejection: QCRejection | None = None
    warnings: tuple[str, ...] = ()


@transaction.atomic
def set_control_target(actor: User, service: AnalysisService, material: ReferenceMaterial, mean: str, sd: str,
                       established_on: dt.date | None = None) -> ControlTarget:
    require_member(actor, service.institution_id, Role.INSTITUTION_ADMIN, Role.REVIEWER)
    if material.institution_id != service.institution_id:
        raise PermissionDenied("质控样不属于本机构")
    try:
        mean_d, sd_d = to_decimal(mean), to_decimal(sd)
    except RoundingError as exc:
        raise ValidationError("靶值和标准差必须是数值") from exc
    if sd_d <= 0:
        raise ValidationError({"sd": "标准差必须大于零"})
    target, created = ControlTarget.objects.select_for_update().get_or_create(
        service=service, reference_material=material,
        defaults={"institution_id": service.institution_id, "mean": mean_d, "sd": sd_d,
                  "established_on": established_on or timezone.localdate()})
    before = {"mean": str(target.mean), "sd": str(target.sd)} if not created else {}
    if not created:
        target.mean, target.sd = mean_d, sd_d
        target.established_on = established_on or timezone.localdate()
        target.save()
    changes: dict[str, Any] = {"method": str(service), "material": str(material), "mean": str(mean_d),
                               "sd": str(sd_d)}
    if before:
        changes = dict(audit.diff(before, {"mean": str(mean_d), "sd": str(sd_d)}))
    audit.record(actor=actor, action="create" if created else "update", entity=target,
                 institution_id=service.institution_id, changes=changes)
    return target


def _points(positions: list[Position], targets: dict[int, ControlTarget]) -> list[ControlPoint]:
    points = []
    for p in positions:
        assert p.reference_material_id is not None
        target = targets.get(p.reference_material_id)
        if target is None:
            raise ValidationError(f"质控样 {p.reference_material} 在本方法下还没有靶值和标准差,无法判断质控")
        value = to_decimal(p.value)
        points.append(ControlPoint(p.worksheet_id, p.worksheet.number, p.slot, p.reference_material_id, value,
                                   float((value - target.mean) / target.sd)))
    return points


def judge(sheet: Worksheet) -> Judgement:
    """This worksheet's control results with the released runs of the same method before it. Each control
    material is its own series: the rules across runs follow one material (level 1 of this run is compared
    with level 1 of the last, never with level 2), and the rules within a run compare the run's materials."""
    targets = {t.reference_material_id: t for t in ControlTarget.objects.filter(service_id=sheet.service_id)}
    controls = Position.objects.filter(kind=Position.Kind.CONTROL).select_related("worksheet", "reference_material")
    current = list(controls.filter(worksheet=sheet).order_by("slot"))
    missing = [p.slot for p in current if not p.value.strip()]
    if missing:
        raise ValidationError(f"第 {'、'.join(map(str, missing))} 位质控样结果还没有录入")
    points = _points(current, targets)
    earlier_sheets = list(Worksheet.objects.filter(service_id=sheet.service_id, state=Worksheet.State.RELEASED)
                          .exclude(pk=sheet.pk).order_by("-released_at", "-id")
                          .values_list("pk", flat=True)[:HISTORY_RUNS])
    earlier = list(controls.filter(worksheet_id__in=earlier_sheets, reference_material_id__in=targets)
                   .exclude(value="").order_by("slot"))
    by_sheet: dict[int, list[ControlPoint]] = {pk: [] for pk in reversed(earlier_sheets)}
    for point in _points(earlier, targets):
        by_sheet[point.worksheet_id].append(point)
    sheets = [run for run in by_sheet.values() if run] + [points]
    runs = [[p.z for p in run] for run in sheets]
    materials = [[p.material_id for p in run] for run in sheets]
    last = len(runs) - 1
    return Judgement(points, [v for v in westgard(runs, materials) if v.index == last] if points else [])


def release_worksheet(actor: User, sheet: Worksheet) -> Release:
    """Release a worksheet whose results and controls are complete. A Westgard rejection is recorded and holds
    the worksheet (in a transaction of its own: the hold must outlive the refusal) until a corrective action
    is recorded; after that the reviewer may release it, the action on file."""
    with transaction.atomic():
        sheet = Worksheet.objects.select_for_update().get(pk=sheet.pk)
        require_member(actor, sheet.institution_id, Role.REVIEWER)
        if sheet.state != Worksheet.State.OPEN:
            raise ValidationError("工作单已放行")
        empty = [p.slot for p in sheet.positions.select_related("analysis")
                 if (p.kind == Position.Kind.SAMPLE and p.analysis is not None and not p.analysis.value)
                 or (p.kind in (Position.Kind.BLANK, Position.Kind.DUPLICATE) and not p.value.strip())]
        if empty:
            raise ValidationError(f"第 {'、'.join(map(str, empty))} 位还没有结果,不能放行")
        qc_policy.check_release(sheet)
        judgement = judge(sheet)
        warnings = tuple(f"{v.rule}" for v in judgement.violations if not v.reject)
        rejected = [{"rule": v.rule, "scope": str(v.scope)} | ({} if v.material is None else {"material": v.material})
                    for v in judgement.violations if v.reject]
        if rejected and not sheet.rejections.filter(resolved_at__isnull=False).exists():
            rejection = sheet.rejections.filter(resolved_at__isnull=True).first()
            if rejection is None:
                rejection = QCRejection.objects.create(worksheet=sheet, rules=rejected, found_by=actor)
                audit.record(actor=actor, action="qc-rejected", entity=sheet, institution_id=sheet.institution_id,
                             changes={"rules": rejected, "z": [round(p.z, 3) for p in judgement.points]})
            return Release(False, rejection, warnings)
        sheet.state, sheet.released_by, sheet.released_at = Worksheet.State.RELEASED, actor, timezone.now()
        sheet.version += 1
        sheet.save(update_fields=["state", "released_by", "released_at", "version"])
        audit.record(actor=actor, action="release", entity=sheet, institution_id=sheet.institution_id,
                     changes={"state": ["open", "released"], "warnings": list(warnings), "rules": rejected,
                              "z": [round(p.z, 3) for p in judgement.points]})
        return Release(True, None, warnings)


@transaction.atomic
def record_corrective_action(actor: User, rejection: QCRejection, action: str) -> QCRejection:
    rejection = QCRejection.objects.select_for_update().select_related("worksheet").get(pk=rejection.pk)
    require_member(actor, rejection.worksheet.institution_id, Role.REVIEWER)
    if rejection.resolved_at is not None:
        raise ValidationError("这次质控失控已经记录过纠正措施")
    text = action.strip()
    if len(text) < 10:
        raise ValidationError({"corrective_action": "请写明原因分析和纠正措施(至少10个字)"})
    rejection.corrective_action, rejection.resolved_by, rejection.resolved_at = text, actor, timezone.now()
    rejection.save(update_fields=["corrective_action", "resolved_by", "resolved_at"])
    audit.record(actor=actor, action="corrective-action", entity=rejection.worksheet,
                 institution_id=rejection.worksheet.institution_id,
                 changes={"rules": rejection.rules, "corrective_action": text})
    return rejection


def chart_points(target: ControlTarget, limit: int = 60) -> list[ControlPoint]:
    """The control results of one material under one method, oldest first: the Levey–Jennings series."""
    rows = list(Position.objects.filter(kind=Position.Kind.CONTROL, reference_material_id=target.reference_material_id,
                                        worksheet__service_id=target.service_id).exclude(value="")
                .select_related("worksheet", "reference_material").order_by("-worksheet__created_at", "-id")[:limit])
    return _points(list(reversed(rows)), {target.reference_material_id: target})
