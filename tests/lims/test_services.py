"""From registration to verified results: the lifecycle, the gates, calculations, review and audit."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from opentic.core.models import AuditEvent, Role
from opentic.lims import lab_setup, services, verification
from opentic.lims.models import Analysis, MethodAuthorization, Sample, Worksheet
from opentic.registry.models import InstrumentStatus, Standard, StandardStatus
from tests.conftest import PASSWORD, make_user
from tests.lims.fixtures import Lab


def analysis(sample: Sample, keyword: str) -> Analysis:
    return sample.analyses.exclude(state=Analysis.State.RETRACTED).get(service__keyword=keyword)


@pytest.mark.django_db
def test_registration_numbers_samples_and_marks_what_is_outside_the_scope(lab: Lab) -> None:
    first, second = lab.register(), lab.register()
    assert first.lab_number.endswith("-000001") and second.lab_number.endswith("-000002")
    assert all(a.accredited for a in first.analyses.all())  # 铅 and 镉 in 大米 are in lab A's scope
    with pytest.raises(ValidationError, match="不在资质认定范围内"):
        lab.register(lab.pb, lab.moisture)
    sample = lab.register(lab.pb, lab.moisture, allow_non_accredited=True)
    assert {a.service.keyword: a.accredited for a in sample.analyses.all()} == {"pb": True, "moisture": False}
    assert AuditEvent.objects.filter(action="register", chain=f"institution:{lab.world.lab_a.pk}").count() == 3
    assert AuditEvent.objects.filter(action="register", entity="lims.Sample", entity_id=str(first.pk)).exists()
    with pytest.raises(PermissionDenied):
        services.register_samples(lab.world.b_admin, lab.order, [{"name": "x", "test_object": lab.rice,
                                                                  "services": [lab.pb]}])


@pytest.mark.django_db
def test_the_sample_lifecycle_refuses_what_is_out_of_order(lab: Lab) -> None:
    sample = lab.register()
    with pytest.raises(ValidationError, match="不能录入结果"):
        services.enter_result(lab.world.a_analyst, analysis(sample, "pb"), "0.05")
    with pytest.raises(ValidationError, match="必须说明理由"):
        services.receive_sample(lab.world.a_admin, sample, "包装破损", accepted=False)
    rejected = services.receive_sample(lab.world.a_admin, sample, "包装破损", accepted=False,
                                       reason="包装破损,样品泄漏")
    assert rejected.state == "rejected" and rejected.state_reason == "包装破损,样品泄漏"
    with pytest.raises(ValidationError, match="“拒收”后不能变为“已接收”"):
        services.receive_sample(lab.world.a_admin, rejected, "ok")
    received = lab.received()
    assert received.state == "received" and received.retention_until is not None


@pytest.mark.django_db
def test_gates_refuse_with_the_reason_and_change_nothing(lab: Lab) -> None:
    sample = lab.received()
    pb = analysis(sample, "pb")
    other = make_user("a-analyst-2", [Role.ANALYST], lab.world.lab_a)
    with pytest.raises(PermissionDenied, match="未获授权"):
        services.enter_result(other, pb, "0.05")
    with pytest.raises(PermissionDenied, match="岗位权限"):
        services.enter_result(lab.world.a_reviewer, pb, "0.05")
    with pytest.raises(ValidationError, match="不是数值"):
        services.enter_result(lab.world.a_analyst, pb, "0,05")
    lab.icp.calibration_due = dt.date.today() - dt.timedelta(days=1)
    lab.icp.save()
    with pytest.raises(ValidationError, match="超过校准有效期"):
        services.enter_result(lab.world.a_analyst, pb, "0.05", instrument=lab.icp)
    lab.icp.calibration_due, lab.icp.status = dt.date.today() + dt.timedelta(days=10), InstrumentStatus.OUT_OF_SERVICE
    lab.icp.save()
    with pytest.raises(ValidationError, match="已停用"):
        services.enter_result(lab.world.a_analyst, pb, "0.05", instrument=lab.icp)
    Standard.objects.filter(pk=lab.cd.standard_id).update(status=StandardStatus.WITHDRAWN)
    with pytest.raises(ValidationError, match="已废止"):
        services.enter_result(lab.world.a_analyst, analysis(sample, "cd"), "0.01")
    MethodAuthorization.objects.filter(user=lab.world.a_analyst).update(valid_until=dt.date.today() - dt.timedelta(1))
    with pytest.raises(PermissionDenied, match="未获授权"):
        services.enter_result(lab.world.a_analyst, pb, "0.05")
    pb.refresh_from_db()
    assert pb.value == "" and pb.version == 1
    assert not AuditEvent.objects.filter(action="result").exists()
    # Each refusal is itself on the record: who tried, what, and why it was refused.
    refused = list(AuditEvent.objects.filter(action="refused", entity="lims.Analysis").values_list(
        "actor_label", "reason"))
    assert ("a-analyst-2", f"a-analyst-2 未获授权使用方法 {lab.pb.standard}") in refused
    assert any("超过校准有效期" in reason for _, reason in refused) and len(refused) == 7


@pytest.mark.django_db
def test_results_calculations_review_and_locking(lab: Lab) -> None:
    sample = lab.received(lab.pb, lab.moisture, lab.pb_dry, allow_non_accredited=True)
    analyst, reviewer = lab.world.a_analyst, lab.world.a_reviewer
    lab.icp.calibration_due = dt.date.today() + dt.timedelta(days=30)
    lab.icp.save()
    pb = services.enter_result(analyst, analysis(sample, "pb"), "0.0425", instrument=lab.icp, uncertainty="0.004",
                               coverage_factor="2")
    assert pb.state == "entered" and pb.instrument == lab.icp and pb.method_version == 1
    assert Sample.objects.get(pk=sample.pk).state == "in_testing"
    assert analysis(sample, "pb_dry").value == ""  # waits for the moisture
    services.enter_result(analyst, analysis(sample, "moisture"), "12.0")
    assert analysis(sample, "pb_dry").value == "0.04829545454545454545454545455"
    assert Sample.objects.get(pk=sample.pk).state == "to_be_verified"
    # A change after first entry needs its reason, and recalculates what depends on it.
    with pytest.raises(ValidationError, match="必须说明理由"):
        services.enter_result(analyst, analysis(sample, "moisture"), "13.0")
    stale = analysis(sample, "moisture").version
    services.enter_result(analyst, analysis(sample, "moisture"), "13.0", reason="称量记录抄错", expected_version=stale)
    assert analysis(sample, "pb_dry").value.startswith("0.048850574")
    with pytest.raises(services.Conflict, match="已被他人修改"):
        services.enter_result(analyst, analysis(sample, "moisture"), "14.0", reason="x", expected_version=stale)
    # Review: nobody verifies their own result; the password is re-entered; then the result is locked.
    a_both = lab.world.a_analyst
    a_both.roles = [Role.ANALYST, Role.REVIEWER]
    a_both.save()
    with pytest.raises(PermissionDenied, match="不能审核自己"):
        verification.verify_result(a_both, analysis(sample, "pb"), PASSWORD)
    with pytest.raises(PermissionDenied, match="密码不正确"):
        verification.verify_result(reviewer, analysis(sample, "pb"), "wrong")
    for keyword in ("pb", "moisture", "pb_dry"):
        verified = verification.verify_result(reviewer, analysis(sample, keyword), PASSWORD)
        assert verified.state == "verified" and len(verified.signature) == 64
    assert Sample.objects.get(pk=sample.pk).state == "verified"
    with pytest.raises(ValidationError):
        services.enter_result(analyst, analysis(sample, "pb"), "0.05", reason="x")
    event = AuditEvent.objects.filter(action="verify").first()
    assert (event is not None and event.changes["signature"] == verified.signature) or event.changes["signature"]


@pytest.mark.django_db
def test_a_retest_keeps_the_original_with_its_reason(lab: Lab) -> None:
    sample = lab.received(lab.pb)
    services.enter_result(lab.world.a_analyst, analysis(sample, "pb"), "0.31")
    original = analysis(sample, "pb")
    retest = verification.request_retest(lab.world.a_reviewer, original, "平行样相对偏差超限")
    original.refresh_from_db()
    assert original.state == "retracted" and original.value == "0.31" and original.retest_reason
    assert retest.retest_of == original and retest.state == "pending"
    assert Sample.objects.get(pk=sample.pk).state == "in_testing"
    services.enter_result(lab.world.a_analyst, retest, "0.052")
    assert Sample.objects.get(pk=sample.pk).state == "to_be_verified"
    with pytest.raises(ValidationError, match="必须说明理由"):
        verification.request_retest(lab.world.a_reviewer, retest, "")


@pytest.mark.django_db
def test_a_result_edited_directly_in_the_database_is_caught(lab: Lab) -> None:
    from django.core.management import call_command
    from django.db import connection

    from opentic.lims.integrity import results_match_trail

    sample = lab.received(lab.pb)
    services.enter_result(lab.world.a_analyst, analysis(sample, "pb"), "0.31")
    verification.verify_result(lab.world.a_reviewer, analysis(sample, "pb"), PASSWORD)
    assert results_match_trail() == []
    with connection.cursor() as cursor:
        cursor.execute("UPDATE lims_analysis SET value = %s WHERE id = %s", ["0.031", analysis(sample, "pb").pk])
    problems = results_match_trail()
    assert len(problems) == 1 and "'0.031'" in problems[0] and "'0.31'" in problems[0]
    with pytest.raises(SystemExit) as exit_:
        call_command("audit", "verify")
    assert exit_.value.code == 1


@pytest.mark.django_db
def test_a_campaign_of_1000_samples_registers_in_one_go_or_not_at_all(lab: Lab) -> None:
    from opentic.core.tabular import write_xlsx
    from opentic.lims.sheets import HEADERS, import_samples
    from opentic.registry.importing import ImportRejected

    rows = [[f"大米 {n}", "大米", "铅;镉", "", f"B{n:05d}", "2026-09-01", "重庆市江津区某粮库", "王抽样"]
            for n in range(1000)]
    created = import_samples(lab.world.a_admin, lab.order, "campaign.xlsx", write_xlsx(HEADERS, rows))
    assert len(created) == 1000 and Sample.objects.count() == 1000 and Analysis.objects.count() == 2000
    assert Sample.objects.filter(batch_number="B00999", sampler="王抽样").exists()
    bad = [*rows[:3], ["大米 x", "火星岩石", "铅", "", "", "2099-01-01", "", ""],
           ["大米 y", "大米", "砷", "", "", "", "", ""], ["大米 z", "大米", "水分", "", "", "", "", ""]]
    with pytest.raises(ImportRejected) as caught:
        import_samples(lab.world.a_admin, lab.order, "bad.xlsx", write_xlsx(HEADERS, bad))
    errors = [str(e) for e in caught.value.errors]
    assert "第5行「检测对象」:“火星岩石”不在检测对象目录中" in errors
    assert "第5行「生产日期」:晚于今天" in errors
    assert "第6行「检测项目」:本机构没有检测项目“砷”" in errors
    assert any(e.startswith("第7行「检测项目」:水分 不在资质认定范围内") for e in errors)
    assert Sample.objects.count() == 1000


@pytest.mark.django_db
def test_conformity_is_judged_and_stored_with_its_decision_rule(lab: Lab) -> None:
    from decimal import Decimal

    from opentic.lims.models import Specification
    from opentic.registry.models import Parameter, TestObject

    grain = TestObject.objects.get(name="粮食加工品")
    Specification.objects.create(institution=lab.world.lab_a, name="GB 2762-2022", test_object=grain,
                                 parameter=Parameter.objects.get(name="铅"), upper=Decimal("0.2"), unit="mg/kg")
    simple = lab.received(lab.pb, specification="GB 2762-2022")
    pb = services.enter_result(lab.world.a_analyst, analysis(simple, "pb"), "0.19", uncertainty="0.03")
    assert pb.conformity == "pass"
    assert pb.judged_against == "GB 2762-2022：铅 ≤ 0.2 mg/kg；简单接受规则（ILAC-G8:09/2019 4.2.1，w = 0）；全数值比较"
    guarded = lab.received(lab.pb, specification="GB 2762-2022", decision_rule="guarded")
    with pytest.raises(ValidationError, match="扩展不确定度"):
        services.enter_result(lab.world.a_analyst, analysis(guarded, "pb"), "0.19")
    pb = services.enter_result(lab.world.a_analyst, analysis(guarded, "pb"), "0.19", uncertainty="0.03")
    assert pb.conformity == "fail" and "保护带" in pb.judged_against
    event = AuditEvent.objects.filter(action="result", entity_id=str(pb.pk)).last()
    assert event is not None and event.changes["conformity"] == "fail"
    lab.pb.unit = "μg/kg"
    lab.pb.save()
    wrong_unit = lab.received(lab.pb, specification="GB 2762-2022")
    with pytest.raises(ValidationError, match="单位不一致"):
        services.enter_result(lab.world.a_analyst, analysis(wrong_unit, "pb"), "190")


@pytest.mark.django_db
def test_specifications_and_authorizations_change_only_with_their_trail(lab: Lab) -> None:
    from decimal import Decimal

    from opentic.registry.models import Parameter

    lead = Parameter.objects.get(name="铅").pk
    admin = lab.world.a_admin
    spec = lab_setup.save_specification(admin, lab.world.lab_a, "GB 2762-2022", lab.rice, lead, "mg/kg",
                                       upper=Decimal("0.2"))
    with pytest.raises(ValidationError, match="必须说明理由"):
        lab_setup.save_specification(admin, lab.world.lab_a, "GB 2762-2022", lab.rice, lead, "mg/kg",
                                    upper=Decimal("0.3"))
    lab_setup.save_specification(admin, lab.world.lab_a, "GB 2762-2022", lab.rice, lead, "mg/kg",
                                upper=Decimal("0.3"), reason="标准修订")
    event = AuditEvent.objects.filter(action="update", entity="lims.Specification", entity_id=str(spec.pk)).get()
    assert event.changes["upper"] == ["0.2000000000", "0.3"] and event.reason == "标准修订"
    with pytest.raises(ValidationError):
        lab_setup.save_specification(admin, lab.world.lab_a, "X", lab.rice, lead, "mg/kg")
    with pytest.raises(PermissionDenied):
        lab_setup.save_specification(lab.world.a_analyst, lab.world.lab_a, "X", lab.rice, lead, "mg/kg",
                                    upper=Decimal(1))
    grant = lab_setup.authorize(admin, lab.world.a_reviewer, lab.pb.standard_id, dt.date.today())
    with pytest.raises(ValidationError):
        lab_setup.revoke(admin, grant, "")
    lab_setup.revoke(admin, grant, "调岗")
    assert not MethodAuthorization.objects.filter(pk=grant.pk).exists()
    assert AuditEvent.objects.filter(action__in=["authorize", "revoke"]).count() == 2
    with pytest.raises(PermissionDenied):
        lab_setup.authorize(lab.world.b_admin, lab.world.a_reviewer, lab.pb.standard_id, dt.date.today())


@pytest.mark.django_db
def test_the_demo_labs_have_samples_in_every_state() -> None:
    from collections import Counter

    from opentic.lims.demo import seed
    from opentic.lims.integrity import results_match_trail
    from opentic.registry import demo

    demo.generate("tiny", seed=3)
    assert seed() == 24
    states = Counter(Sample.objects.values_list("state", flat=True))
    # A lab with a single method cannot have a sample half-tested: its "testing" samples wait for review.
    assert (states["registered"], states["received"], states["verified"], states["rejected"]) == (6, 4, 4, 2)
    assert states["in_testing"] + states["to_be_verified"] == 8 and states["to_be_verified"] >= 4
    assert results_match_trail() == []
    # The demo day reaches a judgement: limits from GB 2762-2022, a released worksheet with QC, conformity.
    verified = Analysis.objects.filter(state="verified")
    assert verified.exists() and all(a.conformity in ("pass", "fail") and a.limit for a in verified)
    assert Worksheet.objects.filter(state="released").count() == 2


@pytest.mark.django_db
def test_impossible_dates_and_early_disposal_are_refused(lab: Lab) -> None:
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    with pytest.raises(ValidationError, match="晚于今天"):
        lab.register(production_date=tomorrow)
    sample = lab.received()
    assert sample.retention_until is not None
    with pytest.raises(ValidationError, match="不能提前处置"):
        services.dispose_sample(lab.world.a_admin, sample, dt.date.today(), "高压灭菌后作废弃物处理")
    Sample.objects.filter(pk=sample.pk).update(retention_until=dt.date.today() - dt.timedelta(days=1))
    with pytest.raises(ValidationError, match="处置方式"):
        services.dispose_sample(lab.world.a_admin, sample, dt.date.today(), "")
    disposed = services.dispose_sample(lab.world.a_admin, sample, dt.date.today(), "高压灭菌后作废弃物处理")
    assert disposed.disposal_on == dt.date.today()
