"""The four sheets of the register — institutions, scope, staff, instruments — and the import service."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from opentic.core import audit
from opentic.core.models import User
from opentic.core.permissions import is_regulator, require
from opentic.core.tabular import TableError, read_table, write_csv, write_xlsx
from opentic.registry import tally
from opentic.registry.codes import CodeError, mask_resident_id, parse_standard_code, resident_id_key
from opentic.registry.importing import (
    INSTRUMENT_STATUS_ZH,
    MAX_ROWS,
    OWNERSHIP_ZH,
    STATUS_ZH,
    Column,
    Context,
    ImportRejected,
    ImportResult,
    Row,
    RowError,
    audit_by_institution,
    check_unique,
    choice,
    cma_number,
    credit_code,
    parse_bool,
    parse_date,
    parse_decimal,
    parse_rows,
    positive_int,
    resolve_institutions,
    resolve_names,
    split_list,
    standard_code,
    text,
    upsert,
)
from opentic.registry.models import (
    District,
    Domain,
    FunctionalZone,
    ImportBatch,
    Institution,
    InstitutionStatus,
    InstitutionStatusChange,
    Instrument,
    InstrumentStatus,
    Ownership,
    Parameter,
    ScopeLine,
    SignatoryAuthorization,
    SpatialUnit,
    Staff,
    Standard,
    TestObject,
)
from opentic.registry.services import institution_snapshot, person_key


def _yes_no(value: bool) -> str:
    return "是" if value else "否"


def _date(value: Any) -> str:
    return value.isoformat() if value else ""


# ---------------------------------------------------------------- institutions

INSTITUTION_COLUMNS = [
    Column("统一社会信用代码", "credit_code", credit_code, True),
    Column("机构名称", "name", text(200), True),
    Column("CMA证书编号", "cma_number", cma_number, True),
    Column("证书有效期起", "cma_valid_from", parse_date, True),
    Column("证书有效期止", "cma_valid_until", parse_date, True),
    Column("所有制", "ownership", choice(Ownership, OWNERSHIP_ZH), True),
    Column("第三方", "third_party", parse_bool, True),
    Column("所在区县", "district", text(20), True),
    Column("功能区", "zones", split_list),
    Column("业务领域", "domains", split_list),
    # Derived from the district and the zones (Institution.spatial_units): written for the reader, and
    # ignored on import, so that an exported file re-imports unchanged.
    Column("所属集群、集聚区和基地", "units", split_list),
    Column("地址", "address", text(300)),
    Column("电话", "phone", text(40)),
    Column("状态", "status", choice(InstitutionStatus, STATUS_ZH)),
]


def import_institutions(ctx: Context, rows: list[Row]) -> ImportResult:
    require(is_regulator(ctx.actor), "只有监管部门可以导入机构名录")
    check_unique(rows, ["credit_code"], "统一社会信用代码", ctx)
    check_unique(rows, ["cma_number"], "CMA证书编号", ctx)
    districts = {d.code: d for d in District.objects.all()} | {d.name: d for d in District.objects.all()}
    zones = {z.code: z for z in FunctionalZone.objects.all()} | {z.name: z for z in FunctionalZone.objects.all()}
    domains = {d.code: d for d in Domain.objects.all()} | {d.name: d for d in Domain.objects.all()}
    existing = {
        i.credit_code: i
        for i in Institution.objects.filter(credit_code__in=[r.values.get("credit_code") for r in rows])
        .prefetch_related("zones", "domains")
    }
    cma_owner = dict(
        Institution.objects.filter(cma_number__in=[r.values.get("cma_number") for r in rows])
        .values_list("cma_number", "credit_code")
    )
    for row in rows:
        v = row.values
        if v.get("district") and v["district"] not in districts:
            ctx.error(row.number, "所在区县", f"“{v['district']}”不是重庆市的区县名称或代码")
        for column, key, table in (("功能区", "zones", zones), ("业务领域", "domains", domains)):
            v[key], unknown = resolve_names(v.get(key) or [], table)
            for item in unknown:
                ctx.error(row.number, column, f"“{item}”不存在")
        if v.get("cma_valid_from") and v.get("cma_valid_until") and v["cma_valid_until"] < v["cma_valid_from"]:
            ctx.error(row.number, "证书有效期止", "早于有效期起")
        owner = cma_owner.get(v.get("cma_number") or "")
        if owner and owner != v.get("credit_code"):
            ctx.error(row.number, "CMA证书编号", f"已登记在机构 {owner} 名下")
        current = existing.get(v.get("credit_code") or "")
        if current and v.get("status") and v["status"] not in (current.status, current.current_status):
            ctx.error(row.number, "状态", "机构状态只能通过状态变更办理并说明理由,不能通过导入修改")
    if ctx.errors:
        raise ImportRejected(ctx.errors)

    result = ImportResult("institutions", len(rows))
    for row in rows:
        v = row.values
        values = {k: v[k] for k in ("name", "cma_number", "cma_valid_from", "cma_valid_until", "ownership",
                                     "third_party", "address", "phone")}
        values["address"] = values["address"] or ""
        values["phone"] = values["phone"] or ""
        district = districts[v["district"]]
        zone_codes = sorted({z.code for z in v["zones"]})
        domain_codes = sorted({d.code for d in v["domains"]})
        institution = existing.get(v["credit_code"])
        if institution is None:
            institution = Institution.objects.create(
                credit_code=v["credit_code"], district=district,
                status=v.get("status") or InstitutionStatus.VALID, **values,
            )
            institution.zones.set(zone_codes)
            institution.domains.set(domain_codes)
            InstitutionStatusChange.objects.create(
                institution=institution, new_status=institution.status, reason="导入登记", actor=ctx.actor
            )
            audit.record(actor=ctx.actor, action="create", entity=institution,
                         changes={**institution_snapshot(institution), "zones": zone_codes,
                                  "domains": domain_codes, "file_sha256": ctx.digest})
            result.created += 1
            continue
        before = {**institution_snapshot(institution),
                  "zones": sorted(z.code for z in institution.zones.all()),
                  "domains": sorted(d.code for d in institution.domains.all())}
        for key, value in values.items():
            setattr(institution, key, value)
        institution.district = district
        diff = audit.diff(before, {**institution_snapshot(institution), "zones": zone_codes, "domains": domain_codes})
        if not diff:
            result.unchanged += 1
            continue
        institution.save()
        institution.zones.set(zone_codes)
        institution.domains.set(domain_codes)
        audit.record(actor=ctx.actor, action="update", entity=institution,
                     changes={**diff, "file_sha256": ctx.digest}, reason="导入")
        result.updated += 1
    return result


def export_institutions(queryset: QuerySet[Institution]) -> Iterable[list[Any]]:
    # The layout, read once: 21 units, against one query per institution for Institution.spatial_units().
    units: dict[str, list[SpatialUnit]] = {}
    zone_units: dict[str, list[SpatialUnit]] = {}
    for unit in SpatialUnit.objects.prefetch_related("districts", "zones"):
        for d in unit.districts.all():
            units.setdefault(d.code, []).append(unit)
        for z in unit.zones.all():
            zone_units.setdefault(z.code, []).append(unit)
    for i in queryset.select_related("district").prefetch_related("zones", "domains").order_by("credit_code"):
        yield [
            i.credit_code, i.name, i.cma_number, _date(i.cma_valid_from), _date(i.cma_valid_until),
            OWNERSHIP_ZH[i.ownership], _yes_no(i.third_party), i.district.name,
            "；".join(z.name for z in i.zones.all()), "；".join(d.name for d in i.domains.all()),
            "；".join(sorted({u.name for u in [*units.get(i.district_id, []),
                                             *(u for z in i.zones.all() for u in zone_units.get(z.code, []))]})),
            i.address, i.phone, STATUS_ZH[i.current_status],  # the status today (registry.validity)
        ]


# ---------------------------------------------------------------- accredited scope

SCOPE_COLUMNS = [
    Column("统一社会信用代码", "credit_code", credit_code, True),
    Column("序号", "seq", positive_int, True),
    Column("领域", "field", text(60), True),
    Column("类别", "category", text(100), True),
    Column("检测对象", "test_object", text(100), True),
    Column("检测参数", "parameter", text(100), True),
    Column("标准编号", "standard", standard_code, True),
    Column("标准名称", "standard_title", text(300)),
    Column("限制范围", "restriction", text(200)),
    Column("说明", "note", text(200)),
    Column("生效日期", "valid_from", parse_date, True),
    Column("失效日期", "valid_until", parse_date),
]


def _catalogue(model: Any, names: set[str]) -> dict[str, Any]:
    """Name → row for a catalogue, creating the names it does not have yet (in bulk)."""
    found = {o.name: o for o in model.objects.filter(name__in=names)}
    missing = [model(name=n) for n in sorted(names - set(found))]
    if missing:
        model.objects.bulk_create(missing, batch_size=2000)
        found |= {o.name: o for o in model.objects.filter(name__in=[m.name for m in missing])}
    return found


def _standards(ctx: Context, rows: list[Row]) -> dict[str, Standard]:
    wanted: dict[str, str] = {}
    for row in rows:
        wanted.setdefault(row.values["standard"], row.values.get("standard_title") or "")
    parsed = {full: parse_standard_code(full) for full in wanted}
    found = {s.full_code: s for s in Standard.objects.filter(code__in={p.code for p in parsed.values()})}
    new = [Standard(code=p.code, year=p.year, compact=p.compact, title=wanted[f])
           for f, p in parsed.items() if f not in found]
    if new:
        Standard.objects.bulk_create(new)
        for s in Standard.objects.filter(code__in={s.code for s in new}):
            found.setdefault(s.full_code, s)
        audit.record(actor=ctx.actor, action="import", entity="registry.Standard", entity_id="catalogue",
                     changes={"created": sorted(s.full_code for s in new), "file_sha256": ctx.digest})
    return found


def import_scope(ctx: Context, rows: list[Row]) -> ImportResult:
    require(is_regulator(ctx.actor), "只有监管部门可以导入资质认定能力范围")
    check_unique(rows, ["credit_code", "seq"], "序号", ctx)
    institutions = resolve_institutions(rows, ctx, own_data=False)
    for row in rows:
        v = row.values
        if v.get("valid_from") and v.get("valid_until") and v["valid_until"] < v["valid_from"]:
            ctx.error(row.number, "失效日期", "早于生效日期")
    if ctx.errors:
        raise ImportRejected(ctx.errors)

    objects = _catalogue(TestObject, {r.values["test_object"] for r in rows})
    parameters = _catalogue(Parameter, {r.values["parameter"] for r in rows})
    standards = _standards(ctx, rows)
    institution_ids = {institutions[r.values["credit_code"]].pk for r in rows}
    existing = {(line.institution_id, line.seq): line
                for line in ScopeLine.objects.filter(institution_id__in=institution_ids)}
    incoming = {}
    for row in rows:
        v = row.values
        institution_id = institutions[v["credit_code"]].pk
        incoming[(institution_id, v["seq"])] = {
            "institution_id": institution_id, "seq": v["seq"], "field": v["field"], "category": v["category"],
            "test_object_id": objects[v["test_object"]].pk, "parameter_id": parameters[v["parameter"]].pk,
            "standard_id": standards[v["standard"]].pk, "restriction": v["restriction"] or "",
            "note": v["note"] or "", "valid_from": v["valid_from"], "valid_until": v["valid_until"],
        }
    result = ImportResult("scope", len(rows))
    changes = upsert(ScopeLine, existing, incoming, result)
    if changes:
        tally.rebuild(institution_ids)
    audit_by_institution(ctx, "registry.ScopeLine", changes)
    return result


def export_scope(queryset: QuerySet[Institution]) -> Iterable[list[Any]]:
    lines = (ScopeLine.objects.filter(institution__in=queryset)
             .select_related("institution", "test_object", "parameter", "standard")
             .order_by("institution__credit_code", "seq"))
    for s in lines.iterator(chunk_size=5000):
        yield [
            s.institution.credit_code, s.seq, s.field, s.category, s.test_object.name, s.parameter.name,
            s.standard.full_code, s.standard.title, s.restriction, s.note, _date(s.valid_from),
            _date(s.valid_until),
        ]


# ---------------------------------------------------------------- staff and signatories

STAFF_COLUMNS = [
    Column("统一社会信用代码", "credit_code", credit_code, True),
    Column("工号", "employee_no", text(30), True),
    Column("姓名", "name", text(60), True),
    Column("身份证号", "resident_id", text(18), True),
    Column("职称", "title", text(40)),
    Column("岗位", "position", text(60)),
    Column("在职", "active", parse_bool),
    Column("授权签字领域", "signing_fields", text(300)),
    Column("签字授权起", "signing_from", parse_date),
    Column("签字授权止", "signing_until", parse_date),
]


def import_staff(ctx: Context, rows: list[Row]) -> ImportResult:
    check_unique(rows, ["credit_code", "employee_no"], "工号", ctx)
    institutions = resolve_institutions(rows, ctx, own_data=True)
    ids = [i.pk for i in institutions.values()]
    existing = {(s.institution_id, s.employee_no): s
                for s in Staff.objects.filter(institution_id__in=ids).prefetch_related("signatory_authorizations")}
    keys: dict[str, int] = {}
    for row in rows:
        v = row.values
        institution = institutions.get(v.get("credit_code") or "")
        current = existing.get((institution.pk, v.get("employee_no") or "")) if institution else None
        raw_id = v.get("resident_id") or ""
        if current is not None and raw_id == current.id_masked:
            v["person_key"], v["id_masked"] = current.person_key, current.id_masked
        elif raw_id:
            try:
                number = resident_id_key(raw_id)
            except CodeError as exc:
                ctx.error(row.number, "身份证号", str(exc))
                continue
            v["person_key"], v["id_masked"] = person_key(number), mask_resident_id(number)
            if v["person_key"] in keys:
                ctx.error(row.number, "身份证号", f"与第{keys[v['person_key']]}行是同一人")
            keys[v["person_key"]] = row.number
        if v.get("signing_fields") and not v.get("signing_from"):
            ctx.error(row.number, "签字授权起", "有授权签字领域时必填")
    active_elsewhere = dict(
        Staff.objects.filter(person_key__in=keys, active=True).values_list("person_key", "institution_id")
    )
    for row in rows:
        v = row.values
        institution = institutions.get(v.get("credit_code") or "")
        other = active_elsewhere.get(v.get("person_key") or "")
        if institution and other and other != institution.pk and v.get("active") is not False:
            # Only the regulator may learn where else a person works; a lab learns only that the record
            # cannot be accepted, which the regulator resolves (issue 12, finding 9).
            if is_regulator(ctx.actor):
                ctx.error(row.number, "身份证号", "此人在另一机构在职;一人同一时间只能在一个机构执业")
            else:
                ctx.error(row.number, "身份证号", "该人员记录无法接受,请联系监管部门核实")
                ctx.for_regulator.append({"row": row.number, "importing_institution": institution.pk,
                                          "active_at": other, "person_key": v["person_key"]})
    if ctx.errors:
        raise ImportRejected(ctx.errors)

    result = ImportResult("staff", len(rows))
    for row in rows:
        v = row.values
        institution = institutions[v["credit_code"]]
        values = {"name": v["name"], "person_key": v["person_key"], "id_masked": v["id_masked"],
                  "title": v["title"] or "", "position": v["position"] or "",
                  "active": True if v["active"] is None else v["active"]}
        staff = existing.get((institution.pk, v["employee_no"]))
        if staff is None:
            staff = Staff.objects.create(institution=institution, employee_no=v["employee_no"], **values)
            diff: dict[str, Any] = {"created": {k: values[k] for k in ("name", "id_masked", "title", "active")}}
        else:
            diff = audit.diff({k: getattr(staff, k) for k in values}, values)
            if diff:
                Staff.objects.filter(pk=staff.pk).update(**values)
        diff |= _sync_signatory(staff, v)
        if diff:
            audit.record(actor=ctx.actor, action="import", entity=staff, institution_id=institution.pk,
                         changes={**diff, "file_sha256": ctx.digest})
            result.created += "created" in diff
            result.updated += "created" not in diff
        else:
            result.unchanged += 1
    return result


def _sync_signatory(staff: Staff, v: dict[str, Any]) -> dict[str, Any]:
    current = next(iter(sorted(staff.signatory_authorizations.all(), key=lambda a: a.valid_from, reverse=True)),
                   None) if staff.pk else None
    wanted = ({"fields": v["signing_fields"], "valid_from": v["signing_from"], "valid_until": v["signing_until"]}
              if v.get("signing_fields") else None)
    have = ({"fields": current.fields, "valid_from": current.valid_from, "valid_until": current.valid_until}
            if current else None)
    if wanted == have:
        return {}
    if current is not None:
        current.delete()
    if wanted is not None:
        SignatoryAuthorization.objects.create(staff=staff, **wanted)
    return {"signatory": [have, wanted]}


def export_staff(queryset: QuerySet[Institution]) -> Iterable[list[Any]]:
    staff = (Staff.objects.filter(institution__in=queryset).select_related("institution")
             .prefetch_related("signatory_authorizations").order_by("institution__credit_code", "employee_no"))
    for s in staff.iterator(chunk_size=2000):
        auth = max(s.signatory_authorizations.all(), key=lambda a: a.valid_from, default=None)
        yield [
            s.institution.credit_code, s.employee_no, s.name, s.id_masked, s.title, s.position, _yes_no(s.active),
            auth.fields if auth else "", _date(auth.valid_from) if auth else "",
            _date(auth.valid_until) if auth else "",
        ]


# ---------------------------------------------------------------- instruments

INSTRUMENT_COLUMNS = [
    Column("统一社会信用代码", "credit_code", credit_code, True),
    Column("资产编号", "asset_number", text(40), True),
    Column("仪器名称", "name", text(100), True),
    Column("型号", "model", text(100)),
    Column("出厂编号", "serial_number", text(60)),
    Column("测量范围", "measuring_range", text(100)),
    Column("校准有效期至", "calibration_due", parse_date),
    Column("大型仪器", "is_large", parse_bool),
    Column("原值(元)", "value_yuan", parse_decimal),
    Column("开放共享", "shared", parse_bool),
    Column("状态", "status", choice(InstrumentStatus, INSTRUMENT_STATUS_ZH)),
]


def import_instruments(ctx: Context, rows: list[Row]) -> ImportResult:
    check_unique(rows, ["credit_code", "asset_number"], "资产编号", ctx)
    institutions = resolve_institutions(rows, ctx, own_data=True)
    if ctx.errors:
        raise ImportRejected(ctx.errors)
    ids = [i.pk for i in institutions.values()]
    existing = {(i.institution_id, i.asset_number): i for i in Instrument.objects.filter(institution_id__in=ids)}
    incoming = {}
    for row in rows:
        v = row.values
        institution_id = institutions[v["credit_code"]].pk
        incoming[(institution_id, v["asset_number"])] = {
            "institution_id": institution_id, "asset_number": v["asset_number"], "name": v["name"],
            "model": v["model"] or "", "serial_number": v["serial_number"] or "",
            "measuring_range": v["measuring_range"] or "", "calibration_due": v["calibration_due"],
            "is_large": bool(v["is_large"]), "value_yuan": v["value_yuan"] if v["value_yuan"] is not None else 0,
            "shared": bool(v["shared"]), "status": v["status"] or InstrumentStatus.IN_SERVICE,
        }
    result = ImportResult("instruments", len(rows))
    changes = upsert(Instrument, existing, incoming, result)
    audit_by_institution(ctx, "registry.Instrument", changes)
    return result


def export_instruments(queryset: QuerySet[Institution]) -> Iterable[list[Any]]:
    instruments = (Instrument.objects.filter(institution__in=queryset).select_related("institution")
                   .order_by("institution__credit_code", "asset_number"))
    for i in instruments.iterator(chunk_size=5000):
        yield [
            i.institution.credit_code, i.asset_number, i.name, i.model, i.serial_number, i.measuring_range,
            _date(i.calibration_due), _yes_no(i.is_large), f"{i.value_yuan:.2f}", _yes_no(i.shared),
            INSTRUMENT_STATUS_ZH[i.status],
        ]


# ---------------------------------------------------------------- the service


@dataclass(frozen=True)
class Sheet:
    kind: str
    title: str
    columns: list[Column]
    run: Callable[[Context, list[Row]], ImportResult]
    export: Callable[[QuerySet[Institution]], Iterable[list[Any]]]
    regulator_only: bool


SHEETS = {
    s.kind: s
    for s in (
        Sheet("institutions", "检验检测机构名录", INSTITUTION_COLUMNS, import_institutions, export_institutions, True),
        Sheet("scope", "资质认定能力范围", SCOPE_COLUMNS, import_scope, export_scope, True),
        Sheet("staff", "人员及授权签字人", STAFF_COLUMNS, import_staff, export_staff, False),
        Sheet("instruments", "仪器设备", INSTRUMENT_COLUMNS, import_instruments, export_instruments, False),
    )
}


def run_import(actor: User, kind: str, filename: str, data: bytes) -> ImportResult:
    """Import one file, all or nothing. Raises ImportRejected with every error found."""
    sheet = SHEETS.get(kind)
    if sheet is None:
        raise ImportRejected([RowError(0, "kind", f"未知的导入类型:{kind}")])
    try:
        header, body = read_table(filename, data)
    except TableError as exc:
        raise ImportRejected([RowError(0, "文件", str(exc))]) from None
    if len(body) > MAX_ROWS:
        raise ImportRejected([RowError(0, "文件", f"一次最多导入{MAX_ROWS}行,本文件有{len(body)}行")])
    ctx = Context(actor=actor, kind=kind, digest=hashlib.sha256(data).hexdigest())
    rows = parse_rows(sheet.columns, header, body, ctx)
    if ctx.errors and not rows:  # the header itself is wrong
        raise ImportRejected(ctx.errors)
    if not rows:
        raise ImportRejected([RowError(2, "文件", "没有数据行")])
    try:
        with transaction.atomic():
            result = sheet.run(ctx, rows)
            institution = actor.institution if not is_regulator(actor) else None
            ImportBatch.objects.create(
                kind=kind, filename=filename[:255], sha256=ctx.digest, rows=result.rows, created=result.created,
                updated=result.updated, unchanged=result.unchanged, actor=actor, institution=institution,
            )
    except ImportRejected:
        _refer_to_regulator(ctx)
        raise
    return result


def _refer_to_regulator(ctx: Context) -> None:
    """Conflicts the importer was not told about, in the platform's chain where the regulator reads them.

    Written after the import's rollback, in a transaction of its own; the person appears by keyed hash only."""
    if not ctx.for_regulator:
        return
    with transaction.atomic():
        for conflict in ctx.for_regulator:
            audit.record(actor=ctx.actor, action="staff-conflict", entity="registry.Staff",
                         entity_id=str(conflict["person_key"])[:16], changes={**conflict, "file_sha256": ctx.digest})


def export(kind: str, queryset: QuerySet[Institution], fmt: str,
           rows: Callable[[Iterable[list[Any]]], Iterable[list[Any]]] | None = None) -> tuple[bytes, str]:
    """The sheet as XLSX or CSV bytes, in the same columns the import reads (`rows` may wrap the row
    stream, e.g. to report a job's progress)."""
    sheet = SHEETS[kind]
    headers = [c.header for c in sheet.columns]
    rows_out = sheet.export(queryset)
    if rows is not None:
        rows_out = rows(rows_out)
    stamp = timezone.localdate().strftime("%Y%m%d")
    if fmt == "csv":
        return write_csv(headers, rows_out), f"{kind}-{stamp}.csv"
    return write_xlsx(headers, rows_out, sheet.title), f"{kind}-{stamp}.xlsx"
