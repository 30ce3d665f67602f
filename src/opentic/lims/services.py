"""Every state change of the laboratory's work: one function, one transaction, audit events inside it.

The gates of ISO/IEC 17025 live here, each refusing with the reason and leaving nothing changed: results
only for received samples, by an analyst authorized for the method, on an instrument in calibration,
by a method not withdrawn; a second person verifies, re-entering the password; verified results are
locked; two people editing the same row cannot overwrite each other (optimistic locking on `version`).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from opentic.core import audit, lockout
from opentic.core.models import Role, User
from opentic.core.permissions import require
from opentic.numerics.conformity import ConformityError, DecisionRule, Limits, judge
from opentic.numerics.formula import Formula, FormulaError, calculate
from opentic.numerics.formula import parse as parse_formula
from opentic.numerics.rounding import RoundingError, to_decimal
from opentic.numerics.stats.uncertainty import Budget
from opentic.registry.importing import ImportRejected
from opentic.registry.models import (
    Institution,
    Instrument,
    InstrumentStatus,
    ScopeLine,
    StandardStatus,
    TestObject,
)

from . import budget, lifecycle, qc_policy
from .judgement import SEPARATOR, find_specification, object_chain
from .models import (
    Analysis,
    AnalysisService,
    InstrumentMapping,
    LabNumberCounter,
    MethodAuthorization,
    Order,
    Position,
    QCRejection,
    Sample,
    Specification,
    UncertaintyComponent,
)


class Conflict(ValidationError):
    """Someone else changed the row since it was read."""


Fn = TypeVar("Fn", bound=Callable[..., Any])


def refusals_logged(fn: Fn) -> Fn:
    """A refused operation changes nothing, but the refusal itself is recorded: who tried what, and why not.

    The operation's own transaction has rolled back when this runs, so the event is written in a new one."""

    @functools.wraps(fn)
    def wrapper(actor: User, target: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(actor, target, *args, **kwargs)
        except (ValidationError, PermissionDenied, ImportRejected) as exc:
            institution_id = getattr(target, "institution_id", None)
            if institution_id is None and hasattr(target, "sample"):
                institution_id = target.sample.institution_id
            if isinstance(exc, ImportRejected):
                reason = f"{exc}:" + "; ".join(str(e) for e in exc.errors[:10])
            else:
                reason = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            with transaction.atomic():
                audit.record(actor=actor if actor.is_authenticated else None, action="refused", entity=target,
                             institution_id=institution_id, changes={"operation": fn.__name__}, reason=reason)
            raise

    return wrapper  # type: ignore[return-value]


def require_member(actor: User, institution_id: int, *roles: str) -> None:
    require(actor.is_authenticated and actor.institution_id == institution_id, "只能处理本机构的数据")
    if roles:
        require(actor.has_role(*roles, Role.INSTITUTION_ADMIN), "没有执行此操作的岗位权限")


def _check_version(row: Sample | Analysis, expected: int | None) -> None:
    if expected is not None and row.version != expected:
        raise Conflict(f"{row} 已被他人修改(版本 {row.version},您看到的是 {expected}),请刷新后重试")


def _bump(row: Sample | Analysis, fields: list[str]) -> None:
    row.version += 1
    row.save(update_fields=[*fields, "version"])


# ---------------------------------------------------------------- samples


def next_numbers(institution_id: int, year: int, count: int, series: str = "sample") -> list[int]:
    counter, _ = LabNumberCounter.objects.select_for_update().get_or_create(
        institution_id=institution_id, series=series, year=year)
    first = counter.last + 1
    counter.last += count
    counter.save(update_fields=["last"])
    return list(range(first, first + count))


def _next_lab_numbers(institution_id: int, year: int, count: int) -> list[str]:
    return [f"{year}-{n:06d}" for n in next_numbers(institution_id, year, count)]


def accredited_services(institution_id: int, test_object: TestObject, services: Sequence[AnalysisService],
                        day: dt.date) -> set[int]:
    """Which of these services the institution's scope covers for this object (or a broader one) today."""
    covered = set(ScopeLine.objects.valid_on(day).filter(
        institution_id=institution_id, test_object__in=object_chain(test_object),
        parameter__in={s.parameter_id for s in services}, standard__in={s.standard_id for s in services},
    ).values_list("parameter_id", "standard_id"))
    return {s.pk for s in services if (s.parameter_id, s.standard_id) in covered}


@refusals_logged
@transaction.atomic
def register_samples(actor: User, order: Order, samples: Sequence[dict[str, Any]],
                     allow_non_accredited: bool = False) -> list[Sample]:
    """Register samples with their analyses, numbered in one go; each dict holds the sample's fields and
    `services`, the analysis services requested. An analysis outside the accredited scope is refused
    unless `allow_non_accredited`, and is then marked so (the report will say it)."""
    require_member(actor, order.institution_id)
    if not samples:
        raise ValidationError("没有样品")
    today = timezone.localdate()
    numbers = _next_lab_numbers(order.institution_id, today.year, len(samples))
    created: list[Sample] = []
    analyses: list[Analysis] = []
    coverage: dict[tuple[int, tuple[int, ...]], set[int]] = {}  # a campaign repeats one object and one test list
    for number, data in zip(numbers, samples, strict=True):
        # The order's judgement basis and decision rule, agreed in contract review, apply to its samples.
        data = {"specification": SEPARATOR.join(order.judgement_basis), "decision_rule": order.decision_rule,
                **data}
        services: list[AnalysisService] = list(data.pop("services", []))
        if not services:
            raise ValidationError(f"样品“{data.get('name', '')}”没有检测项目")
        if any(s.institution_id != order.institution_id for s in services):
            raise PermissionDenied("检测项目不属于本机构")
        sample = Sample(institution_id=order.institution_id, order=order, lab_number=number, **data)
        sample.full_clean(exclude=["order", "institution"])
        if sample.production_date and sample.production_date > today:
            raise ValidationError(
                {"production_date": f"样品“{sample.name}”的生产日期 {sample.production_date} 晚于今天"})
        key = (sample.test_object_id, tuple(sorted(s.pk for s in services)))
        if key not in coverage:
            coverage[key] = accredited_services(order.institution_id, sample.test_object, services, today)
        covered = coverage[key]
        outside = [s for s in services if s.pk not in covered]
        if outside and not allow_non_accredited:
            raise ValidationError(
                f"样品“{sample.name}”的检测项目不在资质认定范围内:{'、'.join(str(s) for s in outside)};"
                "如需检测,请标注为非认可项目")
        created.append(sample)
        analyses += [Analysis(service=s, accredited=s.pk in covered, unit=s.unit) for s in services]
    Sample.objects.bulk_create(created)
    per_sample = [len(d.get("services", [])) for d in samples]
    position = 0
    for sample, count in zip(created, per_sample, strict=True):
        for analysis in analyses[position:position + count]:
            analysis.sample = sample
        position += count
    Analysis.objects.bulk_create(analyses)
    by_sample: dict[int, list[Analysis]] = {}
    for a in analyses:
        by_sample.setdefault(a.sample_id, []).append(a)
    # One lock of the chain head for the whole campaign, one event per sample.
    audit.record_many(actor=actor, institution_id=order.institution_id, events=[audit.Change(
        "register", "lims.Sample", str(sample.pk),
        {"order": order.number, "lab_number": sample.lab_number, "name": sample.name,
         "analyses": {a.pk: {"service": a.service_id, "accredited": a.accredited} for a in by_sample[sample.pk]}})
        for sample in created])
    return created


def _transition(actor: User, sample: Sample, new: str, reason: str = "", expected_version: int | None = None,
                **fields: Any) -> Sample:
    sample = Sample.objects.select_for_update().get(pk=sample.pk)
    _check_version(sample, expected_version)
    try:
        lifecycle.check(sample.state, new, reason)
    except lifecycle.TransitionError as exc:
        raise ValidationError(str(exc)) from exc
    old = sample.state
    sample.state, sample.state_reason = new, reason.strip() or sample.state_reason
    for name, value in fields.items():
        setattr(sample, name, value)
    _bump(sample, ["state", "state_reason", *fields])
    audit.record(actor=actor, action="state", entity=sample, institution_id=sample.institution_id,
                 changes={"state": [old, new], **{k: [None, v] for k, v in fields.items()}}, reason=reason)
    return sample


@transaction.atomic
def receive_sample(actor: User, sample: Sample, condition: str, accepted: bool = True, reason: str = "",
                   retention_days: int = 90, expected_version: int | None = None) -> Sample:
    """Receipt with the condition checked; a sample unfit for testing is rejected with the reason."""
    require_member(actor, sample.institution_id)
    now = timezone.now()
    if not accepted:
        return _transition(actor, sample, lifecycle.SampleState.REJECTED, reason, expected_version,
                           condition=condition)
    return _transition(actor, sample, lifecycle.SampleState.RECEIVED, "", expected_version, condition=condition,
                       received_at=now, retention_until=timezone.localdate() + dt.timedelta(days=retention_days))


@transaction.atomic
def dispose_sample(actor: User, sample: Sample, on: dt.date, how: str) -> Sample:
    """Record the disposal of a retained sample, not before its retention period has ended."""
    require_member(actor, sample.institution_id)
    sample = Sample.objects.select_for_update().get(pk=sample.pk)
    if sample.retention_until is None or on < sample.retention_until:
        raise ValidationError({"disposal_on": f"样品 {sample} 留样至 {sample.retention_until},不能提前处置"})
    if on > timezone.localdate():
        raise ValidationError({"disposal_on": "处置日期晚于今天"})
    if not how.strip():
        raise ValidationError({"how": "须说明处置方式"})
    sample.disposal_on = on
    _bump(sample, ["disposal_on"])
    audit.record(actor=actor, action="dispose", entity=sample, institution_id=sample.institution_id,
                 changes={"disposal_on": [None, on]}, reason=how)
    return sample


@transaction.atomic
def cancel_sample(actor: User, sample: Sample, reason: str, expected_version: int | None = None) -> Sample:
    require_member(actor, sample.institution_id)
    return _transition(actor, sample, lifecycle.SampleState.CANCELLED, reason, expected_version)


@transaction.atomic
def invalidate_sample(actor: User, sample: Sample, reason: str, expected_version: int | None = None) -> Sample:
    require_member(actor, sample.institution_id, Role.REVIEWER)
    return _transition(actor, sample, lifecycle.SampleState.INVALIDATED, reason, expected_version)


# ---------------------------------------------------------------- results

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


def _progress(actor: User, sample: Sample) -> None:
    """Move the sample along as its analyses fill in: testing, then to be verified, then verified."""
    live = list(sample.analyses.exclude(state=Analysis.State.RETRACTED).values_list("state", flat=True))
    target = None
    if live and all(s == Analysis.State.VERIFIED for s in live):
        target = lifecycle.SampleState.VERIFIED
    elif live and all(s in (Analysis.State.ENTERED, Analysis.State.VERIFIED) for s in live):
        target = lifecycle.SampleState.TO_BE_VERIFIED
    elif sample.state == lifecycle.SampleState.RECEIVED:
        target = lifecycle.SampleState.IN_TESTING
    if sample.state == lifecycle.SampleState.RECEIVED and target != lifecycle.SampleState.IN_TESTING:
        sample = _transition(actor, sample, lifecycle.SampleState.IN_TESTING)
    if target and target != sample.state:
        _transition(actor, sample, target)


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


def _recalculate(actor: User, sample: Sample, changed_keyword: str) -> None:
    analyses = list(sample.analyses.exclude(state=Analysis.State.RETRACTED).select_related("service"))
    try:
        changed = apply_calculations(actor, analyses, timezone.now())
    except (FormulaError, RoundingError) as exc:
        raise ValidationError(f"计算失败:{exc}") from exc
    for analysis, before in changed:
        judge_analysis(analysis, sample)
        _bump(analysis, ["value", "uncertainty", "coverage_factor", "calculated", "state", "entered_by",
                         "entered_at", "method_version", "conformity", "judged_against", "limit"])
        audit.record(actor=actor, action="calculate", entity=analysis, institution_id=sample.institution_id,
                     changes={"value": [before, analysis.value], "because": changed_keyword})


@refusals_logged
@transaction.atomic
def enter_result(actor: User, analysis: Analysis, value: str, *, instrument: Instrument | None = None,
                 uncertainty: str = "", coverage_factor: str = "", reason: str = "",
                 expected_version: int | None = None) -> Analysis:
    analysis = Analysis.objects.select_for_update().select_related("sample", "service__standard").get(pk=analysis.pk)
    sample = analysis.sample
    require_member(actor, sample.institution_id, Role.ANALYST)
    _check_version(analysis, expected_version)
    if not lifecycle.results_allowed(sample.state):
        raise ValidationError(f"样品 {sample} 处于“{lifecycle.SAMPLE_LABELS[lifecycle.SampleState(sample.state)]}”"
                              "状态,不能录入结果")
    if analysis.state in (Analysis.State.VERIFIED, Analysis.State.RETRACTED):
        raise ValidationError("已审核或已退回复测的结果不能修改")
    if analysis.service.formula:
        raise ValidationError("计算项目由公式得出,请录入它的输入项")
    try:
        number = to_decimal((value or "").strip())
        for extra in (uncertainty, coverage_factor):
            if extra:
                to_decimal(extra.strip())
    except RoundingError as exc:
        raise ValidationError({"value": f"“{value}”不是数值(小数点用“.”,不用千位分隔符)"}) from exc
    remark = gate_value(analysis.service, number, reason)
    if analysis.value and not reason.strip():
        raise ValidationError({"reason": "修改已录入的结果必须说明理由"})
    today = timezone.localdate()
    gate_method(actor, analysis.service, today)
    gate_instrument(instrument, sample.institution_id, today)
    before = {"value": analysis.value, "uncertainty": analysis.uncertainty, "instrument": analysis.instrument_id}
    if not uncertainty.strip():
        uncertainty, coverage_factor = budgeted_uncertainty(analysis.service, number)
    analysis.value, analysis.uncertainty, analysis.coverage_factor = str(number), uncertainty.strip(), \
        coverage_factor.strip()
    analysis.instrument, analysis.method_version = instrument, analysis.service.version
    analysis.entered_by, analysis.entered_at, analysis.state = actor, timezone.now(), Analysis.State.ENTERED
    analysis.remark = remark
    judge_analysis(analysis, sample)
    _bump(analysis, ["value", "uncertainty", "coverage_factor", "instrument", "method_version", "entered_by",
                     "entered_at", "state", "conformity", "judged_against", "limit", "remark"])
    audit.record(actor=actor, action="result", entity=analysis, institution_id=sample.institution_id,
                 changes={**audit.diff(before, {"value": analysis.value, "uncertainty": analysis.uncertainty,
                                                "instrument": analysis.instrument_id}),
                          "conformity": analysis.conformity, "judged_against": analysis.judged_against},
                 reason=reason)
    _recalculate(actor, sample, analysis.service.keyword)
    _progress(actor, sample)
    analysis.refresh_from_db()
    return analysis


@refusals_logged
@transaction.atomic
def enter_inputs(actor: User, analysis: Analysis, values: dict[str, str], reason: str = "") -> Analysis:
    """The inputs a calculated analysis asks for (称样量 m, 定容体积 V, 稀释倍数 f…), each a positive number in
    the unit the method names; the result is recalculated from them."""
    analysis = Analysis.objects.select_for_update().select_related("sample", "service").get(pk=analysis.pk)
    sample = analysis.sample
    require_member(actor, sample.institution_id, Role.ANALYST)
    if not lifecycle.results_allowed(sample.state):
        raise ValidationError(f"样品 {sample} 当前状态不能录入")
    if analysis.state in (Analysis.State.VERIFIED, Analysis.State.RETRACTED):
        raise ValidationError("已审核或已退回复测的结果不能修改")
    declared = {i["keyword"]: i for i in analysis.service.inputs}
    errors: dict[str, str] = {}
    clean: dict[str, str] = dict(analysis.inputs)
    for keyword, raw in values.items():
        spec = declared.get(keyword)
        if spec is None:
            errors[keyword] = f"方法 {analysis.service} 没有输入项 {keyword}"
            continue
        raw = (raw or "").strip()
        if not raw:
            clean.pop(keyword, None)
            continue
        try:
            number = to_decimal(raw)
        except RoundingError:
            errors[keyword] = f"{spec['label']}（{keyword}）：“{raw}”不是数值"
            continue
        if number <= 0:
            errors[keyword] = f"{spec['label']}（{keyword}）必须大于零（单位 {spec['unit']}）"
            continue
        clean[keyword] = str(number)
    if errors:
        raise ValidationError(errors)
    if clean == analysis.inputs:
        return analysis
    if any(analysis.inputs.get(k) for k in clean) and analysis.value and not reason.strip():
        raise ValidationError({"reason": "修改已录入的输入项必须说明理由"})
    before = dict(analysis.inputs)
    analysis.inputs = clean
    _bump(analysis, ["inputs"])
    audit.record(actor=actor, action="inputs", entity=analysis, institution_id=sample.institution_id,
                 changes={"inputs": [before, clean]}, reason=reason)
    _recalculate(actor, sample, analysis.service.keyword)
    _progress(actor, sample)
    analysis.refresh_from_db()
    return analysis


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


@transaction.atomic
def save_uncertainty_budget(actor: User, service: AnalysisService, inputs: Sequence[budget.Input]) -> Budget:
    """Replace the method's budget; its version goes up, as for any change of the method."""
    service = AnalysisService.objects.select_for_update().get(pk=service.pk)
    require_member(actor, service.institution_id, Role.INSTITUTION_ADMIN)
    for i, row in enumerate(inputs, start=1):
        if not row.name.strip():
            raise ValidationError(f"第 {i} 行:请写明不确定度来源")
        if row.distribution not in budget.DIVISORS:
            raise ValidationError(f"第 {i} 行:未知的分布 {row.distribution}")
        if not (0 < row.relative_percent < 100):
            raise ValidationError(f"第 {i} 行:相对值应在 0 到 100 % 之间")
    result = budget.relative_budget(inputs)
    before = [[c.name, c.distribution, str(c.relative), c.dof] for c in service.uncertainty_budget.all()]
    service.uncertainty_budget.all().delete()
    UncertaintyComponent.objects.bulk_create([
        UncertaintyComponent(service=service, name=row.name.strip(), distribution=row.distribution,
                             relative=Decimal(str(row.relative_percent)), dof=row.dof) for row in inputs])
    service.version += 1
    service.save(update_fields=["version"])
    audit.record(actor=actor, action="uncertainty-budget", entity=service, institution_id=service.institution_id,
                 changes={"inputs": [before, [[r.name, r.distribution, r.relative_percent, r.dof] for r in inputs]],
                          "u_rel": round(result.uc, 6), "dof": result.dof, "k": round(result.k, 2)})
    return result


def signed_content(analysis: Analysis, meaning: str, signer: User, at: dt.datetime) -> str:
    """What an electronic signature binds (21 CFR 11.50, 11.70): the result as shown, its meaning, who, when."""
    return signed_batch([analysis], meaning, signer, at)


def _signed_result(analysis: Analysis) -> dict[str, Any]:
    return {"analysis": analysis.pk, "sample": analysis.sample.lab_number, "value": analysis.value,
            "unit": analysis.unit, "entered_by": analysis.entered_by_id}


def signed_batch(analyses: Sequence[Analysis], meaning: str, signer: User, at: dt.datetime) -> str:
    """One signature over several results: every result as shown, the meaning, who, when. A lone result
    hashes exactly as it always did, so signatures recorded before batches existed still check."""
    if len(analyses) == 1:
        payload: dict[str, Any] = _signed_result(analyses[0])
    else:
        payload = {"analyses": [_signed_result(a) for a in analyses]}
    payload.update({"meaning": meaning, "signer": signer.pk, "at": at.isoformat()})
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def _verify(actor: User, sample: Sample, ids: Sequence[int], password: str,
            expected_versions: dict[int, int] | None = None) -> list[Analysis]:
    """Check every chosen result, then sign them together; the first refusal raises and, the caller being
    one transaction, leaves every one of them as it was."""
    require_member(actor, sample.institution_id, Role.REVIEWER)
    if not ids:
        raise ValidationError("请选择要审核的结果")
    lockout.check_signature_password(actor, password)  # refusals_logged records a failure after the rollback
    rows = list(Analysis.objects.select_for_update().select_related("sample", "service").filter(
        pk__in=ids, sample_id=sample.pk).order_by("pk"))
    if len(rows) != len(set(ids)):
        raise ValidationError("所选结果不属于该样品")
    rejected = set(QCRejection.objects.filter(
        resolved_at__isnull=True, worksheet__positions__kind=Position.Kind.SAMPLE,
        worksheet__positions__analysis_id__in=ids).values_list("worksheet__positions__analysis_id", flat=True))
    for analysis in rows:
        label = analysis.service.keyword
        if expected_versions and analysis.pk in expected_versions:
            _check_version(analysis, expected_versions[analysis.pk])
        if analysis.state != Analysis.State.ENTERED:
            raise ValidationError(f"{label}:只能审核已录入、尚未审核的结果")
        if analysis.entered_by_id == actor.pk:
            raise PermissionDenied(f"{label}:不能审核自己录入的结果")
        if analysis.pk in rejected:
            raise ValidationError(f"{label}：该结果所在的工作单质控失控（Westgard 拒绝规则），记录纠正措施之前不能审核")
        qc_policy.check_verifiable(analysis)
    now = timezone.now()
    signature = signed_batch(rows, "verified", actor, now)
    together = [a.pk for a in rows]
    for analysis in rows:
        analysis.signature = signature
        analysis.state, analysis.verified_by, analysis.verified_at = Analysis.State.VERIFIED, actor, now
        _bump(analysis, ["state", "verified_by", "verified_at", "signature"])
        audit.record(actor=actor, action="verify", entity=analysis, institution_id=sample.institution_id,
                     changes={"state": ["entered", "verified"], "signature": signature,
                              "meaning": "verified / 审核", **({"signed_with": together} if len(rows) > 1 else {})})
    _progress(actor, rows[0].sample)
    return rows


@refusals_logged
@transaction.atomic
def verify_result(actor: User, analysis: Analysis, password: str, expected_version: int | None = None) -> Analysis:
    """The second person's check, signed electronically: password re-entered, meaning 'verified'."""
    versions = {analysis.pk: expected_version} if expected_version is not None else None
    return _verify(actor, analysis.sample, [analysis.pk], password, versions)[0]


@refusals_logged
@transaction.atomic
def verify_results(actor: User, sample: Sample, analysis_ids: Sequence[int], password: str) -> list[Analysis]:
    """Several results of a sample verified at once: one password, one signature over them all, one
    transaction; a refusal of any leaves none verified."""
    return _verify(actor, sample, list(dict.fromkeys(analysis_ids)), password)


@transaction.atomic
def request_retest(actor: User, analysis: Analysis, reason: str) -> Analysis:
    """Send a result back: the original stays, marked retracted with the reason; a new analysis is pending."""
    analysis = Analysis.objects.select_for_update().select_related("sample").get(pk=analysis.pk)
    require_member(actor, analysis.sample.institution_id, Role.REVIEWER)
    if not reason.strip():
        raise ValidationError({"reason": "复测必须说明理由"})
    if analysis.state not in (Analysis.State.ENTERED, Analysis.State.VERIFIED):
        raise ValidationError("只有已录入的结果可以复测")
    sample = Sample.objects.select_for_update().get(pk=analysis.sample_id)
    if not lifecycle.results_allowed(sample.state) and sample.state != lifecycle.SampleState.VERIFIED:
        raise ValidationError("样品当前状态不能复测")
    analysis.state, analysis.retest_reason = Analysis.State.RETRACTED, reason.strip()
    _bump(analysis, ["state", "retest_reason"])
    retest = Analysis.objects.create(sample=sample, service=analysis.service, accredited=analysis.accredited,
                                     unit=analysis.unit, retest_of=analysis)
    audit.record(actor=actor, action="retest", entity=analysis, institution_id=sample.institution_id,
                 changes={"state": ["entered", "retracted"], "retest": retest.pk}, reason=reason)
    if sample.state in (lifecycle.SampleState.TO_BE_VERIFIED, lifecycle.SampleState.VERIFIED):
        _transition(actor, sample, lifecycle.SampleState.IN_TESTING, reason)
    return retest


def as_decimal(analysis: Analysis) -> Decimal | None:
    return to_decimal(analysis.value) if analysis.value else None


# ---------------------------------------------------------------- specifications and authorizations


@transaction.atomic
def save_specification(actor: User, institution: Institution, name: str, test_object: TestObject,
                       parameter_id: int, unit: str, lower: Decimal | None = None, upper: Decimal | None = None,
                       reason: str = "") -> Specification:
    """Create or change a limit set; a change needs its reason, and the old limits stay in the trail."""
    require_member(actor, institution.pk, Role.INSTITUTION_ADMIN)
    try:
        Limits(lower, upper)
    except ConformityError as exc:
        raise ValidationError(str(exc)) from exc
    spec = Specification.objects.select_for_update().filter(
        institution=institution, name=name.strip(), test_object=test_object, parameter_id=parameter_id).first()
    before = {"lower": spec.lower, "upper": spec.upper, "unit": spec.unit} if spec else {}
    if spec is not None and not reason.strip():
        raise ValidationError({"reason": "修改限量必须说明理由"})
    spec = spec or Specification(institution=institution, name=name.strip(), test_object=test_object,
                                 parameter_id=parameter_id)
    spec.lower, spec.upper, spec.unit = lower, upper, unit.strip()
    spec.full_clean()
    spec.save()
    audit.record(actor=actor, action="update" if before else "create", entity=spec, institution_id=institution.pk,
                 changes=audit.diff(before, {"lower": lower, "upper": upper, "unit": spec.unit}), reason=reason)
    return spec


@transaction.atomic
def authorize(actor: User, analyst: User, standard_id: int, valid_from: dt.date,
              valid_until: dt.date | None = None) -> MethodAuthorization:
    require_member(actor, analyst.institution_id or 0, Role.INSTITUTION_ADMIN)
    if valid_until is not None and valid_until < valid_from:
        raise ValidationError({"valid_until": "结束日期早于开始日期"})
    grant = MethodAuthorization.objects.create(user=analyst, standard_id=standard_id, valid_from=valid_from,
                                               valid_until=valid_until)
    audit.record(actor=actor, action="authorize", entity=grant, institution_id=analyst.institution_id,
                 changes={"user": analyst.get_username(), "standard": standard_id, "valid_from": valid_from,
                          "valid_until": valid_until})
    return grant


@transaction.atomic
def revoke(actor: User, grant: MethodAuthorization, reason: str) -> None:
    require_member(actor, grant.user.institution_id or 0, Role.INSTITUTION_ADMIN)
    if not reason.strip():
        raise ValidationError({"reason": "撤销授权必须说明理由"})
    audit.record(actor=actor, action="revoke", entity=grant, institution_id=grant.user.institution_id,
                 changes={"user": grant.user.get_username(), "standard": grant.standard_id}, reason=reason)
    grant.delete()


@transaction.atomic
def save_service(actor: User, institution: Institution, keyword: str, parameter_id: int, standard_id: int,
                 unit: str, places: int = 2, loq: Decimal | None = None, lod: Decimal | None = None,
                 below_loq: str = "lt_loq", formula: str = "", reason: str = "") -> AnalysisService:
    """Create a method setting, or change one (its version goes up, so results say which version made them)."""
    require_member(actor, institution.pk, Role.INSTITUTION_ADMIN)
    if formula.strip():
        try:
            Formula(formula)
        except FormulaError as exc:
            raise ValidationError({"formula": str(exc)}) from exc
    service = AnalysisService.objects.select_for_update().filter(institution=institution,
                                                                 keyword=keyword.strip()).first()
    fields = {"parameter_id": parameter_id, "standard_id": standard_id, "unit": unit.strip(), "places": places,
              "loq": loq, "lod": lod, "below_loq": below_loq, "formula": formula.strip()}
    if service is None:
        service = AnalysisService(institution=institution, keyword=keyword.strip(), **fields)
        service.full_clean()
        service.save()
        audit.record(actor=actor, action="create", entity=service, institution_id=institution.pk, changes=fields)
        return service
    before = {k: getattr(service, k) for k in fields}
    changes = audit.diff(before, fields)
    if not changes:
        return service
    if not reason.strip():
        raise ValidationError({"reason": "修改方法设置必须说明理由"})
    for name, value in fields.items():
        setattr(service, name, value)
    service.version += 1
    service.full_clean()
    service.save()
    audit.record(actor=actor, action="update", entity=service, institution_id=institution.pk,
                 changes={**changes, "version": [service.version - 1, service.version]}, reason=reason)
    return service


@transaction.atomic
def save_mapping(actor: User, instrument: Instrument, name: str, sample_column: str, columns: dict[str, str],
                 type_column: str = "", sample_types: Sequence[str] = ()) -> InstrumentMapping:
    """Save how one instrument's export file is read; every keyword must be one of the lab's methods."""
    require_member(actor, instrument.institution_id, Role.INSTITUTION_ADMIN, Role.ANALYST)
    if not columns:
        raise ValidationError({"columns": "至少要映射一个结果列"})
    known = set(AnalysisService.objects.filter(institution_id=instrument.institution_id).values_list(
        "keyword", flat=True))
    unknown = sorted(set(columns.values()) - known)
    if unknown:
        raise ValidationError({"columns": f"本机构没有这些检测项目关键字:{'、'.join(unknown)}"})
    mapping, created = InstrumentMapping.objects.update_or_create(
        institution_id=instrument.institution_id, instrument=instrument, name=name.strip(), defaults={
            "sample_column": sample_column.strip(), "type_column": type_column.strip(),
            "sample_types": [t.strip() for t in sample_types if t.strip()], "columns": columns})
    audit.record(actor=actor, action="create" if created else "update", entity=mapping,
                 institution_id=instrument.institution_id,
                 changes={"sample_column": mapping.sample_column, "type_column": mapping.type_column,
                          "sample_types": mapping.sample_types, "columns": columns})
    return mapping
