"""The report's JSON twin: every fact the report prints, as plain data, from which the PDF is rendered.

What ISO/IEC 17025:2017 7.8.2.1 a)–p) and 7.8.3 ask for, in the order a CMA report prints it: the lab and
where it tested, the client, the sample and its condition, the sampling block when the lab sampled, the
dates, the methods, the results with units, LOQ, limit and single-item judgement, the 检验结论 with its
判定依据 and decision rule, subcontracted and non-accredited items, remarks and deviations, the three
roles (主检, 审核, 批准) and the issue. The twin is stored with the report and served to the lab and the
regulator; it holds no images (the signatures' digests only).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any
from urllib.parse import urlparse

from django.conf import settings
from django.utils import timezone

from opentic.core.models import User
from opentic.lims.gates import RULES
from opentic.lims.judgement import basis_names, sample_conclusion
from opentic.lims.models import Analysis, Order, Sample
from opentic.numerics.conformity import STATEMENTS
from opentic.numerics.reporting import BelowLoq, Reporting, formatted
from opentic.numerics.rounding import to_decimal
from opentic.registry.codes import CodeError, parse_standard_code
from opentic.registry.models import Staff, Standard

from .models import Report, Signature

SCHEMA = "opentic-report/v2"
CONFORMITY_ZH = {outcome.value: text for outcome, text in STATEMENTS.items()}
STATUS_ZH = {"issued": "已签发", "superseded": "已被替代", "withdrawn": "已撤回"}
DEMO_HOSTS = {"127.0.0.1", "localhost", "::1", "0.0.0.0", "testserver"}


def zh_date(day: dt.date | dt.datetime | None) -> str:
    """2026年12月1日: the local date, without leading zeros, as Chinese reports write it."""
    if day is None:
        return ""
    if isinstance(day, dt.datetime):
        day = timezone.localtime(day).date()
    return f"{day.year}年{day.month}月{day.day}日"


def public_base() -> tuple[str, bool]:
    """The public verification address and whether it is a demo's (loopback or a reserved test domain):
    a report signed with such an address says so, since nobody else can reach it."""
    base = settings.OPENTIC_PUBLIC_URL.rstrip("/")
    host = (urlparse(base).hostname or "").lower()
    demo = host in DEMO_HOSTS or host.endswith((".example", ".test", ".localhost", ".invalid"))
    return base, demo


def results_of(sample: Sample) -> list[Analysis]:
    """The reported analyses, in the order they were registered (the order the client asked for them)."""
    return list(sample.analyses.exclude(state=Analysis.State.RETRACTED).select_related(
        "service__parameter", "service__standard", "entered_by", "verified_by").order_by("id"))


def name_of(user: User) -> str:
    """The name the register holds for this account's person (Staff.user); the account's display name only
    when it is linked to nobody."""
    staff = Staff.objects.filter(user=user).values_list("name", flat=True).first()
    return staff or user.get_full_name().strip() or user.get_username()


def person(user: User | None) -> dict[str, Any]:
    if user is None:
        return {}
    signature = Signature.objects.filter(user=user).values_list("sha256", flat=True).first()
    return {"user": user.pk, "name": name_of(user), "signature_sha256": signature or ""}


def _to_places(value: Decimal | None, places: int) -> Decimal | None:
    """A limit as the method states it: to the reported places when that loses nothing (0.010, not
    0.0100000000 as stored, nor 0.01), otherwise with its own significant digits."""
    if value is None:
        return None
    shown = value.quantize(Decimal(1).scaleb(-places))
    return shown if shown == value else value.normalize()


def _standard_title(name: str) -> str:
    try:
        code = parse_standard_code(name)
    except CodeError:
        return ""
    return Standard.objects.filter(code=code.code, year=code.year).values_list("title", flat=True).first() or ""


def _sampling(sample: Sample) -> dict[str, str]:
    return {"sampled_on": zh_date(sample.sampled_on), "sampler": sample.sampler,
            "sampling_place": sample.sampling_place, "sampled_unit": sample.sampled_unit,
            "manufacturer": sample.manufacturer, "model_spec": sample.model_spec, "trademark": sample.trademark,
            "production_date": zh_date(sample.production_date), "batch_number": sample.batch_number,
            "quantity": sample.quantity}


def _line(seq: int, a: Analysis, subcontracted: set[str]) -> dict[str, Any]:
    s = a.service
    loq, lod = _to_places(s.loq, s.places), _to_places(s.lod, s.places)
    reporting = Reporting(s.places, loq, lod, BelowLoq(s.below_loq))
    return {
        "seq": seq, "parameter": s.parameter.name, "method": s.standard.full_code, "unit": a.unit,
        # Full-width brackets in Chinese text: 未检出（<0.004）.
        "result": formatted(to_decimal(a.value), reporting).replace("(", "（").replace(")", "）"), "value": a.value,
        "loq": f"{loq:f} {a.unit}" if loq is not None else "",
        "uncertainty": f"{a.uncertainty}（k={a.coverage_factor}）" if a.uncertainty and a.coverage_factor
        else a.uncertainty,
        "limit": a.limit, "conformity": a.conformity, "conformity_label": CONFORMITY_ZH.get(a.conformity, ""),
        "accredited": a.accredited, "subcontracted": s.parameter.name in subcontracted, "remark": a.remark,
        "analysis": a.pk, "entered_by": a.entered_by_id, "verified_by": a.verified_by_id,
    }


def _split(text: str) -> set[str]:
    for separator in ("；", "、", "，", ",", ";"):
        text = text.replace(separator, ";")
    return {item.strip() for item in text.split(";") if item.strip()}


def _unique(people: list[User | None]) -> list[dict[str, Any]]:
    seen: dict[int, dict[str, Any]] = {}
    for user in people:
        if user is not None and user.pk not in seen:
            seen[user.pk] = person(user)
    return list(seen.values())


def build(sample: Sample, number: str, code: str, actor: User, fields: list[str], issued_at: dt.datetime,
          replaces: Report | None, reason: str) -> dict[str, Any]:
    order = sample.order
    institution = order.institution
    analyses = results_of(sample)
    subcontracted = _split(order.subcontracted)
    lines = [_line(i, a, subcontracted) for i, a in enumerate(analyses, 1)]
    entered = [a.entered_at for a in analyses if a.entered_at]
    conclusion = sample_conclusion(sample, analyses)
    rule = RULES.get(sample.decision_rule, RULES["simple"])
    methods = {a.service.standard.full_code: a.service.standard.title for a in analyses}
    base, demo = public_base()
    first, last = (zh_date(min(entered)), zh_date(max(entered))) if entered else ("", "")
    return {
        "schema": SCHEMA, "number": number, "code": code,
        "lab_name": institution.name, "lab_address": institution.address, "lab_phone": institution.phone,
        "credit_code": institution.credit_code, "cma_number": institution.cma_number,
        # Every test is done at the lab's own address; subcontracted items at the subcontractor's.
        "test_site": institution.address or institution.name,
        "accredited": bool(analyses) and all(a.accredited for a in analyses),
        "non_accredited": any(not a.accredited for a in analyses),
        "client": order.client.name, "client_address": order.client.address, "order": order.number,
        "client_contact": "　".join(p for p in (order.client.contact, order.client.phone) if p),
        "kind": order.kind, "kind_label": str(order.get_kind_display()),
        "sampled_by_lab": order.kind in Order.SAMPLING_KINDS,
        "sampling": _sampling(sample),
        "sample_name": sample.name, "lab_number": sample.lab_number, "object": sample.test_object.name,
        "description": sample.description, "condition": sample.condition,
        "received": zh_date(sample.received_at), "test_dates": [first, last] if entered else [],
        "methods": [{"code": c, "title": t} for c, t in methods.items()],
        "results": lines,
        "conclusion": conclusion.as_dict(),
        "basis": [{"name": name, "title": _standard_title(name)} for name in basis_names(sample)],
        "decision_rule": {"code": sample.decision_rule, "text": rule.description} if basis_names(sample) else {},
        "subcontracted": {"items": sorted(subcontracted), "subcontractor": order.subcontractor}
        if subcontracted else {},
        "remarks": [f"{line['parameter']}：{line['remark']}" for line in lines if line["remark"]],
        "prepared_by": _unique([a.entered_by for a in analyses]),
        "reviewed_by": _unique([a.verified_by for a in analyses]),
        "approved_by": {**person(actor), "fields": "、".join(fields)},
        "signatory": name_of(actor), "signatory_fields": "、".join(fields),
        "issued": zh_date(issued_at), "issued_at": issued_at.isoformat(),
        "replaces": replaces.number if replaces else "", "amendment_reason": reason,
        "verify_base": f"{base}/verify/", "demo": demo,
    }


# A value and its unit, or the parts of a compound unit, never part at a line break: "500 g", "5 kg/袋",
# "500 / g", "0.2 mg/kg". Applied to the free text of the printed page only; the twin keeps what was typed.
_GLUE = re.compile(r"(?<=\d) +(?=[A-Za-zµμ%‰°℃/\u4e00-\u9fff])|(?<=[≤≥<>]) +(?=\d)| +(?=/)|(?<=/) +")


def unbreakable(text: str) -> str:
    return _GLUE.sub("\u00a0", text) if text else text


def printable(data: dict[str, Any]) -> dict[str, Any]:
    """The twin with no-break spaces glued into its free text, for the template."""
    sampling = {k: unbreakable(v) for k, v in data.get("sampling", {}).items()}
    results = [{**line, **{k: unbreakable(str(line.get(k) or "")) for k in ("limit", "loq", "uncertainty", "unit")}}
               for line in data.get("results", [])]
    return {**data, "sampling": sampling, "results": results,
            **{k: unbreakable(data.get(k) or "") for k in ("description", "condition")},
            "remarks": [unbreakable(r) for r in data.get("remarks", [])]}
