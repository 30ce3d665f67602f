"""Every state change of a proficiency testing round: one function, one transaction, audit events inside it.

draft → open (results accepted until the deadline) → closed → evaluated → published; an upheld appeal sends
a published round back to closed for re-evaluation.
"""

from __future__ import annotations

import datetime as dt
import math
import secrets
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from opentic.core import audit
from opentic.core.models import Role, User
from opentic.core.permissions import is_regulator, require
from opentic.numerics.rounding import RoundingError, to_decimal
from opentic.numerics.stats import proficiency as stats
from opentic.numerics.stats.checks import NotFinite
from opentic.registry.models import Institution, Parameter, TestObject

from .models import Appeal, FollowUp, Item, ItemResult, Participation, Round, Scheme, Score, Submission

APPEAL_WORKING_DAYS = 15
SUBMITTING_ROLES = (Role.ANALYST, Role.REVIEWER, Role.INSTITUTION_ADMIN)


def can_manage(user: Any, scheme: Scheme) -> bool:
    """The regulator, or the administrator of the provider institution the regulator named."""
    if is_regulator(user):
        return True
    return bool(getattr(user, "is_authenticated", False) and scheme.provider_id is not None
                and user.institution_id == scheme.provider_id and user.has_role(Role.INSTITUTION_ADMIN))


def _require_manager(actor: User, scheme: Scheme) -> None:
    require(can_manage(actor, scheme), "只有能力验证提供者可以执行此操作")


def _chain(scheme: Scheme) -> int | None:
    return scheme.provider_id


def _decimal(raw: object, field: str, positive: bool = False) -> Decimal:
    try:
        value = to_decimal(str(raw).strip())
    except RoundingError as exc:
        raise ValidationError({field: f"“{raw}”不是数值"}) from exc
    if positive and value <= 0:
        raise ValidationError({field: "必须大于零"})
    return value


def _lock_round(r: Round) -> Round:
    return Round.objects.select_for_update().select_related("scheme").get(pk=r.pk)


def _transition(actor: User, r: Round, expected: Sequence[str], new: str, **extra: Any) -> Round:
    r = _lock_round(r)
    _require_manager(actor, r.scheme)
    if r.state not in expected:
        raise ValidationError(f"本轮当前状态为“{r.get_state_display()}”,不能进行此操作")
    before = r.state
    r.state = new
    for key, value in extra.items():
        setattr(r, key, value)
    r.version += 1
    r.save()
    audit.record(actor=actor, action=f"pt-{new}", entity=r, institution_id=_chain(r.scheme),
                 changes={"state": [before, new]})
    return r


# ---------------------------------------------------------------- provider


@transaction.atomic
def create_scheme(actor: User, code: str, name: str, parameter: Parameter, test_object: TestObject, unit: str,
                  provider: Institution | None = None) -> Scheme:
    require(is_regulator(actor), "只有监管部门可以设立能力验证计划")
    if not code.strip() or not name.strip() or not unit.strip():
        raise ValidationError("计划编号、名称和单位都必须填写")
    if Scheme.objects.filter(code=code.strip()).exists():
        raise ValidationError({"code": f"计划编号 {code} 已存在"})
    scheme = Scheme.objects.create(code=code.strip(), name=name.strip(), parameter=parameter,
                                   test_object=test_object, unit=unit.strip(), provider=provider, created_by=actor)
    audit.record(actor=actor, action="create", entity=scheme, institution_id=_chain(scheme),
                 changes={"code": scheme.code, "name": scheme.name, "parameter": parameter.name,
                          "provider": provider.name if provider else "监管部门"})
    return scheme


@dataclass(frozen=True)
class RoundSettings:
    assigned_method: str = Round.AssignedValue.ALGORITHM_A
    sigma_method: str = Round.Sigma.ROBUST
    sigma_value: str = ""
    score_kind: str = Round.ScoreKind.Z
    reference_value: str = ""
    reference_uncertainty: str = ""


def _settings(s: RoundSettings) -> dict[str, Any]:
    if s.assigned_method not in Round.AssignedValue.values:
        raise ValidationError({"assigned_method": "未知的指定值方法"})
    if s.sigma_method not in Round.Sigma.values:
        raise ValidationError({"sigma_method": "未知的能力评定标准差方法"})
    if s.score_kind not in Round.ScoreKind.values:
        raise ValidationError({"score_kind": "未知的评价统计量"})
    out: dict[str, Any] = {"assigned_method": s.assigned_method, "sigma_method": s.sigma_method,
                           "score_kind": s.score_kind, "sigma_value": None, "reference_value": None,
                           "reference_uncertainty": None}
    if s.sigma_method in (Round.Sigma.FIXED, Round.Sigma.PERCENT):
        out["sigma_value"] = _decimal(s.sigma_value, "sigma_value", positive=True)
    if s.assigned_method == Round.AssignedValue.REFERENCE:
        out["reference_value"] = _decimal(s.reference_value, "reference_value")
        out["reference_uncertainty"] = _decimal(s.reference_uncertainty, "reference_uncertainty", positive=True)
    if s.sigma_method == Round.Sigma.ROBUST and s.assigned_method == Round.AssignedValue.REFERENCE:
        raise ValidationError({"sigma_method": "采用参考值时,能力评定标准差需另行规定(固定值、百分比或 Horwitz)"})
    return out


@transaction.atomic
def create_round(actor: User, scheme: Scheme, number: str, deadline: dt.date, items: Sequence[tuple[str, str]],
                 settings: RoundSettings = RoundSettings()) -> Round:
    _require_manager(actor, scheme)
    codes = [code.strip() for code, _ in items]
    if not codes or any(not c for c in codes) or len(set(codes)) != len(codes):
        raise ValidationError({"items": "至少要有一个样品,样品编号不能为空或重复"})
    if deadline < timezone.localdate():
        raise ValidationError({"deadline": "截止日期不能早于今天"})
    if Round.objects.filter(scheme=scheme, number=number.strip()).exists():
        raise ValidationError({"number": f"第 {number} 轮已存在"})
    r = Round.objects.create(scheme=scheme, number=number.strip(), deadline=deadline, **_settings(settings))
    Item.objects.bulk_create([Item(round=r, code=c, description=d.strip()) for c, (_, d) in zip(codes, items,
                                                                                                 strict=True)])
    audit.record(actor=actor, action="create", entity=r, institution_id=_chain(scheme),
                 changes={"round": r.number, "items": codes, "deadline": deadline.isoformat(),
                          "assigned": r.assigned_method, "sigma": r.sigma_method, "score": r.score_kind})
    return r


@transaction.atomic
def invite(actor: User, r: Round, institutions: Sequence[Institution]) -> list[Participation]:
    """Invite institutions; each gets a code drawn at random so that codes do not reveal the order of
    invitation (ISO/IEC 17043 4.10: confidentiality of participants)."""
    r = _lock_round(r)
    _require_manager(actor, r.scheme)
    if r.state not in (Round.State.DRAFT, Round.State.OPEN):
        raise ValidationError("结果截止后不能再邀请")
    already = set(r.participations.values_list("institution_id", flat=True))
    new = [i for i in dict.fromkeys(institutions) if i.pk not in already]
    used = set(r.participations.values_list("code", flat=True))
    pool = [f"L{n:03d}" for n in range(1, len(used) + len(new) * 2 + 10) if f"L{n:03d}" not in used]
    rng = secrets.SystemRandom()
    codes = rng.sample(pool, len(new))
    rows = Participation.objects.bulk_create([Participation(round=r, institution=i, code=c)
                                              for i, c in zip(new, codes, strict=True)])
    audit.record_many(actor=actor, institution_id=_chain(r.scheme), events=[
        audit.Change("pt-invite", "quality.Round", str(r.pk), {"institution": i.name, "code": c})
        for i, c in zip(new, codes, strict=True)])
    return rows


def open_round(actor: User, r: Round) -> Round:
    with transaction.atomic():
        if not r.participations.exists():
            raise ValidationError("还没有邀请任何机构")
        return _transition(actor, r, [Round.State.DRAFT], Round.State.OPEN)


@transaction.atomic
def close_round(actor: User, r: Round) -> Round:
    return _transition(actor, r, [Round.State.OPEN], Round.State.CLOSED)


@transaction.atomic
def record_homogeneity(actor: User, item: Item, pairs: Sequence[Sequence[float]], later: Sequence[float],
                       sigma_pt: float) -> Item:
    """The homogeneity (g items measured twice) and stability (measured again later) check of the item
    before it is sent (ISO 13528 B.2, B.5), judged against the σ_pt the provider intends to use."""
    item = Item.objects.select_for_update().select_related("round__scheme").get(pk=item.pk)
    _require_manager(actor, item.round.scheme)
    if item.round.state not in (Round.State.DRAFT, Round.State.OPEN):
        raise ValidationError("样品发出后才检查均匀性已无意义:本轮已截止")
    if not math.isfinite(sigma_pt) or sigma_pt <= 0:
        raise ValidationError({"sigma_pt": "能力评定标准差必须是大于零的有限数值"})
    try:
        h = stats.homogeneity(pairs, sigma_pt)
        first = [v for pair in pairs for v in pair]
        st = stats.stability(first, later, sigma_pt) if later else None
    except NotFinite as exc:
        raise ValidationError({"pairs": "均匀性或稳定性数据含 NaN 或无穷大，不是有限数值"}) from exc
    except ValueError as exc:
        raise ValidationError({"pairs": f"均匀性数据不完整:{exc}"}) from exc
    item.homogeneity = {
        "pairs": [list(p) for p in pairs], "later": list(later), "sigma_pt": sigma_pt, "mean": h.mean,
        "s_x": h.s_x, "s_w": h.s_w, "s_s": h.s_s, "criterion": h.criterion, "expanded": h.expanded_criterion,
        "homogeneous": h.sufficient or h.sufficient_expanded,
        "stability_difference": st.difference if st else None, "stable": st.stable if st else None}
    item.save(update_fields=["homogeneity"])
    audit.record(actor=actor, action="pt-homogeneity", entity=item, institution_id=_chain(item.round.scheme),
                 changes={k: v for k, v in item.homogeneity.items() if k not in ("pairs", "later")})
    return item


# ---------------------------------------------------------------- participants


def _require_participant(actor: User, participation: Participation) -> None:
    if not (actor.is_authenticated and actor.institution_id == participation.institution_id):
        raise PermissionDenied("不是本机构的能力验证")
    if not any(actor.has_role(role) for role in SUBMITTING_ROLES):
        raise PermissionDenied("没有提交能力验证结果的权限")


@transaction.atomic
def submit_result(actor: User, participation: Participation, item: Item, value: str, expanded: str = "",
                  k: str = "", method: str = "", source: str = Submission.Source.FORM,
                  analysis_id: int | None = None, expected_version: int | None = None) -> Submission:
    participation = Participation.objects.select_related("round").get(pk=participation.pk)
    _require_participant(actor, participation)
    r = Round.objects.select_for_update().get(pk=participation.round_id)
    if r.state != Round.State.OPEN:
        raise ValidationError("本轮没有在接收结果")
    if timezone.localdate() > r.deadline:
        raise ValidationError(f"结果提交已于 {r.deadline:%Y-%m-%d} 截止")
    if item.round_id != r.pk:
        raise ValidationError({"item": "样品不属于本轮"})
    fields: dict[str, Any] = {"value": _decimal(value, "value"), "method": method.strip()[:200], "source": source,
                              "analysis_id": analysis_id, "submitted_by": actor, "submitted_at": timezone.now()}
    fields["expanded_uncertainty"] = _decimal(expanded, "expanded_uncertainty", positive=True) if expanded else None
    fields["coverage_factor"] = _decimal(k, "coverage_factor", positive=True) if k else None
    if fields["expanded_uncertainty"] is not None and fields["coverage_factor"] is None:
        fields["coverage_factor"] = Decimal(2)
    if r.score_kind in (Round.ScoreKind.ZETA, Round.ScoreKind.EN) and fields["expanded_uncertainty"] is None:
        raise ValidationError({"expanded_uncertainty": "本轮按 ζ 或 En 评价,必须报告扩展不确定度"})
    existing = Submission.objects.select_for_update().filter(participation=participation, item=item).first()
    if existing is None:
        row = Submission.objects.create(participation=participation, item=item, **fields)
        audit.record(actor=actor, action="pt-submit", entity=row, institution_id=participation.institution_id,
                     changes={"round": str(r), "item": item.code, "value": str(fields["value"]),
                              "U": str(fields["expanded_uncertainty"] or ""), "source": source})
        return row
    if expected_version is not None and existing.version != expected_version:
        raise ValidationError("结果已被他人修改,请刷新后再提交")
    before = {"value": str(existing.value), "U": str(existing.expanded_uncertainty or "")}
    for key, v in fields.items():
        setattr(existing, key, v)
    existing.version += 1
    existing.save()
    audit.record(actor=actor, action="pt-resubmit", entity=existing, institution_id=participation.institution_id,
                 changes=audit.diff(before, {"value": str(existing.value),
                                             "U": str(existing.expanded_uncertainty or "")}))
    return existing


def submit_from_lims(actor: User, participation: Participation, item: Item, analysis_id: int) -> Submission:
    """The result of a verified analysis of the lab's own LIMS (the PT item registered there as a sample)."""
    from opentic.lims.models import Analysis

    analysis = Analysis.objects.select_related("sample", "service__parameter", "service__standard").filter(
        pk=analysis_id, sample__institution_id=participation.institution_id).first()
    if analysis is None:
        raise PermissionDenied("检测项目不属于本机构")
    scheme = participation.round.scheme
    if analysis.state != Analysis.State.VERIFIED:
        raise ValidationError("只能提交已审核的结果")
    if analysis.service.parameter_id != scheme.parameter_id:
        raise ValidationError(f"检测项目是“{analysis.service.parameter.name}”,本计划是“{scheme.parameter.name}”")
    if analysis.unit != scheme.unit:
        raise ValidationError(f"单位 {analysis.unit} 与本计划的单位 {scheme.unit} 不一致")
    return submit_result(actor, participation, item, analysis.value, analysis.uncertainty, analysis.coverage_factor,
                         method=analysis.service.standard.full_code, source=Submission.Source.LIMS,
                         analysis_id=analysis.pk)


@transaction.atomic
def correct_submission(actor: User, submission: Submission, value: str, reason: str) -> Submission:
    """The provider corrects a participant's result after the deadline, e.g. on an upheld appeal that proves a
    transcription error; only while the round is closed, and never without the reason."""
    submission = Submission.objects.select_for_update().select_related("participation__round__scheme").get(
        pk=submission.pk)
    r = submission.participation.round
    _require_manager(actor, r.scheme)
    if r.state != Round.State.CLOSED:
        raise ValidationError("只有截止后、评价前的轮次可以更正结果")
    if not reason.strip():
        raise ValidationError({"reason": "更正结果必须说明理由"})
    before = str(submission.value)
    submission.value = _decimal(value, "value")
    submission.version += 1
    submission.save(update_fields=["value", "version"])
    audit.record(actor=actor, action="pt-correct", entity=submission,
                 institution_id=submission.participation.institution_id,
                 changes={"value": [before, str(submission.value)]}, reason=reason.strip())
    return submission


# ---------------------------------------------------------------- evaluation


def _sigma(r: Round, value: stats.AssignedValue, unit_factor: float) -> float:
    match r.sigma_method:
        case Round.Sigma.FIXED:
            return float(r.sigma_value or 0)
        case Round.Sigma.PERCENT:
            return abs(value.x_pt) * float(r.sigma_value or 0) / 100
        case Round.Sigma.HORWITZ:
            return stats.horwitz(value.x_pt * unit_factor) / unit_factor
        case _:
            return value.scale


# Horwitz works on mass fractions; these units convert.
MASS_FRACTION = {"mg/kg": 1e-6, "μg/kg": 1e-9, "µg/kg": 1e-9, "g/kg": 1e-3, "%": 1e-2, "g/100g": 1e-2,
                 "mg/L": 1e-6, "μg/L": 1e-9, "µg/L": 1e-9}


def _score(kind: str, x: float, expanded: float | None, k: float | None, item: stats.AssignedValue,
           sigma: float) -> float:
    match kind:
        case Round.ScoreKind.Z:
            return stats.z_score(x, item.x_pt, sigma)
        case Round.ScoreKind.Z_PRIME:
            return stats.z_prime_score(x, item.x_pt, sigma, item.u)
        case Round.ScoreKind.ZETA:
            return stats.zeta_score(x, item.x_pt, (expanded or 0) / (k or 2), item.u)
        case _:
            return stats.en_score(x, item.x_pt, expanded or 0, 2 * item.u)


@transaction.atomic
def evaluate_round(actor: User, r: Round) -> Round:
    """Assigned value, σ_pt and each participant's score, item by item, by the round's configured methods."""
    r = _lock_round(r)
    _require_manager(actor, r.scheme)
    if r.state not in (Round.State.CLOSED, Round.State.EVALUATED):
        raise ValidationError("只有截止后的轮次可以评价")
    if r.sigma_method == Round.Sigma.HORWITZ and r.scheme.unit not in MASS_FRACTION:
        raise ValidationError(f"单位 {r.scheme.unit} 不是质量分数,不能用 Horwitz 公式")
    rows = list(Submission.objects.filter(participation__round=r).values_list(
        "pk", "item_id", "value", "expanded_uncertainty", "coverage_factor"))
    by_item: dict[int, list[tuple[int, float, float | None, float | None]]] = defaultdict(list)
    for pk, item_id, raw, raw_u, raw_k in rows:
        by_item[item_id].append((pk, float(raw), float(raw_u) if raw_u is not None else None,
                                 float(raw_k) if raw_k is not None else None))
    Score.objects.filter(submission__participation__round=r).delete()
    ItemResult.objects.filter(item__round=r).delete()
    results, scores, summary = [], [], {}
    for item in r.items.all():
        entries = by_item.get(item.pk, [])
        values = np.array([e[1] for e in entries])
        try:
            if r.assigned_method == Round.AssignedValue.REFERENCE:
                assigned = stats.from_reference(float(r.reference_value or 0), float(r.reference_uncertainty or 0))
                if r.sigma_method == Round.Sigma.ROBUST:
                    raise ValidationError("采用参考值时需另行规定能力评定标准差")
            else:
                assigned = stats.consensus(values, r.assigned_method)
        except ValueError as exc:
            raise ValidationError(f"样品 {item.code}:{len(entries)} 个结果,无法计算指定值({exc})") from exc
        sigma = _sigma(r, assigned, MASS_FRACTION.get(r.scheme.unit, 1.0))
        if sigma <= 0:
            raise ValidationError(f"样品 {item.code}:能力评定标准差为零,无法评价")
        results.append(ItemResult(item=item, x_pt=assigned.x_pt, u_x_pt=assigned.u, sigma_pt=sigma,
                                  scale=assigned.scale, participants=len(entries),
                                  negligible_u=stats.uncertainty_is_negligible(assigned.u, sigma)))
        kind = "En" if r.score_kind == Round.ScoreKind.EN else r.score_kind
        for pk, x, expanded, k in entries:
            score = _score(r.score_kind, x, expanded, k, assigned, sigma)
            scores.append(Score(submission_id=pk, kind=r.score_kind, value=score,
                                performance=stats.classify(score, kind).value))
        summary[item.code] = {"x_pt": round(assigned.x_pt, 10), "u": round(assigned.u, 10),
                              "sigma_pt": round(sigma, 10), "n": len(entries)}
    ItemResult.objects.bulk_create(results)
    Score.objects.bulk_create(scores, batch_size=2000)
    before = r.state
    r.state, r.evaluated_at, r.version = Round.State.EVALUATED, timezone.now(), r.version + 1
    r.save(update_fields=["state", "evaluated_at", "version"])
    audit.record(actor=actor, action="pt-evaluate", entity=r, institution_id=_chain(r.scheme),
                 changes={"state": [before, r.state], "method": r.assigned_method, "sigma": r.sigma_method,
                          "score": r.score_kind, "items": summary, "scores": len(scores)})
    return r


@transaction.atomic
def publish_round(actor: User, r: Round) -> Round:
    """Publish the scores; every unsatisfactory one opens a follow-up for its institution (kept on its credit
    record), and a follow-up of an earlier publication whose result is no longer unsatisfactory is withdrawn."""
    r = _transition(actor, r, [Round.State.EVALUATED], Round.State.PUBLISHED, published_at=timezone.now())
    bad = {(s.submission.participation_id, s.submission.item.code): s for s in Score.objects.filter(
        submission__participation__round=r, performance=Score.Performance.UNSATISFACTORY).select_related(
        "submission__participation", "submission__item")}
    existing = {(f.participation_id, f.item_code): f for f in FollowUp.objects.filter(participation__round=r)}
    events: dict[int, list[audit.Change]] = defaultdict(list)
    for key, score in bad.items():
        if key in existing:
            continue
        p = score.submission.participation
        f = FollowUp.objects.create(institution_id=p.institution_id, participation=p, item_code=key[1],
                                    kind=score.kind, score=score.value)
        events[p.institution_id].append(audit.Change("create", "quality.FollowUp", str(f.pk),
                                                     {"round": str(r), "item": key[1], "score": round(score.value, 2)}))
    for key, f in existing.items():
        if key not in bad and f.state == FollowUp.State.OPEN:
            f.state, f.closed_at = FollowUp.State.WITHDRAWN, timezone.now()
            f.save(update_fields=["state", "closed_at"])
            events[f.institution_id].append(audit.Change("withdraw", "quality.FollowUp", str(f.pk),
                                                         {"state": ["open", "withdrawn"]}, "重新评价后结果不再不满意"))
    for institution_id, changes in events.items():
        audit.record_many(actor=actor, institution_id=institution_id, events=changes)
    return r


# ---------------------------------------------------------------- appeals and follow-ups


def working_days_since(start: dt.date, end: dt.date) -> int:
    """Monday to Friday between the two dates, the start excluded. (Statutory holidays and their swapped
    working weekends are not modelled: the count errs towards the participant's side only on weekends.)"""
    days = 0
    d = start
    while d < end:
        d += dt.timedelta(days=1)
        if d.weekday() < 5:
            days += 1
    return days


@transaction.atomic
def file_appeal(actor: User, participation: Participation, reason: str) -> Appeal:
    participation = Participation.objects.select_related("round").get(pk=participation.pk)
    if not (actor.is_authenticated and actor.institution_id == participation.institution_id
            and actor.has_role(Role.INSTITUTION_ADMIN)):
        raise PermissionDenied("只有本机构管理员可以申诉")
    r = participation.round
    if r.state != Round.State.PUBLISHED or r.published_at is None:
        raise ValidationError("结果发布后才能申诉")
    elapsed = working_days_since(timezone.localtime(r.published_at).date(), timezone.localdate())
    if elapsed > APPEAL_WORKING_DAYS:
        raise ValidationError(f"申诉期为结果发布后 {APPEAL_WORKING_DAYS} 个工作日,已过 {elapsed} 个工作日")
    if len(reason.strip()) < 10:
        raise ValidationError({"reason": "请写明申诉理由(至少10个字)"})
    if participation.appeals.filter(state=Appeal.State.OPEN).exists():
        raise ValidationError("已有一项申诉在处理中")
    appeal = Appeal.objects.create(participation=participation, reason=reason.strip(), filed_by=actor)
    audit.record(actor=actor, action="pt-appeal", entity=appeal, institution_id=participation.institution_id,
                 changes={"round": str(r), "reason": appeal.reason})
    return appeal


@transaction.atomic
def decide_appeal(actor: User, appeal: Appeal, upheld: bool, decision: str) -> Appeal:
    """Decide an appeal. An upheld one sends the round back to closed, so that it is evaluated and published
    again (its follow-ups then follow the new scores)."""
    appeal = Appeal.objects.select_for_update().select_related("participation__round__scheme").get(pk=appeal.pk)
    r = appeal.participation.round
    _require_manager(actor, r.scheme)
    if appeal.state != Appeal.State.OPEN:
        raise ValidationError("该申诉已处理")
    if not decision.strip():
        raise ValidationError({"decision": "请写明处理意见"})
    appeal.state = Appeal.State.UPHELD if upheld else Appeal.State.REJECTED
    appeal.decision, appeal.decided_by, appeal.decided_at = decision.strip(), actor, timezone.now()
    appeal.save()
    audit.record(actor=actor, action="pt-appeal-decided", entity=appeal,
                 institution_id=appeal.participation.institution_id,
                 changes={"state": ["open", appeal.state], "decision": appeal.decision})
    if upheld:
        _transition(actor, r, [Round.State.PUBLISHED], Round.State.CLOSED)
    return appeal


@transaction.atomic
def close_follow_up(actor: User, follow_up: FollowUp, corrective_action: str) -> FollowUp:
    follow_up = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
    if not (actor.is_authenticated and actor.institution_id == follow_up.institution_id
            and actor.has_role(Role.INSTITUTION_ADMIN)):
        raise PermissionDenied("只有本机构管理员可以关闭后续措施")
    if follow_up.state != FollowUp.State.OPEN:
        raise ValidationError("该后续措施已关闭")
    if len(corrective_action.strip()) < 10:
        raise ValidationError({"corrective_action": "请写明原因分析和纠正措施(至少10个字)"})
    follow_up.state, follow_up.corrective_action = FollowUp.State.CLOSED, corrective_action.strip()
    follow_up.closed_by, follow_up.closed_at = actor, timezone.now()
    follow_up.save()
    audit.record(actor=actor, action="close", entity=follow_up, institution_id=follow_up.institution_id,
                 changes={"state": ["open", "closed"], "corrective_action": follow_up.corrective_action})
    return follow_up
