"""Bulk registration of a sampling campaign from a spreadsheet: all samples or none, every error listed."""

from __future__ import annotations

import hashlib

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from opentic.core.hanzi import to_simplified
from opentic.core.models import User
from opentic.core.tabular import TableError, read_table
from opentic.registry.importing import (
    Column,
    Context,
    ImportRejected,
    RowError,
    parse_date,
    parse_rows,
    split_list,
    text,
)
from opentic.registry.models import TestObject

from . import services
from .models import AnalysisService, Order, Sample

MAX_SAMPLES = 5000

COLUMNS = [
    Column("样品名称", "name", text(200), required=True),
    Column("检测对象", "object", text(100), required=True),
    Column("检测项目", "services", split_list, required=True),
    Column("样品描述", "description", text(500)),
    Column("生产批号", "batch_number", text(60)),
    Column("生产日期", "production_date", parse_date),
    Column("抽样地点", "sampling_place", text(200)),
    Column("抽样人", "sampler", text(60)),
]
HEADERS = [c.header for c in COLUMNS]


def import_samples(actor: User, order: Order, filename: str, data: bytes,
                   allow_non_accredited: bool = False) -> list[Sample]:
    """Register every row of the sheet as a sample of `order`, in one transaction, or nothing."""
    if actor.institution_id != order.institution_id:
        raise PermissionDenied("只能向本机构的委托单登记样品")
    ctx = Context(actor, "samples", hashlib.sha256(data).hexdigest())
    try:
        header, body = read_table(filename, data)
    except TableError as exc:
        raise ImportRejected([RowError(1, "文件", str(exc))]) from exc
    if len(body) > MAX_SAMPLES:
        raise ImportRejected([RowError(1, "文件", f"一次最多登记 {MAX_SAMPLES} 个样品")])
    rows = parse_rows(COLUMNS, header, body, ctx)
    objects = {o.name: o for o in TestObject.objects.filter(
        name__in={to_simplified(r.values["object"]) for r in rows if r.values.get("object")})}
    by_name: dict[str, AnalysisService] = {}
    for service in AnalysisService.objects.filter(institution_id=order.institution_id).select_related("parameter"):
        by_name.setdefault(service.keyword, service)
        by_name.setdefault(service.parameter.name, service)
    today = timezone.localdate()
    samples = []
    coverage: dict[tuple[int, tuple[int, ...]], set[int]] = {}
    for row in rows:
        v = row.values
        obj = objects.get(to_simplified(v["object"])) if v.get("object") else None
        if v.get("object") and obj is None:
            ctx.error(row.number, "检测对象", f"“{v['object']}”不在检测对象目录中")
        chosen = []
        for name in v.get("services") or []:
            found = by_name.get(to_simplified(name))
            if found is None:
                ctx.error(row.number, "检测项目", f"本机构没有检测项目“{name}”")
            else:
                chosen.append(found)
        if v.get("production_date") and v["production_date"] > today:
            ctx.error(row.number, "生产日期", "晚于今天")
        if obj is not None and chosen and not allow_non_accredited:
            key = (obj.pk, tuple(sorted(s.pk for s in chosen)))
            if key not in coverage:
                coverage[key] = services.accredited_services(order.institution_id, obj, chosen, today)
            outside = [s for s in chosen if s.pk not in coverage[key]]
            if outside:
                ctx.error(row.number, "检测项目", f"{'、'.join(s.parameter.name for s in outside)} 不在资质认定范围内"
                          "(如需检测,请选择“允许非认可项目”)")
        fields = {k: v[k] for k in ("name", "description", "batch_number", "production_date", "sampling_place",
                                    "sampler") if v.get(k) is not None}
        samples.append({**fields, "test_object": obj, "services": chosen})
    if not rows and not ctx.errors:
        ctx.error(2, "文件", "没有数据行")
    if ctx.errors:
        raise ImportRejected(ctx.errors)
    try:
        return services.register_samples(actor, order, samples, allow_non_accredited=allow_non_accredited)
    except ValidationError as exc:
        raise ImportRejected([RowError(1, "文件", m) for m in exc.messages]) from exc
