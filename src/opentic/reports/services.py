"""Issuing a test report: approve (e-signature), render, sign (PAdES), register in the ledger, in one transaction.

A report is never edited after issue (ISO/IEC 17025 7.8.8): an amendment is a new report number that
names the report it replaces and why; a withdrawal is a state change with a reason. Each of the three is
registered in the ledger.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import segno
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.template import Context, Engine, TemplateSyntaxError
from django.template.loader import render_to_string
from django.utils import timezone

from opentic.core import audit, lockout
from opentic.core.models import Role, User
from opentic.core.permissions import require
from opentic.ledger import esign
from opentic.ledger import services as ledger
from opentic.ledger.entry import new_code
from opentic.lims import lifecycle
from opentic.lims.models import Analysis, Sample
from opentic.lims.services import next_numbers
from opentic.registry.models import Institution, ScopeLine, SignatoryAuthorization

from . import marks, pki, seal, signatures, twin
from .models import Report, ReportNumber, ReportTemplate
from .signing import TimestampUnavailable, sign_pdf


def _signing_fields(actor: User, institution_id: int, day: dt.date) -> list[str]:
    """The fields the signatory may sign in: the authorizations of the staff member who is this account
    (Staff.user), never of whoever bears the same name."""
    grants = SignatoryAuthorization.objects.filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=day), staff__institution_id=institution_id,
        staff__user=actor, staff__active=True, valid_from__lte=day)
    fields: list[str] = []
    for grant in grants:
        text = grant.fields
        for separator in ("\uff1b", "、", ",", "\uff0c"):  # ；、,，
            text = text.replace(separator, ";")
        fields += [f.strip() for f in text.split(";") if f.strip()]
    return fields


def _twin(sample: Sample, number: str, code: str, actor: User, fields: list[str], issued_at: dt.datetime,
          replaces: Report | None, reason: str) -> dict[str, Any]:
    return twin.build(sample, number, code, actor, fields, issued_at, replaces, reason)


# What an institution's own template may not use: tags that reach outside the report's data.
FORBIDDEN_TAGS = re.compile(r"{%\s*(load|include|extends|debug|ssi|url|csrf_token)\b")
REQUIRED_IN_OUTPUT = ("报告结束",)


def _roles(data: dict[str, Any], preview: bool) -> list[dict[str, Any]]:
    """编制（主检）, 审核, 批准, each with the people and their signature images (the typed name without one).
    A preview shows the signatory's name only: the signature is given by issuing."""
    approver = data.get("approved_by") or {}
    people = [*data.get("prepared_by", []), *data.get("reviewed_by", []), approver]
    images = signatures.images([p["user"] for p in people if p.get("user")])

    def shown(p: dict[str, Any], sign: bool = True) -> dict[str, Any]:
        return {"name": p.get("name", ""), "image": images.get(p.get("user", 0), "") if sign else ""}

    signatory = shown(approver, sign=not preview)
    if approver.get("fields"):
        signatory["name"] = f"{signatory['name']}（授权签字人，{approver['fields']}）"
    return [{"title": "编制（主检）", "people": [shown(p) for p in data.get("prepared_by", [])]},
            {"title": "审核", "people": [shown(p) for p in data.get("reviewed_by", [])]},
            {"title": "批准", "people": [signatory] if approver else [], "pending": preview}]


def _context(data: dict[str, Any], preview: bool = False) -> dict[str, Any]:
    url = ledger.verification_url(data["credit_code"], data["number"], data["code"])
    return {**twin.printable(data), "verify_url": url, "preview": preview, "roles": _roles(data, preview),
            "qr": segno.make_qr(url, error="m").svg_data_uri(scale=4), "seal": seal.data_uri(data["credit_code"]),
            "seal_drawn": marks.data_uri(marks.seal_svg(data["lab_name"])), "cma_mark": marks.data_uri(marks.cma_svg())}


def _html(data: dict[str, Any], custom: str | None, preview: bool = False) -> str:
    context = {"r": _context(data, preview)}
    if custom is None:
        return render_to_string("reports/report.html", context)
    return Engine(libraries={}).from_string(custom).render(Context(context))


def _render(data: dict[str, Any], custom: str | None = None, preview: bool = False) -> bytes:
    from weasyprint import HTML  # imported here: loading Pango costs a fraction of a second

    html = _html(data, custom, preview)
    # PDF/A-3b: an archivable file (fonts embedded, colour profile, XMP), then signed as an incremental update.
    return bytes(HTML(string=html).write_pdf(custom_metadata=True, pdf_variant="pdf/a-3b"))


def _require_signatory(actor: User, institution_id: int, password: str) -> None:
    require(actor.is_authenticated and actor.institution_id == institution_id and actor.has_role(Role.SIGNATORY),
            "只有本机构的授权签字人可以批准报告")
    lockout.check_signature_password(actor, password)


def issue_report(actor: User, sample: Sample, password: str, replaces: Report | None = None,
                 reason: str = "") -> Report:
    """Approve and issue the sample's report (or its amendment, naming the report it replaces and why)."""
    _require_signatory(actor, sample.institution_id, password)
    return issue_approved(actor, sample, replaces, reason)


@dataclass(frozen=True)
class _Prepared:
    sample_id: int
    number: str
    code: str
    issued_at: dt.datetime
    twin: dict[str, Any]
    signature: str
    custom: str | None


def _check(actor: User, sample: Sample, replaces: Report | None, reason: str) -> list[str]:
    require(actor.institution_id == sample.institution_id and actor.has_role(Role.SIGNATORY),
            "只有本机构的授权签字人可以批准报告")
    analyses = twin.results_of(sample)
    if replaces is None:
        if sample.state != lifecycle.SampleState.VERIFIED:
            raise ValidationError("样品的全部结果审核后才能出具报告")
    else:
        replaces.refresh_from_db()
        if replaces.sample_id != sample.pk or replaces.state != Report.State.ISSUED or Report.objects.filter(
                replaces=replaces).exists():
            raise ValidationError("只能更正本样品现行有效的报告")
        if not reason.strip():
            raise ValidationError({"reason": "更正报告必须说明原因"})
    if not analyses or any(a.state != Analysis.State.VERIFIED for a in analyses):
        raise ValidationError("报告中的每个结果都必须已审核")
    fields = _signing_fields(actor, sample.institution_id, timezone.localdate())
    needed = set(ScopeLine.objects.filter(institution_id=sample.institution_id,
                                          parameter__in=[a.service.parameter_id for a in analyses],
                                          standard__in=[a.service.standard_id for a in analyses]
                                          ).values_list("field", flat=True))
    if not fields:
        raise PermissionDenied(f"{actor.get_full_name() or actor.get_username()} 不是本机构登记的授权签字人")
    if needed - set(fields):
        raise PermissionDenied(f"授权签字领域（{'、'.join(fields)}）不包括 {'、'.join(sorted(needed - set(fields)))}")
    return fields


def _reserve_number(actor: User, sample: Sample, institution: Institution) -> str:
    """The number this sample's next report is issued under: one an earlier attempt reserved and did not
    use (it died, or lost a race), else the next of the series, reserved here with its audit event."""
    kept = ReportNumber.objects.filter(sample=sample, state=ReportNumber.State.RESERVED).order_by("pk").first()
    if kept is not None:
        return kept.number
    today = timezone.localdate()
    serial = next_numbers(institution.pk, today.year, 1, "report")[0]
    number = f"{institution.cma_number[-4:]}-{today.year}-{serial:05d}"
    reserved = ReportNumber.objects.create(institution=institution, number=number, sample=sample)
    audit.record(actor=actor, action="report-number.reserve", entity=reserved, institution_id=institution.pk,
                 changes={"number": number, "sample": sample.lab_number})
    return number


@transaction.atomic
def _prepare(actor: User, sample: Sample, replaces: Report | None, reason: str) -> _Prepared:
    sample = Sample.objects.select_for_update().select_related("order__client", "order__institution",
                                                               "test_object").get(pk=sample.pk)
    fields = _check(actor, sample, replaces, reason)
    institution = sample.order.institution
    number = _reserve_number(actor, sample, institution)
    code, issued_at = new_code(), timezone.now().replace(microsecond=0)
    data = _twin(sample, number, code, actor, fields, issued_at, replaces, reason.strip())
    signature = hashlib.sha256(json.dumps({**data, "meaning": "approved / 批准"}, sort_keys=True,
                                          ensure_ascii=False).encode()).hexdigest()
    custom = ReportTemplate.objects.filter(institution=institution).values_list("html", flat=True).first()
    if custom is not None:  # saved before a mandatory part was added: refused (the number is given back)
        missing = _missing_parts(custom, _html(data, custom), data)
        if missing:
            raise ValidationError(f"本机构的报告模板缺少必备内容：{'、'.join(missing)}；请机构管理员更新报告模板")
    return _Prepared(sample.pk, number, code, issued_at, data, signature, custom)


@transaction.atomic
def _record(actor: User, prepared: _Prepared, pdf: bytes, replaces: Report | None, reason: str,
            on_issued: Callable[[Report], object] | None = None) -> Report:
    sample = Sample.objects.select_for_update().select_related("order__institution").get(pk=prepared.sample_id)
    _check(actor, sample, replaces, reason)  # again: nothing may have changed while the PDF was made
    institution = sample.order.institution
    receipt = ledger.register_report(
        actor, institution, prepared.number, pdf, esign=esign.approved(prepared.signature), code=prepared.code,
        issued_at=prepared.issued_at, event="amended" if replaces else "issued",
        replaces=(replaces.number, replaces.code) if replaces else None, reason=reason)
    report = Report.objects.create(institution=institution, sample=sample, number=prepared.number,
                                   replaces=replaces, amendment_reason=reason.strip(), code=prepared.code, pdf=pdf,
                                   twin=prepared.twin, ledger_index=receipt.index, signed_by=actor,
                                   issued_at=prepared.issued_at, signature=prepared.signature)
    if sample.state == lifecycle.SampleState.VERIFIED:
        lifecycle.check(sample.state, lifecycle.SampleState.REPORTED)
        sample.state = lifecycle.SampleState.REPORTED
        sample.version += 1
        sample.save(update_fields=["state", "version"])
    audit.record(actor=actor, action="issue" if replaces is None else "amend", entity=report,
                 institution_id=institution.pk, reason=reason,
                 changes={"number": prepared.number, "sample": sample.lab_number, "ledger_index": receipt.index,
                          "pdf_sha256": hashlib.sha256(pdf).hexdigest(), "signature": prepared.signature,
                          "meaning": "approved / 批准", "replaces": replaces.number if replaces else None})
    ReportNumber.objects.filter(institution=institution, number=prepared.number).update(
        state=ReportNumber.State.ISSUED, report=report)
    if on_issued is not None:  # in this transaction: a batch's item turns issued with its report, or not at all
        on_issued(report)
    return report


def issue_approved(actor: User, sample: Sample, replaces: Report | None = None, reason: str = "",
                   on_issued: Callable[[Report], object] | None = None) -> Report:
    """Issue once the signatory's electronic signature is checked (by `issue_report`, or once for a batch).

    Three steps, so that the slow one holds no lock and runs in parallel across processes: check and take
    a number (short transaction); render and sign (no transaction); check again, register in the ledger
    and record (short transaction). The number is reserved, with its audit event, in the first step; an
    attempt that fails later leaves it reserved for this sample, and the next attempt issues under it."""
    prepared = _prepare(actor, sample, replaces, reason)
    institution = Sample.objects.select_related("order__institution").get(pk=sample.pk).order.institution
    try:
        pdf = sign_pdf(_render(prepared.twin, prepared.custom),
                       pki.institution_credential(institution.credit_code, institution.name), pki.root(),
                       prepared.twin["signatory"], f"批准 {prepared.number}")
    except TimestampUnavailable as exc:
        raise ValidationError(str(exc)) from exc
    return _record(actor, prepared, pdf, replaces, reason, on_issued)


def _missing_parts(html: str, output: str, data: dict[str, Any]) -> list[str]:
    """What an institution's template leaves out of the report it renders."""
    missing = [m for m in (data["number"], *REQUIRED_IN_OUTPUT) if m not in output]
    if "OpenTICVerify" not in output or not re.search(r"{{\s*r\.qr\s*}}", html):
        missing.append("二维码与验证链接（r.qr、OpenTICVerify）")
    conclusion = (data.get("conclusion") or {}).get("text", "")
    if conclusion and conclusion not in output:
        missing.append("检验结论（r.conclusion.text）")
    return missing


@transaction.atomic
def save_template(actor: User, html: str, sample_twin: dict[str, Any]) -> ReportTemplate:
    """An institution admin's own report layout; refused unless it renders the report's mandatory parts."""
    require(actor.is_authenticated and actor.institution_id is not None and actor.has_role(Role.INSTITUTION_ADMIN),
            "只有机构管理员可以修改报告模板")
    if FORBIDDEN_TAGS.search(html):
        raise ValidationError({"html": "模板中不能使用 load、include、extends、debug、url 等标签"})
    try:
        output = _html(sample_twin, html)
    except TemplateSyntaxError as exc:
        raise ValidationError({"html": f"模板语法错误：{exc}"}) from exc
    missing = _missing_parts(html, output, sample_twin)
    if missing:
        raise ValidationError({"html": f"模板缺少必备内容：{'、'.join(missing)}"})
    template, _ = ReportTemplate.objects.update_or_create(institution_id=actor.institution_id,
                                                          defaults={"html": html})
    audit.record(actor=actor, action="report-template", entity=template, institution_id=actor.institution_id,
                 changes={"sha256": hashlib.sha256(html.encode()).hexdigest(), "length": len(html)})
    return template


def withdraw_report(actor: User, report: Report, password: str, reason: str) -> Report:
    require(actor.is_authenticated and actor.institution_id == report.institution_id and
            actor.has_role(Role.SIGNATORY), "只有本机构的授权签字人可以撤回报告")
    # Before the transaction: a wrong password's audit event must outlive the refusal's rollback.
    lockout.check_signature_password(actor, password)
    return _withdraw(actor, report, reason)


@transaction.atomic
def _withdraw(actor: User, report: Report, reason: str) -> Report:
    report = Report.objects.select_for_update().get(pk=report.pk)
    if not reason.strip():
        raise ValidationError({"reason": "撤回报告必须说明原因"})
    if report.state != Report.State.ISSUED:
        raise ValidationError("报告已撤回")
    ledger.register_report(actor, report.institution, report.number, bytes(report.pdf), code=report.code,
                           event="withdrawn", reason=reason, esign=esign.approved(hashlib.sha256(
                               f"withdraw {report.number} {reason.strip()}".encode()).hexdigest()))
    report.state, report.withdrawal_reason = Report.State.WITHDRAWN, reason.strip()
    report.save(update_fields=["state", "withdrawal_reason"])
    audit.record(actor=actor, action="withdraw", entity=report, institution_id=report.institution_id,
                 changes={"state": ["issued", "withdrawn"], "meaning": "withdrawn / 撤回"}, reason=reason)
    return report


def twin_json(report: Report) -> str:
    return json.dumps({**report.twin, "state": report.state, "status": report.status,
                       "ledger_index": report.ledger_index,
                       "pdf_sha256": hashlib.sha256(bytes(report.pdf)).hexdigest(),
                       "replaced_by": getattr(getattr(report, "replaced_by", None), "number", None)},
                      ensure_ascii=False, indent=2)
