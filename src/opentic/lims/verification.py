"""The second person's check (ISO/IEC 17025 7.7, 21 CFR 11): results verified with an electronic signature, one
password for the lot and one signature over them all, in one transaction; and a result sent back for retest."""


from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from opentic.core import audit, lockout
from opentic.core.models import Role, User

from . import lifecycle, qc_policy
from .models import (
    Analysis,
    Position,
    QCRejection,
    Sample,
)
from .services import bump, check_version, progress, refusals_logged, require_member, transition


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
            check_version(analysis, expected_versions[analysis.pk])
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
        bump(analysis, ["state", "verified_by", "verified_at", "signature"])
        audit.record(actor=actor, action="verify", entity=analysis, institution_id=sample.institution_id,
                     changes={"state": ["entered", "verified"], "signature": signature,
                              "meaning": "verified / 审核", **({"signed_with": together} if len(rows) > 1 else {})})
    progress(actor, rows[0].sample)
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
    bump(analysis, ["state", "retest_reason"])
    retest = Analysis.objects.create(sample=sample, service=analysis.service, accredited=analysis.accredited,
                                     unit=analysis.unit, retest_of=analysis)
    audit.record(actor=actor, action="retest", entity=analysis, institution_id=sample.institution_id,
                 changes={"state": ["entered", "retracted"], "retest": retest.pk}, reason=reason)
    if sample.state in (lifecycle.SampleState.TO_BE_VERIFIED, lifecycle.SampleState.VERIFIED):
        transition(actor, sample, lifecycle.SampleState.IN_TESTING, reason)
    return retest
