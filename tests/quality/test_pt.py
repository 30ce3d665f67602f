"""PT schemes end to end through the services: invitation, submission, evaluation, publication, appeal and
follow-up; each state change audited, each refusal specific."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from opentic.core import audit
from opentic.core.models import AuditEvent
from opentic.numerics.stats import proficiency
from opentic.quality import pt
from opentic.quality.models import Appeal, FollowUp, ItemResult, Round, Score, Submission
from tests.quality.fixtures import PT, pt_round, submit_others  # noqa: F401 — the fixture

pytestmark = pytest.mark.django_db


def test_a_round_from_invitation_to_follow_up(pt_round: PT) -> None:  # noqa: F811
    w, r = pt_round.world, pt_round.round
    codes = set(r.participations.values_list("code", flat=True))
    assert len(codes) == 12 and all(c.startswith("L") for c in codes)
    items = {i.code: i for i in r.items.all()}
    a = pt_round.participation(w.lab_a)
    pt.submit_result(w.a_analyst, a, items["A"], "0.251", "0.030", "2", method="GB 5009.12-2017")
    pt.submit_result(w.a_analyst, a, items["B"], "0.280", "0.030")
    b = pt_round.participation(w.lab_b)
    pt.submit_result(w.b_admin, b, items["A"], "0.420")  # far too high
    submit_others(pt_round)
    with pytest.raises(ValidationError, match="截止后"):
        pt.evaluate_round(w.regulator, r)
    pt.close_round(w.regulator, r)
    with pytest.raises(ValidationError, match="没有在接收结果"):
        pt.submit_result(w.a_analyst, a, items["A"], "0.250")
    pt.evaluate_round(w.regulator, r)

    result = ItemResult.objects.get(item=items["A"])
    values = [float(v) for v in Submission.objects.filter(item=items["A"]).values_list("value", flat=True)]
    expected = proficiency.consensus(values, "algorithm_a")
    assert result.x_pt == pytest.approx(expected.x_pt) and result.sigma_pt == pytest.approx(expected.scale)
    assert result.participants == 12
    score_a = Score.objects.get(submission__participation=a, submission__item=items["A"])
    assert score_a.value == pytest.approx((0.251 - expected.x_pt) / expected.scale)
    assert score_a.performance == "satisfactory"
    score_b = Score.objects.get(submission__participation=b)
    assert score_b.performance == "unsatisfactory" and score_b.value >= 3

    pt.publish_round(w.regulator, r)
    follow_ups = list(FollowUp.objects.filter(institution=w.lab_b))
    assert [(f.item_code, f.state) for f in follow_ups] == [("A", "open")]
    assert FollowUp.objects.filter(institution=pt_round.others[0][0], item_code="A").exists()
    assert FollowUp.objects.filter(institution=w.lab_a).count() == 0
    # appeal, upheld: the round goes back to closed, the provider corrects and republishes
    with pytest.raises(PermissionDenied):
        pt.file_appeal(w.a_analyst, a, "我们认为指定值的计算有误,请复核")
    appeal = pt.file_appeal(w.b_admin, b, "录入错误:提交的是稀释前的结果,原始记录为 0.270")
    with pytest.raises(PermissionDenied):
        pt.decide_appeal(w.b_admin, appeal, True, "同意")
    pt.decide_appeal(w.regulator, appeal, True, "核对原始记录属实,按原始记录重新评价")
    assert Round.objects.get(pk=r.pk).state == "closed"
    sub = Submission.objects.get(participation=b)
    with pytest.raises(ValidationError, match="理由"):
        pt.correct_submission(w.regulator, sub, "0.270", "")
    pt.correct_submission(w.regulator, sub, "0.270", "申诉成立:原始记录为 0.270")
    pt.evaluate_round(w.regulator, r)
    pt.publish_round(w.regulator, r)
    assert FollowUp.objects.get(institution=w.lab_b).state == "withdrawn"  # no longer unsatisfactory
    assert Score.objects.get(submission=sub).performance == "satisfactory"
    # a follow-up that stands is closed by the institution with its corrective action
    c = pt_round.others[0][0]  # the low outlier, 0.040
    f = FollowUp.objects.get(institution=c, item_code="A")
    admin_c = pt_round.others[0][1]
    with pytest.raises(PermissionDenied):
        pt.close_follow_up(w.b_admin, f, "重新培训检测人员,复测留样结果 0.262,满意")
    with pytest.raises(ValidationError, match="纠正措施"):
        pt.close_follow_up(admin_c, f, "已整改")
    pt.close_follow_up(admin_c, f, "重新培训检测人员,复测留样结果 0.262,满意")
    assert FollowUp.objects.get(pk=f.pk).state == "closed"
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"pt-submit", "pt-evaluate", "pt-published", "pt-appeal", "pt-appeal-decided", "pt-invite"} <= actions
    assert Appeal.objects.get().state == "upheld"
    assert all(report.ok for report in audit.verify())


def test_refusals_are_specific_and_change_nothing(pt_round: PT) -> None:  # noqa: F811
    w, r = pt_round.world, pt_round.round
    items = {i.code: i for i in r.items.all()}
    a = pt_round.participation(w.lab_a)
    with pytest.raises(ValidationError, match="不是数值"):
        pt.submit_result(w.a_analyst, a, items["A"], "abc")
    with pytest.raises(ValidationError, match="大于零"):
        pt.submit_result(w.a_analyst, a, items["A"], "0.2", "-1")
    with pytest.raises(PermissionDenied):
        pt.submit_result(w.b_admin, a, items["A"], "0.2")
    with pytest.raises(PermissionDenied):
        pt.create_scheme(w.a_admin, "X", "X", pt_round.scheme.parameter, pt_round.scheme.test_object, "mg/kg")
    with pytest.raises(ValidationError, match="已存在"):
        pt.create_scheme(w.regulator, "CQ-PT-2026-01", "X", pt_round.scheme.parameter, pt_round.scheme.test_object,
                         "mg/kg")
    with pytest.raises(ValidationError, match="截止日期"):
        pt.create_round(w.regulator, pt_round.scheme, "old", timezone.localdate() - dt.timedelta(days=1), [("A", "")])
    with pytest.raises(ValidationError, match="另行规定"):
        pt.create_round(w.regulator, pt_round.scheme, "ref", timezone.localdate(), [("A", "")],
                        pt.RoundSettings(assigned_method="reference", reference_value="0.25",
                                         reference_uncertainty="0.01"))
    zeta = pt.create_round(w.regulator, pt_round.scheme, "zeta", timezone.localdate(), [("A", "")],
                           pt.RoundSettings(score_kind="zeta"))
    pt.invite(w.regulator, zeta, [w.lab_a])
    pt.open_round(w.regulator, zeta)
    with pytest.raises(ValidationError, match="扩展不确定度"):
        pt.submit_result(w.a_analyst, zeta.participations.get(), zeta.items.get(), "0.25")
    assert not Submission.objects.exists()
    # evaluation needs enough results
    pt.close_round(w.regulator, r)
    with pytest.raises(ValidationError, match="无法计算指定值"):
        pt.evaluate_round(w.regulator, r)
    assert not Score.objects.exists()


def test_reference_value_with_en_scores(pt_round: PT) -> None:  # noqa: F811
    w = pt_round.world
    r = pt.create_round(w.regulator, pt_round.scheme, "2026-2", timezone.localdate(), [("A", "有证标准物质")],
                        pt.RoundSettings(assigned_method="reference", reference_value="0.044",
                                         reference_uncertainty="0.0082", sigma_method="fixed", sigma_value="0.0066",
                                         score_kind="En"))
    pt.invite(w.regulator, r, [w.lab_a])
    pt.open_round(w.regulator, r)
    # ISO 13528 E.4, participant L04: x = 0.013, U = 0.003 → En = −3.55
    pt.submit_result(w.a_analyst, r.participations.get(), r.items.get(), "0.013", "0.003", "2")
    pt.close_round(w.regulator, r)
    pt.evaluate_round(w.regulator, r)
    score = Score.objects.get(submission__participation__round=r)
    assert round(score.value, 2) == -3.55 and score.performance == "unsatisfactory"


def test_appeal_window_is_fifteen_working_days(pt_round: PT) -> None:  # noqa: F811
    assert pt.working_days_since(dt.date(2026, 11, 20), dt.date(2026, 11, 23)) == 1  # Friday → Monday
    assert pt.working_days_since(dt.date(2026, 11, 2), dt.date(2026, 11, 23)) == 15
    w, r = pt_round.world, pt_round.round
    items = {i.code: i for i in r.items.all()}
    submit_others(pt_round)
    pt.close_round(w.regulator, r)
    pt.evaluate_round(w.regulator, r)
    pt.publish_round(w.regulator, r)
    Round.objects.filter(pk=r.pk).update(published_at=timezone.now() - dt.timedelta(days=30))
    with pytest.raises(ValidationError, match="15 个工作日"):
        pt.file_appeal(w.a_admin, pt_round.participation(w.lab_a), "指定值计算方法不适用于本样品")
    assert items
