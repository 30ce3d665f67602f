"""The gates a result passes and what it is computed and judged with, as pure of side effects as the models
allow: the method (authorized analyst, not withdrawn), the instrument (in service, in calibration), the
value (inside the method's plausible range), the calculation of a method's formula from the other results
and its inputs, the expanded uncertainty from the method's budget, and the judgement against the sample's
limit under its decision rule. `services` (entry) and `results_import` (files) use the same ones."""


from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Sequence
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q

from opentic.core.models import User
from opentic.numerics.conformity import ConformityError, DecisionRule, Limits, judge
from opentic.numerics.formula import FormulaError, calculate
from opentic.numerics.formula import parse as parse_formula
from opentic.numerics.rounding import to_decimal
from opentic.numerics.stats.uncertainty import Budget
from opentic.registry.models import (
    Instrument,
    InstrumentStatus,
    StandardStatus,
)

from . import budget
from .judgement import find_specification
from .models import (
    Analysis,
    AnalysisService,
    MethodAuthorization,
    Sample,
    Specification,
)

RULES = {
    "simple": DecisionRule(),
    "guarded": DecisionRule(guarded=True),
    "guarded_nonbinary": DecisionRule(guarded=True, binary=False),
}


SpecFinder = Callable[[Sample, int], "Specification | None"]


def judge_analysis(analysis: Analysis, sample: Sample, find: SpecFinder = find_specification) -> None:
    """Set the analysis's conformity against the sample's specification, under the sample's decision rule.

    Compared on the full value (全数值比较法, GB/T 8170 4.3.1), not the rounded one."""
    analysis.conformity = analysis.judged_against = analysis.limit = ""
    if not sample.specification or not analysis.value:
        return
    spec = find(sample, analysis.service.parameter_id)
    if spec is None:
        return
    if spec.unit != analysis.unit:
        raise ValidationError(f"单位不一致:结果以 {analysis.unit} 表示,{spec.name} 的限量以 {spec.unit} 表示")
    rule = RULES[sample.decision_rule]
    u = to_decimal(analysis.uncertainty) if analysis.uncertainty else None
    if rule.guarded and u is None:
        raise ValidationError({"uncertainty": "样品采用保护带判定规则,须录入该结果的扩展不确定度 U"})
    try:
        judgement = judge(to_decimal(analysis.value), Limits(spec.lower, spec.upper), rule, u)
    except ConformityError as exc:
        raise ValidationError(f"无法判定:{exc}") from exc
    analysis.conformity = judgement.outcome.value
    analysis.limit, analysis.judged_against = _judged_against(spec.name, spec.parameter.name, spec.lower,
                                                              spec.upper, spec.unit, rule.description)


@functools.lru_cache(maxsize=1024)
def _judged_against(name: str, parameter: str, lower: Decimal | None, upper: Decimal | None, unit: str,
                    rule: str) -> tuple[str, str]:
    """The limit as printed and what a judgement says it was made against; the same for every result of a
    specification and rule (an import judges thousands), so written once per limit."""
    limit = " ~ ".join(f"{v.normalize():f}" for v in (lower, upper) if v is not None)
    bound = "≤ " if lower is None else ("≥ " if upper is None else "")
    printed = f"{bound}{limit} {unit}"
    return printed, f"{name}：{parameter} {printed}；{rule}；全数值比较"


def gate_method(actor: User, service: AnalysisService, day: dt.date) -> None:
    if service.standard.status == StandardStatus.WITHDRAWN:
        raise ValidationError(f"方法 {service.standard} 已废止,不能再用于检测")
    authorized = MethodAuthorization.objects.filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=day), user=actor, standard=service.standard,
        valid_from__lte=day).exists()
    if not authorized:
        raise PermissionDenied(f"{actor.get_username()} 未获授权使用方法 {service.standard}")


def plausibility(service: AnalysisService, value: Decimal) -> str:
    """Why a value is outside the method's plausible range (empty when it is inside): a negative lead content
    is refused unless the method allows negative values."""
    low, high = service.plausible_min, service.plausible_max
    if (low is None or value >= low) and (high is None or value <= high):
        return ""
    bounds = f"{'' if low is None else f'{low.normalize():f}'} ~ {'' if high is None else f'{high.normalize():f}'}"
    return f"结果 {value} 超出方法 {service} 的合理范围（{bounds.strip()} {service.unit}）"


def gate_value(service: AnalysisService, value: Decimal, remark: str) -> str:
    """Refuse a value outside the plausible range, or accept it with the analyst's remark, as the method says."""
    problem = plausibility(service, value)
    if not problem:
        return ""
    if service.out_of_range == "flag":
        if not remark.strip():
            raise ValidationError({"reason": f"{problem}：请在备注中说明（如复核过的原因）后再保存"})
        return remark.strip()
    raise ValidationError({"value": f"{problem}，不能录入"})


def gate_instrument(instrument: Instrument | None, institution_id: int, day: dt.date) -> None:
    if instrument is None:
        return
    if instrument.institution_id != institution_id:
        raise PermissionDenied("仪器不属于本机构")
    if instrument.status != InstrumentStatus.IN_SERVICE:
        raise ValidationError(f"仪器 {instrument} 已停用,不能用于检测")
    if instrument.calibration_due is None or instrument.calibration_due < day:
        raise ValidationError(f"仪器 {instrument} 已超过校准有效期({instrument.calibration_due}),不能用于检测")


def apply_calculations(actor: User, analyses: Sequence[Analysis], now: dt.datetime) -> list[tuple[Analysis, str]]:
    """Recompute one sample's calculated analyses in memory from its entered ones; returns each analysis whose
    value changed with its old value. Verified results are left as they are. Raises FormulaError or
    RoundingError for a formula that cannot be evaluated."""
    methods = [(a, a.service) for a in analyses]  # each through its descriptor once, not five times
    formulas = {m.keyword: a for a, m in methods if m.formula}
    if not formulas:
        return []
    entered = {m.keyword: to_decimal(a.value) for a, m in methods if a.value and m.keyword not in formulas}
    with_u = {m.keyword: (entered[m.keyword], to_decimal(a.uncertainty),
                          to_decimal(a.coverage_factor) if a.coverage_factor else Decimal(2))
              for a, m in methods if m.keyword in entered and a.uncertainty}
    parsed = {k: parse_formula(a.service.formula) for k, a in formulas.items()}
    # Each formula's own inputs (mass, volume, dilution…) as the analyst typed them for this sample.
    local = {k: {name: to_decimal(v) for name, v in a.inputs.items() if v} for k, a in formulas.items()}
    results = calculate(parsed, entered, local)
    changed = []
    for keyword, value in results.items():
        analysis = formulas[keyword]
        new = "" if value is None else str(value)
        if new == analysis.value or analysis.state == Analysis.State.VERIFIED:
            continue
        if value is not None and plausibility(analysis.service, value):
            raise FormulaError(plausibility(analysis.service, value))
        changed.append((analysis, analysis.value))
        found = budget.calculated_uncertainty(parsed[keyword], with_u) if value is not None else None
        analysis.uncertainty, analysis.coverage_factor = (str(found[0]), str(found[1])) if found else ("", "")
        analysis.value, analysis.calculated, analysis.method_version = new, True, analysis.service.version
        analysis.state = Analysis.State.ENTERED if new else Analysis.State.PENDING
        analysis.entered_by, analysis.entered_at = actor, now
    return changed


def method_budget(service: AnalysisService) -> Budget | None:
    inputs = [budget.Input(c.name, c.distribution, float(c.relative), c.dof)
              for c in service.uncertainty_budget.all()]
    return budget.relative_budget(inputs) if inputs else None


def budgeted_uncertainty(service: AnalysisService, value: Decimal, found: Budget | None = None
                         ) -> tuple[str, str]:
    """U and k from the method's budget when the analyst gives none; empty when the method has no budget."""
    method = found if found is not None else method_budget(service)
    if method is None:
        return "", ""
    u, k = budget.expanded(value, method)
    return str(u), str(k)


def as_decimal(analysis: Analysis) -> Decimal | None:
    return to_decimal(analysis.value) if analysis.value else None
