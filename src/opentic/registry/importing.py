"""Bulk import and export of the register as XLSX or CSV: institutions, scope, staff, instruments.

An import is all or nothing. Every row is parsed and checked first; if any row is wrong nothing is
written and every error comes back with its row, column and reason. Rows are matched to what is
already registered by their natural key (credit code; credit code + line number; credit code +
employee number; credit code + asset number), so importing the same file twice changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import models

from opentic.core import audit
from opentic.core.bulk import insert_rows
from opentic.core.models import User
from opentic.core.permissions import can_manage_staff_and_instruments
from opentic.registry.codes import (
    CodeError,
    normalize_credit_code,
    parse_cma_number,
    parse_standard_code,
)
from opentic.registry.models import (
    Institution,
    InstitutionStatus,
    InstrumentStatus,
    Ownership,
)

MAX_ROWS = 200_000
CREATED: dict[str, Any] = {"created": True}  # the change recorded for a new row (compared by identity)


@dataclass(frozen=True)
class RowError:
    row: int  # the row number as the spreadsheet shows it (header is row 1)
    column: str
    message: str

    def __str__(self) -> str:
        return f"第{self.row}行「{self.column}」:{self.message}"


class ImportRejected(Exception):
    def __init__(self, errors: list[RowError]):
        super().__init__(f"{len(errors)} 处错误,未导入任何数据")
        self.errors = errors


@dataclass
class ImportResult:
    kind: str
    rows: int
    created: int = 0
    updated: int = 0
    unchanged: int = 0


# ---------------------------------------------------------------- cell parsers (raise ValueError)


def text(max_length: int) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if len(value) > max_length:
            raise ValueError(f"不能超过{max_length}个字符")
        return value

    return parse


def parse_date(value: str) -> dt.date:
    cleaned = value.strip().replace("/", "-").replace(".", "-")
    cleaned = cleaned.replace("年", "-").replace("月", "-").replace("日", "")
    try:
        year, month, day = (int(p) for p in cleaned.split(" ")[0].split("-"))
        return dt.date(year, month, day)
    except ValueError:
        raise ValueError(f"“{value}”不是有效日期,应写作 2024-05-31") from None


YES = {"是", "Y", "YES", "TRUE", "1", "√"}
NO = {"否", "N", "NO", "FALSE", "0", "×"}


def parse_bool(value: str) -> bool:
    if value.upper() in YES:
        return True
    if value.upper() in NO:
        return False
    raise ValueError(f"“{value}”应为“是”或“否”")


def parse_decimal(value: str) -> Decimal:
    try:
        number = Decimal(value.replace(",", ""))
    except InvalidOperation:
        raise ValueError(f"“{value}”不是数字") from None
    if not number.is_finite() or number < 0:
        raise ValueError("应为非负数")
    return number


def choice(enum: type[models.TextChoices], labels_zh: Mapping[str, str]) -> Callable[[str], str]:
    by_text = {**{v: v for v in enum.values}, **{zh: v for v, zh in labels_zh.items()}}

    def parse(value: str) -> str:
        if value not in by_text:
            raise ValueError(f"“{value}”不在可选值中:{'、'.join(labels_zh.values())}")
        return by_text[value]

    return parse


def credit_code(value: str) -> str:
    try:
        return normalize_credit_code(value)
    except CodeError as exc:
        raise ValueError(str(exc)) from None


def cma_number(value: str) -> str:
    try:
        return parse_cma_number(value).number
    except CodeError as exc:
        raise ValueError(str(exc)) from None


def standard_code(value: str) -> str:
    try:
        return parse_standard_code(value).full
    except CodeError as exc:
        raise ValueError(str(exc)) from None


def positive_int(value: str) -> int:
    if not value.isdigit() or int(value) == 0:
        raise ValueError(f"“{value}”应为正整数")
    return int(value)


def split_list(value: str) -> list[str]:
    """Items separated by semicolons or commas (full- or half-width). The enumeration comma 、 is left in:
    a name may hold it (业务领域 “计量检定、校准、测试”); `resolve_names` splits on it when a whole item is
    not a name."""
    for sep in ("；", ",", "，"):
        value = value.replace(sep, ";")
    return [v.strip() for v in value.split(";") if v.strip()]


def resolve_names(items: Sequence[str], table: Mapping[str, Any]) -> tuple[list[Any], list[str]]:
    """Look each item up by code or name; an unknown item written as “M8、M7” is tried part by part.
    Returns what was found and what was not."""
    found, unknown = [], []
    for item in items:
        parts = [item] if item in table else [p.strip() for p in item.split("、") if p.strip()]
        for part in parts:
            if part in table:
                found.append(table[part])
            else:
                unknown.append(part if len(parts) > 1 else item)
    return found, unknown


OWNERSHIP_ZH: dict[str, str] = {
    Ownership.ADMINISTRATIVE: "行政", Ownership.PUBLIC_INSTITUTION: "事业单位",
    Ownership.STATE_OWNED: "国有企业", Ownership.PRIVATE: "民营", Ownership.FOREIGN: "外资",
}
STATUS_ZH: dict[str, str] = {
    InstitutionStatus.VALID: "有效", InstitutionStatus.SUSPENDED: "暂停",
    InstitutionStatus.REVOKED: "撤销", InstitutionStatus.EXPIRED: "过期",
}
INSTRUMENT_STATUS_ZH: dict[str, str] = {
    InstrumentStatus.IN_SERVICE: "在用", InstrumentStatus.OUT_OF_SERVICE: "停用",
    InstrumentStatus.RETIRED: "报废",
}


@dataclass(frozen=True)
class Column:
    header: str
    key: str
    parse: Callable[[str], Any] = str
    required: bool = False


@dataclass
class Row:
    number: int
    values: dict[str, Any]


@dataclass
class Context:
    """What one import run knows: who runs it, the file's rows, and the errors found so far."""

    actor: User
    kind: str
    digest: str
    errors: list[RowError] = field(default_factory=list)
    # What the regulator must resolve and the importer may not be told (a person active at another lab).
    for_regulator: list[dict[str, Any]] = field(default_factory=list)

    def error(self, row: int, column: str, message: str) -> None:
        self.errors.append(RowError(row, column, message))


def parse_rows(columns: Sequence[Column], header: list[str], body: list[list[str]], ctx: Context) -> list[Row]:
    by_header = {c.header: c for c in columns}
    unknown = [h for h in header if h and h not in by_header]
    for h in unknown:
        ctx.error(1, h, "未知的列")
    missing = [c.header for c in columns if c.required and c.header not in header]
    for h in missing:
        ctx.error(1, h, "缺少必填列")
    if unknown or missing:
        return []
    positions = [(i, by_header[h]) for i, h in enumerate(header) if h]
    # Parsers are pure, and a sheet repeats its credit codes, dates and standards on every row:
    # each distinct cell value is parsed once.
    parsed: dict[tuple[str, str], Any] = {}
    rows = []
    for offset, cells in enumerate(body):
        number = offset + 2
        values: dict[str, Any] = {}
        for i, column in positions:
            raw = cells[i].strip() if i < len(cells) else ""
            if not raw:
                if column.required:
                    ctx.error(number, column.header, "必填")
                values[column.key] = None
                continue
            key = (column.key, raw)
            if key not in parsed:
                try:
                    parsed[key] = column.parse(raw)
                except ValueError as exc:
                    parsed[key] = exc
            value = parsed[key]
            if isinstance(value, ValueError):
                ctx.error(number, column.header, str(value))
            else:
                values[column.key] = value
        rows.append(Row(number, values))
    return rows


def check_unique(rows: list[Row], keys: Sequence[str], label: str, ctx: Context) -> None:
    seen: dict[tuple[Any, ...], int] = {}
    for row in rows:
        key = tuple(row.values.get(k) for k in keys)
        if None in key:
            continue
        if key in seen:
            ctx.error(row.number, label, f"与第{seen[key]}行重复")
        else:
            seen[key] = row.number


def resolve_institutions(rows: list[Row], ctx: Context, *, own_data: bool) -> dict[str, Institution]:
    """Map each row's credit code to its institution; with own_data, only ones the actor may manage."""
    codes = {r.values["credit_code"] for r in rows if r.values.get("credit_code")}
    found = {i.credit_code: i for i in Institution.objects.filter(credit_code__in=codes)}
    for row in rows:
        code = row.values.get("credit_code")
        if not code:
            continue
        institution = found.get(code)
        if institution is None:
            ctx.error(row.number, "统一社会信用代码", f"机构 {code} 未在名录中登记")
        elif own_data and not can_manage_staff_and_instruments(ctx.actor, institution.pk):
            ctx.error(row.number, "统一社会信用代码", "无权导入其他机构的数据")
    return found


def upsert(
    model: type[models.Model],
    existing: dict[Any, Any],
    incoming: dict[Any, dict[str, Any]],
    result: ImportResult,
) -> dict[Any, dict[str, Any]]:
    """Create rows whose key is new, update rows whose values differ; return the changes by key.

    `incoming` holds validated values keyed by column name, the same columns for every row.
    """
    to_create: list[tuple[Any, ...]] = []
    to_update: list[models.Model] = []
    changes: dict[Any, dict[str, Any]] = {}
    fields: set[str] = set()
    columns: list[str] = []
    for key, values in incoming.items():
        current = existing.get(key)
        if current is None:
            columns = columns or list(values)
            to_create.append(tuple(values[c] for c in columns))
            changes[key] = CREATED
            continue
        before = {f: getattr(current, f) for f in values}
        diff = audit.diff(before, values)
        if not diff:
            result.unchanged += 1
            continue
        for f in diff:
            setattr(current, f, values[f])
        fields |= set(diff)
        to_update.append(current)
        changes[key] = diff
    if to_create:
        insert_rows(model, columns, to_create)
    if to_update:
        model.objects.bulk_update(to_update, sorted(fields), batch_size=2000)  # type: ignore[attr-defined]
    result.created += len(to_create)
    result.updated += len(to_update)
    return changes


def audit_by_institution(
    ctx: Context, entity: str, changes: dict[tuple[int, Any], dict[str, Any]]
) -> None:
    """One audit event per institution touched, naming every created row and every changed value."""
    grouped: dict[int, dict[str, Any]] = {}
    for (institution_id, key), change in changes.items():
        group = grouped.setdefault(institution_id, {"file_sha256": ctx.digest, "created": [], "updated": {}})
        if change is CREATED:
            group["created"].append(key)
        else:
            group["updated"][str(key)] = change
    for institution_id, group in grouped.items():
        audit.record(
            actor=ctx.actor, action="import", entity=entity, entity_id=institution_id,
            institution_id=institution_id, changes=group,
        )
