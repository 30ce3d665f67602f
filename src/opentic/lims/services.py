"""Every state change of the laboratory's work: one function, one transaction, audit events inside it.

The gates of ISO/IEC 17025 live here, each refusing with the reason and leaving nothing changed: results
only for received samples, by an analyst authorized for the method, on an instrument in calibration,
by a method not withdrawn; a second person verifies, re-entering the password; verified results are
locked; two people editing the same row cannot overwrite each other (optimistic locking on `version`).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from opentic.core import audit
from opentic.core.models import Role, User
from opentic.core.permissions import require
from opentic.numerics.formula import FormulaError
from opentic.numerics.rounding import RoundingError, to_decimal
from opentic.registry.importing import ImportRejected
from opentic.registry.models import (
    Instrument,
    ScopeLine,
    TestObject,
)

from . import lifecycle
from .gates import apply_calculations, budgeted_uncertainty, gate_instrument, gate_method, gate_value, judge_analysis
from .judgement import SEPARATOR, object_chain
from .models import (
    Analysis,
    AnalysisService,
    LabNumberCounter,
    Order,
    Sample,
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


def check_version(row: Sample | Analysis, expected: int | None) -> None:
    if expected is not None and row.version != expected:
        raise Conflict(f"{row} 已被他人修改(版本 {row.version},您看到的是 {expected}),请刷新后重试")


def bump(row: Sample | Analysis, fields: list[str]) -> None:
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


def transition(actor: User, sample: Sample, new: str, reason: str = "", expected_version: int | None = None,
                **fields: Any) -> Sample:
    sample = Sample.objects.select_for_update().get(pk=sample.pk)
    check_version(sample, expected_version)
    try:
        lifecycle.check(sample.state, new, reason)
    except lifecycle.TransitionError as exc:
        raise ValidationError(str(exc)) from exc
    old = sample.state
    sample.state, sample.state_reason = new, reason.strip() or sample.state_reason
    for name, value in fields.items():
        setattr(sample, name, value)
    bump(sample, ["state", "state_reason", *fields])
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
        return transition(actor, sample, lifecycle.SampleState.REJECTED, reason, expected_version,
                           condition=condition)
    return transition(actor, sample, lifecycle.SampleState.RECEIVED, "", expected_version, condition=condition,
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
    bump(sample, ["disposal_on"])
    audit.record(actor=actor, action="dispose", entity=sample, institution_id=sample.institution_id,
                 changes={"disposal_on": [None, on]}, reason=how)
    return sample


@transaction.atomic
def cancel_sample(actor: User, sample: Sample, reason: str, expected_version: int | None = None) -> Sample:
    require_member(actor, sample.institution_id)
    return transition(actor, sample, lifecycle.SampleState.CANCELLED, reason, expected_version)


@transaction.atomic
def invalidate_sample(actor: User, sample: Sample, reason: str, expected_version: int | None = None) -> Sample:
    require_member(actor, sample.institution_id, Role.REVIEWER)
    return transition(actor, sample, lifecycle.SampleState.INVALIDATED, reason, expected_version)


# ---------------------------------------------------------------- results


def progress(actor: User, sample: Sample) -> None:
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
        sample = transition(actor, sample, lifecycle.SampleState.IN_TESTING)
    if target and target != sample.state:
        transition(actor, sample, target)


def _recalculate(actor: User, sample: Sample, changed_keyword: str) -> None:
    analyses = list(sample.analyses.exclude(state=Analysis.State.RETRACTED).select_related("service"))
    try:
        changed = apply_calculations(actor, analyses, timezone.now())
    except (FormulaError, RoundingError) as exc:
        raise ValidationError(f"计算失败:{exc}") from exc
    for analysis, before in changed:
        judge_analysis(analysis, sample)
        bump(analysis, ["value", "uncertainty", "coverage_factor", "calculated", "state", "entered_by",
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
    check_version(analysis, expected_version)
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
    bump(analysis, ["value", "uncertainty", "coverage_factor", "instrument", "method_version", "entered_by",
                     "entered_at", "state", "conformity", "judged_against", "limit", "remark"])
    audit.record(actor=actor, action="result", entity=analysis, institution_id=sample.institution_id,
                 changes={**audit.diff(before, {"value": analysis.value, "uncertainty": analysis.uncertainty,
                                                "instrument": analysis.instrument_id}),
                          "conformity": analysis.conformity, "judged_against": analysis.judged_against},
                 reason=reason)
    _recalculate(actor, sample, analysis.service.keyword)
    progress(actor, sample)
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
    bump(analysis, ["inputs"])
    audit.record(actor=actor, action="inputs", entity=analysis, institution_id=sample.institution_id,
                 changes={"inputs": [before, clean]}, reason=reason)
    _recalculate(actor, sample, analysis.service.keyword)
    progress(actor, sample)
    analysis.refresh_from_db()
    return analysis


