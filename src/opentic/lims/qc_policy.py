"""A method's QC policy and the gates it sets (ISO/IEC 17025 7.7.1): what a worksheet must carry before it
may be released, and that no result is verified before the worksheet it was measured on is released.

The policy is per method: every batch of at most N samples carries its blanks, controls and duplicates
(e.g. GB 5009.12: a reagent blank and a control with each batch of at most 20 samples). Without a policy
a method needs no worksheet; a result that is on a worksheet still waits for its release."""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from .models import Analysis, AnalysisService, ControlTarget, Position, ReferenceMaterial, Worksheet


def has_policy(service: AnalysisService) -> bool:
    return bool(service.qc_blanks or service.qc_controls or service.qc_duplicates)


@dataclass(frozen=True)
class Required:
    batches: int
    blanks: int
    controls: int
    duplicates: int


def required(service: AnalysisService, samples: int) -> Required:
    """What a worksheet of `samples` sample positions must carry under the method's policy."""
    batches = max(1, math.ceil(samples / service.qc_batch_size)) if service.qc_batch_size else 1
    return Required(batches, service.qc_blanks * batches, service.qc_controls * batches,
                    service.qc_duplicates * batches)


def missing(sheet: Worksheet) -> list[str]:
    """Why the worksheet may not be released yet under its method's policy; empty when it may."""
    service = sheet.service
    kinds = list(sheet.positions.values_list("kind", "reference_material_id"))
    count = {k: sum(1 for kind, _ in kinds if kind == k) for k in Position.Kind.values}
    need = required(service, count[Position.Kind.SAMPLE])
    found: list[str] = []
    for kind, label, wanted in ((Position.Kind.BLANK, "空白", need.blanks),
                                (Position.Kind.CONTROL, "质控样", need.controls),
                                (Position.Kind.DUPLICATE, "平行样", need.duplicates)):
        if count[kind] < wanted:
            found.append(f"方法 {service} 的质控要求：{count[Position.Kind.SAMPLE]} 个样品须带 {wanted} 个{label}"
                         f"（每批不超过 {service.qc_batch_size or count[Position.Kind.SAMPLE]} 个样品），"
                         f"本工作单只有 {count[kind]} 个")
    materials = {m for kind, m in kinds if kind == Position.Kind.CONTROL and m is not None}
    with_target = set(ControlTarget.objects.filter(service=service, reference_material__in=materials)
                      .values_list("reference_material_id", flat=True))
    for material in ReferenceMaterial.objects.filter(pk__in=materials - with_target).order_by("pk"):
        found.append(f"质控样 {material} 在方法 {service} 下还没有靶值和标准差：请机构管理员或审核员在「质控图」页"
                     "设置靶值，之后才能判断质控并放行")
    return found


def check_release(sheet: Worksheet) -> None:
    problems = missing(sheet)
    if problems:
        raise ValidationError(problems)


def check_verifiable(analysis: Analysis) -> None:
    """A result is verified only after the worksheet it was measured on is released; under a QC policy, only
    when it was measured on one."""
    sheet = (Worksheet.objects.filter(positions__analysis_id=analysis.pk, positions__kind=Position.Kind.SAMPLE)
             .only("number", "state").first())
    if sheet is None:
        if has_policy(analysis.service):
            raise ValidationError(f"方法 {analysis.service} 要求在带质控的工作单上检测；"
                                  "该结果不在任何工作单上，不能审核")
        return
    if sheet.state != Worksheet.State.RELEASED:
        raise ValidationError(f"该结果所在的工作单 {sheet.number} 尚未放行（质控尚未判定合格），不能审核")
