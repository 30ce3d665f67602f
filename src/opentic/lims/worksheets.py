"""Worksheets: analyses run together by one method on one instrument, with blanks, duplicates and controls."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from opentic.core import audit
from opentic.core.models import Role, User
from opentic.numerics.rounding import RoundingError, to_decimal
from opentic.registry.models import Instrument

from . import lifecycle
from .gates import gate_instrument, gate_method
from .models import Analysis, AnalysisService, Position, ReferenceMaterial, Worksheet
from .services import enter_inputs, enter_result, next_numbers, refusals_logged, require_member


@dataclass(frozen=True)
class QC:
    kind: str  # blank | duplicate | control
    reference_material: ReferenceMaterial | None = None
    duplicate_of: int | None = None  # index into the worksheet's analyses, for a duplicate


@refusals_logged
@transaction.atomic
def create_worksheet(actor: User, service: AnalysisService, instrument: Instrument, analyses: Sequence[Analysis],
                     qc: Sequence[QC] = ()) -> Worksheet:
    require_member(actor, service.institution_id, Role.ANALYST)
    today = timezone.localdate()
    gate_method(actor, service, today)
    gate_instrument(instrument, service.institution_id, today)
    if not analyses:
        raise ValidationError("工作单至少要有一个检测项目")
    rows = list(Analysis.objects.select_for_update().filter(pk__in=[a.pk for a in analyses]).select_related("sample"))
    by_pk = {a.pk: a for a in rows}
    for wanted in analyses:
        a = by_pk.get(wanted.pk)
        if a is None or a.sample.institution_id != service.institution_id:
            raise PermissionDenied("检测项目不属于本机构")
        if a.service_id != service.pk:
            raise ValidationError(f"样品 {a.sample.lab_number} 的该项目不是用本方法检测的")
        if a.state != Analysis.State.PENDING or not lifecycle.results_allowed(a.sample.state):
            raise ValidationError(f"样品 {a.sample.lab_number} 的该项目不是待检状态,不能排入工作单")
        if a.positions.filter(kind=Position.Kind.SAMPLE).exists():
            raise ValidationError(f"样品 {a.sample.lab_number} 的该项目已在另一张工作单上")
    for check in qc:
        if check.kind not in (Position.Kind.BLANK, Position.Kind.DUPLICATE, Position.Kind.CONTROL):
            raise ValidationError(f"未知的质控类型:{check.kind}")
        rm = check.reference_material
        if check.kind == Position.Kind.CONTROL:
            if rm is None or rm.institution_id != service.institution_id:
                raise ValidationError("质控样位置需要本机构的标准物质或质控样")
            if rm.expires_on < today:
                raise ValidationError(f"标准物质 {rm} 已于 {rm.expires_on} 过期,不能使用")
        if check.kind == Position.Kind.DUPLICATE and not (
                check.duplicate_of is not None and 0 <= check.duplicate_of < len(analyses)):
            raise ValidationError("平行样位置要指明它重复的是哪个样品")
    number = f"WS{today.year}-{next_numbers(service.institution_id, today.year, 1, 'worksheet')[0]:05d}"
    sheet = Worksheet.objects.create(institution_id=service.institution_id, number=number, service=service,
                                     instrument=instrument, created_by=actor)
    positions = [Position(worksheet=sheet, slot=0, kind=Position.Kind.BLANK) for c in qc if c.kind == "blank"]
    positions += [Position(worksheet=sheet, slot=0, kind=Position.Kind.SAMPLE, analysis=a) for a in analyses]
    positions += [Position(worksheet=sheet, slot=0, kind=c.kind, reference_material=c.reference_material,
                           analysis=analyses[c.duplicate_of] if c.duplicate_of is not None else None)
                  for c in qc if c.kind != "blank"]
    for slot, position in enumerate(positions, start=1):
        position.slot = slot
    Position.objects.bulk_create(positions)
    audit.record(actor=actor, action="create", entity=sheet, institution_id=service.institution_id,
                 changes={"number": number, "method": str(service), "instrument": instrument.asset_number,
                          "analyses": [a.pk for a in analyses],
                          "qc": [p.kind for p in positions if p.kind != "sample"]})
    return sheet


@transaction.atomic
def enter_worksheet_results(actor: User, sheet: Worksheet, values: dict[int, str],
                            reason: str = "", inputs: dict[int, dict[str, str]] | None = None) -> list[str]:
    """Save the typed values of a worksheet (position pk → value); QC values on their positions, sample
    values through `enter_result` with all its gates, and a calculated method's inputs (position pk →
    keyword → value) through `enter_inputs`. Returns the slots saved."""
    require_member(actor, sheet.institution_id, Role.ANALYST)
    if sheet.state != Worksheet.State.OPEN:
        raise ValidationError("工作单已放行,不能再录入")
    positions = {p.pk: p for p in sheet.positions.select_related("analysis")}
    saved = []
    for pk, typed in (inputs or {}).items():
        position = positions.get(pk)
        if position is None or position.analysis is None or position.kind != Position.Kind.SAMPLE:
            raise ValidationError(f"工作单上没有样品位置 {pk}")
        if typed != {k: position.analysis.inputs.get(k, "") for k in typed}:
            enter_inputs(actor, position.analysis, typed, reason=reason)
            saved.append(str(position.slot))
    for pk, raw in values.items():
        position = positions.get(pk)
        if position is None:
            raise ValidationError(f"工作单上没有位置 {pk}")
        raw = raw.strip()
        if position.kind == Position.Kind.SAMPLE:
            assert position.analysis is not None
            if not raw or raw == position.analysis.value:
                continue
            enter_result(actor, position.analysis, raw, instrument=sheet.instrument, reason=reason)
        else:
            if not raw or raw == position.value:
                continue
            try:
                to_decimal(raw)
            except RoundingError as exc:
                raise ValidationError(f"第 {position.slot} 位:不是数值") from exc
            before = position.value
            position.value = raw
            position.save(update_fields=["value"])
            audit.record(actor=actor, action="qc-result", entity=position, institution_id=sheet.institution_id,
                         changes={"value": [before, raw], "kind": position.kind, "worksheet": sheet.number},
                         reason=reason if before else "")
        saved.append(str(position.slot))
    return saved
