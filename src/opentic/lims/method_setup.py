"""A method's working rules, set by the institution admin: its QC policy, the plausible range of a result,
the inputs its formula asks the analyst for, and the instruments it runs on. A change raises the method's
version (results say which version made them) and needs a reason once results exist."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from opentic.core import audit
from opentic.core.models import Role, User
from opentic.numerics.formula import FormulaError, parse
from opentic.registry.models import Instrument

from .models import Analysis, AnalysisService
from .services import require_member

KEYWORD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,19}$")


@dataclass(frozen=True)
class Policy:
    qc_batch_size: int | None = None
    qc_blanks: int = 0
    qc_controls: int = 0
    qc_duplicates: int = 0
    plausible_min: Decimal | None = Decimal(0)
    plausible_max: Decimal | None = None
    out_of_range: str = "refuse"


def parse_inputs(text: str) -> list[dict[str, str]]:
    """One input per line: `keyword, label, unit` (full-width commas too): `m, 称样量, g`."""
    rows: list[dict[str, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.replace("，", ",").split(",")]
        if len(parts) != 3 or not all(parts):
            raise ValidationError({"inputs": f"第 {number} 行：应为“关键字, 名称, 单位”，如“m, 称样量, g”"})
        if not KEYWORD.match(parts[0]):
            raise ValidationError({"inputs": f"第 {number} 行：关键字“{parts[0]}”只能由字母、数字和下划线组成"})
        if parts[0] in {r["keyword"] for r in rows}:
            raise ValidationError({"inputs": f"第 {number} 行：关键字“{parts[0]}”重复"})
        rows.append({"keyword": parts[0], "label": parts[1], "unit": parts[2]})
    return rows


@transaction.atomic
def save_method_rules(actor: User, service: AnalysisService, policy: Policy, inputs: Sequence[dict[str, str]],
                      instruments: Sequence[Instrument], reason: str = "") -> AnalysisService:
    service = AnalysisService.objects.select_for_update().get(pk=service.pk)
    require_member(actor, service.institution_id, Role.INSTITUTION_ADMIN)
    if any(i.institution_id != service.institution_id for i in instruments):
        raise PermissionDenied("仪器不属于本机构")
    errors: dict[str, str] = {}
    if policy.qc_batch_size is not None and policy.qc_batch_size < 1:
        errors["qc_batch_size"] = "质控批量至少为 1 个样品"
    if policy.plausible_min is not None and policy.plausible_max is not None \
            and policy.plausible_min >= policy.plausible_max:
        errors["plausible_max"] = "合理范围上限必须大于下限"
    if policy.out_of_range not in ("refuse", "flag"):
        errors["out_of_range"] = "未知的处理方式"
    if inputs and not service.formula:
        errors["inputs"] = "只有计算项目（有公式的方法）才有输入项"
    if service.formula:
        try:
            names = parse(service.formula).names
        except FormulaError as exc:
            raise ValidationError({"formula": str(exc)}) from exc
        others = set(AnalysisService.objects.filter(institution_id=service.institution_id)
                     .values_list("keyword", flat=True))
        unknown = sorted(k["keyword"] for k in inputs if k["keyword"] not in names)
        if unknown:
            errors["inputs"] = f"公式 {service.formula} 中没有这些输入项：{'、'.join(unknown)}"
        clash = sorted(k["keyword"] for k in inputs if k["keyword"] in others)
        if clash:
            errors["inputs"] = f"输入项关键字与本机构的检测项目关键字相同：{'、'.join(clash)}"
    if errors:
        raise ValidationError(errors)
    fields = {"qc_batch_size": policy.qc_batch_size, "qc_blanks": policy.qc_blanks,
              "qc_controls": policy.qc_controls, "qc_duplicates": policy.qc_duplicates,
              "plausible_min": policy.plausible_min, "plausible_max": policy.plausible_max,
              "out_of_range": policy.out_of_range, "inputs": list(inputs)}
    before = {k: getattr(service, k) for k in fields}
    before_instruments = sorted(service.instruments.values_list("asset_number", flat=True))
    after_instruments = sorted(i.asset_number for i in instruments)
    changes = dict(audit.diff(before, fields))
    if before_instruments != after_instruments:
        changes["instruments"] = [before_instruments, after_instruments]
    if not changes:
        return service
    if Analysis.objects.filter(service=service).exclude(value="").exists() and not reason.strip():
        raise ValidationError({"reason": "该方法已有结果，修改方法设置必须说明理由"})
    for name, value in fields.items():
        setattr(service, name, value)
    service.version += 1
    service.full_clean()
    service.save()
    service.instruments.set(instruments)
    audit.record(actor=actor, action="update", entity=service, institution_id=service.institution_id,
                 changes={**changes, "version": [service.version - 1, service.version]}, reason=reason)
    return service
