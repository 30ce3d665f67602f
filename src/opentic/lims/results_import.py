"""Results from an instrument's export file, read through the instrument's saved column mapping.

The whole file is checked against the same gates as a result typed by hand (sample received, analyst
authorized for the method, instrument in calibration, method not withdrawn, numeric value, a reason to
change what was entered), calculations are redone and conformity judged, all in memory; then the
analyses, the samples' states and one audit event per change are written in bulk, in one transaction.
Any error anywhere and nothing is written: every error comes back with its row, column and reason.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from opentic.core import audit
from opentic.core.bulk import gc_paused, load_rows, update_rows
from opentic.core.models import Role, User
from opentic.core.tabular import TableError, read_table
from opentic.numerics.formula import FormulaError
from opentic.numerics.rounding import RoundingError, to_decimal
from opentic.registry.importing import ImportRejected, RowError
from opentic.registry.models import StandardStatus, TestObject

from . import lifecycle
from .gates import (
    apply_calculations,
    budgeted_uncertainty,
    gate_instrument,
    judge_analysis,
    method_budget,
    plausibility,
)
from .models import Analysis, AnalysisService, InstrumentMapping, MethodAuthorization, Sample, Specification
from .services import refusals_logged, require_member

MAX_ROWS = 50_000


@dataclass(frozen=True)
class Reading:
    row: int
    column: str
    lab_number: str
    keyword: str
    value: str


@dataclass
class ImportSummary:
    results: int = 0
    calculated: int = 0
    samples: int = 0


def read_file(mapping: InstrumentMapping, filename: str, data: bytes) -> tuple[list[Reading], list[RowError]]:
    try:
        header, body = read_table(filename, data)
    except TableError as exc:
        return [], [RowError(1, "文件", str(exc))]
    needed = [mapping.sample_column, *mapping.columns, *([mapping.type_column] if mapping.type_column else [])]
    errors = [RowError(1, h, "映射中的列在文件中不存在") for h in needed if h not in header]
    if errors:
        return [], errors
    if len(body) > MAX_ROWS:
        return [], [RowError(1, "文件", f"一次最多导入 {MAX_ROWS} 行")]
    at = {h: i for i, h in enumerate(header)}
    types = set(mapping.sample_types)
    readings = []
    for offset, cells in enumerate(body):
        row = offset + 2

        def cell(name: str, cells: list[str] = cells) -> str:
            i = at[name]
            return cells[i].strip() if i < len(cells) else ""

        if mapping.type_column and types and cell(mapping.type_column) not in types:
            continue  # calibration standards, blanks and checks of the instrument's own sequence
        lab_number = cell(mapping.sample_column)
        if not lab_number:
            continue
        for column, keyword in mapping.columns.items():
            value = cell(column)
            if value:
                readings.append(Reading(row, column, lab_number, keyword, value))
    return readings, []


@refusals_logged
@transaction.atomic
def import_results(actor: User, mapping: InstrumentMapping, filename: str, data: bytes,
                   reason: str = "") -> ImportSummary:
    with gc_paused():
        return _import(actor, mapping, filename, data, reason)


def _import(actor: User, mapping: InstrumentMapping, filename: str, data: bytes, reason: str) -> ImportSummary:
    require_member(actor, mapping.institution_id, Role.ANALYST)
    today, now = timezone.localdate(), timezone.now()
    readings, errors = read_file(mapping, filename, data)
    if errors:
        raise ImportRejected(errors)
    instrument = mapping.instrument
    try:
        gate_instrument(instrument, mapping.institution_id, today)
    except ValidationError as exc:
        raise ImportRejected([RowError(1, "仪器", m) for m in exc.messages]) from exc

    samples = {s.lab_number: s for s in load_rows(Sample.objects.select_for_update().filter(
        institution_id=mapping.institution_id, lab_number__in={r.lab_number for r in readings}))}
    live = load_rows(Analysis.objects.select_for_update().filter(sample__in=list(samples.values())).exclude(
        state=Analysis.State.RETRACTED))
    # A handful of methods serve thousands of analyses: load each once and share it, rather than join it
    # into every row (a model instance per joined table per row was most of the import's time).
    methods = AnalysisService.objects.filter(pk__in={a.service_id for a in live}).select_related(
        "standard", "parameter").prefetch_related("uncertainty_budget")
    method_by_id = {m.pk: m for m in methods}
    by_sample: dict[int, list[Analysis]] = {}
    by_key: dict[tuple[int, str], Analysis] = {}
    for a in live:
        a._state.fields_cache["service"] = method_by_id[a.service_id]
        by_sample.setdefault(a.sample_id, []).append(a)
        by_key[(a.sample_id, method_by_id[a.service_id].keyword)] = a
    services = {a.service_id: method_by_id[a.service_id] for a in by_key.values()}
    budgets = {pk: b for pk, service in services.items() if (b := method_budget(service)) is not None}
    authorized = set(MethodAuthorization.objects.filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=today), user=actor, valid_from__lte=today,
    ).values_list("standard_id", flat=True))

    changed: dict[int, Analysis] = {}
    events: list[audit.Change] = []
    allowed: dict[str, bool] = {}  # a sample state → may results be entered (asked once per state, not per row)
    entered = Analysis.State.ENTERED
    for r in readings:
        sample = samples.get(r.lab_number)
        if sample is None:
            errors.append(RowError(r.row, mapping.sample_column, f"本机构没有样品 {r.lab_number}"))
            continue
        if sample.state not in allowed:
            allowed[sample.state] = lifecycle.results_allowed(sample.state)
        if not allowed[sample.state]:
            errors.append(RowError(r.row, mapping.sample_column, f"样品 {r.lab_number} 当前状态不能录入结果"))
            continue
        found = by_key.get((sample.pk, r.keyword))
        if found is None:
            errors.append(RowError(r.row, r.column, f"样品 {r.lab_number} 没有检测项目 {r.keyword}"))
            continue
        a = found
        service = method_by_id[a.service_id]
        problem, value = _refusal(a, service, r, authorized, reason)
        if problem:
            errors.append(RowError(r.row, r.column, problem))
            continue
        value = str(to_decimal(r.value))
        implausible = plausibility(a.service, Decimal(value))
        if implausible and (a.service.out_of_range == "refuse" or not reason.strip()):
            errors.append(RowError(r.row, r.column, f"样品 {r.lab_number}：{implausible}"))
            continue
        if value == a.value:
            continue
        if implausible:
            a.remark = reason.strip()
        events.append(audit.Change("result", "lims.Analysis", str(a.pk), {"value": [a.value, value],
                                   "instrument": [a.instrument_id, instrument.pk], "file_row": r.row},
                                   reason if a.value else ""))
        # Set through the ids: the related objects are not needed here, and the descriptors cost per row.
        a.value, a.instrument_id, a.method_version = value, instrument.pk, service.version
        if a.service_id in budgets:
            a.uncertainty, a.coverage_factor = budgeted_uncertainty(service, Decimal(value), budgets[a.service_id])
        a.entered_by_id, a.entered_at, a.state = actor.pk, now, entered
        changed[a.pk] = a
    if errors:
        raise ImportRejected(errors)

    summary = ImportSummary(results=len(changed))
    find = _specification_finder(mapping.institution_id, list(samples.values()))
    touched = {a.sample_id for a in changed.values()}
    sample_by_id = {s.pk: s for s in samples.values()}
    for sample_id in touched:
        sample = sample_by_id[sample_id]
        summary.calculated += _recalculate(actor, sample, by_sample[sample_id], changed, events, now)
        for a in by_sample[sample_id]:
            if a.pk in changed:
                try:
                    judge_analysis(a, sample, find)
                except ValidationError as exc:
                    errors.append(RowError(1, a.service.keyword, f"样品 {sample.lab_number}:{'; '.join(exc.messages)}"))
    if errors:
        raise ImportRejected(errors)
    stamp = connection.ops.adapt_datetimefield_value(now)
    update_rows(Analysis, ["value", "uncertainty", "coverage_factor", "instrument_id", "method_version",
                           "entered_by_id", "entered_at", "state", "calculated", "conformity", "judged_against",
                           "limit", "remark", "version"],
                [(a.pk, a.value, a.uncertainty, a.coverage_factor, a.instrument_id, a.method_version,
                  a.entered_by_id, stamp, a.state, a.calculated, a.conformity, a.judged_against, a.limit, a.remark,
                  a.version + 1)
                 for a in changed.values()])
    summary.samples = _advance_samples([sample_by_id[i] for i in touched], by_sample, events)
    audit.record_many(actor=actor, institution_id=mapping.institution_id, events=[
        *events, audit.Change("import", "lims.InstrumentMapping", str(mapping.pk),
                              {"file": filename, "sha256": hashlib.sha256(data).hexdigest(),
                               "results": summary.results, "calculated": summary.calculated})])
    return summary


def _refusal(a: Analysis, service: AnalysisService, r: Reading, authorized: set[int], reason: str
             ) -> tuple[str, str]:
    """Why this reading cannot be imported (empty when it can), and its value as the result will hold it."""
    if service.formula:
        return f"{r.keyword} 由公式计算,不能从文件导入", ""
    if a.state == Analysis.State.VERIFIED:
        return f"样品 {r.lab_number} 的 {r.keyword} 已审核,不能修改", ""
    if service.standard.status == StandardStatus.WITHDRAWN:
        return f"方法 {service.standard} 已废止", ""
    if service.standard_id not in authorized:
        return f"未获授权使用方法 {service.standard}", ""
    try:
        value = str(to_decimal(r.value))
    except RoundingError:
        return f"“{r.value}”不是数值", ""
    if a.value and value != a.value and not reason.strip():
        return f"样品 {r.lab_number} 的 {r.keyword} 已有结果 {a.value},修改须说明理由", ""
    return "", value


def _specification_finder(institution_id: int, samples: list[Sample]):  # type: ignore[no-untyped-def]
    parents = dict(TestObject.objects.values_list("id", "parent_id"))
    specs: dict[tuple[str, int, int], Specification] = {
        (s.name, s.parameter_id, s.test_object_id): s for s in Specification.objects.filter(
            institution_id=institution_id, name__in={s.specification for s in samples if s.specification}
        ).select_related("parameter")}

    def find(sample: Sample, parameter_id: int) -> Specification | None:
        node: int | None = sample.test_object_id
        for _ in range(20):
            if node is None:
                return None
            spec = specs.get((sample.specification, parameter_id, node))
            if spec is not None:
                return spec
            node = parents.get(node)
        return None

    return find


def _recalculate(actor: User, sample: Sample, analyses: list[Analysis], changed: dict[int, Analysis],
                 events: list[audit.Change], now: dt.datetime) -> int:
    try:
        recalculated = apply_calculations(actor, analyses, now)
    except (FormulaError, RoundingError) as exc:
        raise ImportRejected([RowError(1, "计算", f"样品 {sample.lab_number}:{exc}")]) from exc
    for a, before in recalculated:
        events.append(audit.Change("calculate", "lims.Analysis", str(a.pk), {"value": [before, a.value]}))
        changed[a.pk] = a
    return len(recalculated)


def _advance_samples(samples: list[Sample], by_sample: dict[int, list[Analysis]],
                     events: list[audit.Change]) -> int:
    moved = []
    checked: set[tuple[str, str]] = set()
    for sample in samples:
        states = [a.state for a in by_sample[sample.pk]]
        if all(s in (Analysis.State.ENTERED, Analysis.State.VERIFIED) for s in states):
            target = lifecycle.SampleState.TO_BE_VERIFIED
        else:
            target = lifecycle.SampleState.IN_TESTING
        path = [lifecycle.SampleState.IN_TESTING] if sample.state == lifecycle.SampleState.RECEIVED else []
        if target != lifecycle.SampleState.IN_TESTING:
            path.append(target)
        for state in path:
            if state == sample.state:
                continue
            if (sample.state, state) not in checked:  # thousands of samples make the same one or two moves
                lifecycle.check(sample.state, state)
                checked.add((sample.state, state))
            events.append(audit.Change("state", "lims.Sample", str(sample.pk), {"state": [sample.state, state]}))
            sample.state = state
        if path:
            sample.version += 1
            moved.append(sample)
    update_rows(Sample, ["state", "version"], [(s.pk, s.state, s.version) for s in moved])
    return len(moved)
