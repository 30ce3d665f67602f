"""Internal QC: control results judged by the Westgard rules; a rejection holds the worksheet and its results
until a reviewer records the corrective action."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from opentic.core import audit
from opentic.core.models import AuditEvent
from opentic.lims import qc
from opentic.lims.models import Analysis, ControlTarget, QCRejection, ReferenceMaterial, Worksheet
from opentic.lims.services import enter_result
from opentic.lims.verification import verify_result
from opentic.lims.worksheets import QC, create_worksheet, enter_worksheet_results
from tests.conftest import PASSWORD
from tests.lims.fixtures import Lab


def control_material(lab: Lab) -> ReferenceMaterial:
    return ReferenceMaterial.objects.create(institution=lab.world.lab_a, name="大米粉质控样", lot="QC-2026-01",
                                            certified_value="0.071", unit="mg/kg",
                                            expires_on=timezone.localdate() + dt.timedelta(days=200))


def run(lab: Lab, rm: ReferenceMaterial, control: str, sample_value: str = "0.052") -> Worksheet:
    """A worksheet of one sample and one control, both entered."""
    analysis = lab.received(lab.pb).analyses.get()
    sheet = create_worksheet(lab.world.a_analyst, lab.pb, lab.icp, [analysis], [QC("control", reference_material=rm)])
    slots = {p.slot: p.pk for p in sheet.positions.all()}
    enter_worksheet_results(lab.world.a_analyst, sheet, {slots[1]: sample_value, slots[2]: control})
    return sheet


@pytest.mark.django_db
def test_a_1_3s_rejection_holds_the_worksheet_until_a_corrective_action(lab: Lab) -> None:
    rm = control_material(lab)
    reviewer = lab.world.a_reviewer
    with pytest.raises(ValidationError, match="还没有靶值"):
        qc.release_worksheet(reviewer, run(lab, rm, "0.070"))
    qc.set_control_target(lab.world.a_admin, lab.pb, rm, "0.071", "0.002")
    good = Worksheet.objects.get()
    assert qc.release_worksheet(reviewer, good).released
    assert Worksheet.objects.get(pk=good.pk).state == "released"

    bad = run(lab, rm, "0.080")  # z = +4.5: 1-3s
    outcome = qc.release_worksheet(reviewer, bad)
    assert not outcome.released and outcome.rejection is not None
    assert [r["rule"] for r in outcome.rejection.rules] == ["1-3s"]
    assert Worksheet.objects.get(pk=bad.pk).state == "open"
    # the hold persists and blocks verification of the worksheet's results
    analysis = Analysis.objects.get(positions__worksheet=bad, positions__kind="sample")
    with pytest.raises(ValidationError, match="质控失控"):
        verify_result(reviewer, analysis, PASSWORD)
    again = qc.release_worksheet(reviewer, bad)
    assert not again.released and QCRejection.objects.count() == 1  # the same hold, not a second one
    with pytest.raises(PermissionDenied):
        qc.record_corrective_action(lab.world.a_analyst, outcome.rejection, "重新校准后复测质控样,结果在控")
    with pytest.raises(ValidationError, match="纠正措施"):
        qc.record_corrective_action(reviewer, outcome.rejection, "ok")
    qc.record_corrective_action(reviewer, outcome.rejection, "更换雾化器并重新校准,复测质控样 0.072,在控")
    assert qc.release_worksheet(reviewer, bad).released
    assert verify_result(reviewer, Analysis.objects.get(pk=analysis.pk), PASSWORD).state == "verified"
    actions = list(AuditEvent.objects.filter(entity_id=str(bad.pk), action__in=[
        "qc-rejected", "corrective-action", "release"]).values_list("action", flat=True).order_by("seq"))
    assert actions == ["qc-rejected", "corrective-action", "release"]
    assert all(r.ok for r in audit.verify())


@pytest.mark.django_db
def test_across_run_rules_use_the_released_history(lab: Lab) -> None:
    rm = control_material(lab)
    qc.set_control_target(lab.world.a_admin, lab.pb, rm, "0.071", "0.002")
    reviewer = lab.world.a_reviewer
    # +1.5 s four runs in a row: each is within 2 s (no warning), the fourth breaks 4-1s
    for _ in range(3):
        outcome = qc.release_worksheet(reviewer, run(lab, rm, "0.074"))
        assert outcome.released and not outcome.warnings
    fourth = qc.release_worksheet(reviewer, run(lab, rm, "0.074"))
    assert not fourth.released and fourth.rejection is not None
    assert {r["rule"] for r in fourth.rejection.rules} == {"4-1s"}
    # a 1-2s warning alone releases, and says so
    warned = qc.judge(run(lab, rm, "0.0665"))  # z = −2.25 after four high runs: 1-2s only
    assert [v.rule for v in warned.violations] == ["1-2s"] and not warned.rejected


@pytest.mark.django_db
def test_release_needs_complete_results_and_a_reviewer(lab: Lab) -> None:
    rm = control_material(lab)
    qc.set_control_target(lab.world.a_admin, lab.pb, rm, "0.071", "0.002")
    analysis = lab.received(lab.pb).analyses.get()
    sheet = create_worksheet(lab.world.a_analyst, lab.pb, lab.icp, [analysis], [QC("control", reference_material=rm)])
    with pytest.raises(PermissionDenied):
        qc.release_worksheet(lab.world.a_analyst, sheet)
    with pytest.raises(ValidationError, match="第 1 位还没有结果"):
        qc.release_worksheet(lab.world.a_reviewer, sheet)
    enter_result(lab.world.a_analyst, analysis, "0.05")
    with pytest.raises(ValidationError, match="质控样结果还没有录入"):
        qc.release_worksheet(lab.world.a_reviewer, sheet)
    with pytest.raises(ValidationError, match="标准差必须大于零"):
        qc.set_control_target(lab.world.a_admin, lab.pb, rm, "0.071", "0")
    with pytest.raises(PermissionDenied):
        qc.set_control_target(lab.world.b_admin, lab.pb, rm, "0.071", "0.002")
    target = ControlTarget.objects.get(service=lab.pb, reference_material=rm)
    assert qc.chart_points(target) == []  # nothing entered yet


@pytest.mark.django_db
def test_qc_pages_release_record_and_chart(lab: Lab) -> None:
    rm = control_material(lab)
    reviewer = lab.world.client("a_reviewer")
    admin = lab.world.client("a_admin")
    admin.post("/lims/qc/", {"service": lab.pb.pk, "material": rm.pk, "mean": "0.071", "sd": "0.002"})
    sheet = run(lab, rm, "0.080")
    page = reviewer.get(f"/lims/worksheets/{sheet.pk}/").content.decode()
    assert "1-3s" in page and "4.50" in page  # z of the control, and the rule it breaks
    reviewer.post(f"/lims/worksheets/{sheet.pk}/release/")
    rejection = QCRejection.objects.get()
    assert Worksheet.objects.get(pk=sheet.pk).state == "open"
    assert lab.world.client("b_admin").post(f"/lims/qc/rejections/{rejection.pk}/corrective-action/",
                                            {"corrective_action": "x" * 20}).status_code == 404
    reviewer.post(f"/lims/qc/rejections/{rejection.pk}/corrective-action/",
                  {"corrective_action": "重新配制标准曲线后复测质控样,在控"})
    reviewer.post(f"/lims/worksheets/{sheet.pk}/release/")
    assert Worksheet.objects.get(pk=sheet.pk).state == "released"
    chart = admin.get("/lims/qc/").content.decode()
    assert "<svg" in chart and sheet.number in chart
    assert lab.world.client("b_admin").get("/lims/qc/").content.decode().count("<svg") == 0
    assert lab.world.client("regulator").get("/lims/qc/").status_code == 404


@pytest.mark.django_db
def test_results_wait_for_the_release_of_their_worksheet(lab: Lab) -> None:
    # issue 11: results of a worksheet that was never released were verified and reported
    rm = control_material(lab)
    sheet = run(lab, rm, "0.070")
    analysis = Analysis.objects.get(positions__worksheet=sheet, positions__kind="sample")
    with pytest.raises(ValidationError, match="尚未放行"):
        verify_result(lab.world.a_reviewer, analysis, PASSWORD)
    qc.set_control_target(lab.world.a_admin, lab.pb, rm, "0.071", "0.002")
    assert qc.release_worksheet(lab.world.a_reviewer, sheet).released
    assert verify_result(lab.world.a_reviewer, analysis, PASSWORD).state == "verified"


@pytest.mark.django_db
def test_the_worksheet_grid_escapes_what_users_typed(lab: Lab) -> None:
    analysis = lab.received(lab.pb, name="<script>alert(1)</script>大米").analyses.get()
    sheet = create_worksheet(lab.world.a_analyst, lab.pb, lab.icp, [analysis])
    page = lab.world.client("a_analyst").get(f"/lims/worksheets/{sheet.pk}/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;大米" in page and "<script>alert(1)" not in page


def two_level_run(lab: Lab, low: ReferenceMaterial, high: ReferenceMaterial, values: tuple[str, str]) -> Worksheet:
    """A worksheet of one sample and two control materials (two levels), all entered."""
    analysis = lab.received(lab.pb).analyses.get()
    sheet = create_worksheet(lab.world.a_analyst, lab.pb, lab.icp, [analysis],
                             [QC("control", reference_material=low), QC("control", reference_material=high)])
    slots = {p.slot: p.pk for p in sheet.positions.all()}
    enter_worksheet_results(lab.world.a_analyst, sheet, {slots[1]: "0.052", slots[2]: values[0], slots[3]: values[1]})
    return sheet


@pytest.mark.django_db
def test_rules_across_runs_follow_each_control_material(lab: Lab) -> None:
    low = control_material(lab)
    high = ReferenceMaterial.objects.create(institution=lab.world.lab_a, name="大米粉质控样(高)", lot="QC-2026-02",
                                            certified_value="0.150", unit="mg/kg",
                                            expires_on=timezone.localdate() + dt.timedelta(days=200))
    qc.set_control_target(lab.world.a_admin, lab.pb, low, "0.071", "0.002")
    qc.set_control_target(lab.world.a_admin, lab.pb, high, "0.150", "0.005")
    reviewer = lab.world.a_reviewer
    # Level 2 at +2.5 s, then level 1 at +2.5 s: two materials, one result each beyond 2 s — warnings only
    # (the controls of a worksheet used to be one series, so this was a false 2-2s).
    first = qc.release_worksheet(reviewer, two_level_run(lab, low, high, ("0.071", "0.1625")))
    second = qc.release_worksheet(reviewer, two_level_run(lab, low, high, ("0.076", "0.150")))
    assert first.released and second.released and second.warnings == ("1-2s",)
    # Level 1 at −2.5 s in two consecutive worksheets: 2-2s across runs, within level 1 (was missed: the last
    # run's last control, level 2, was compared with this run's first).
    assert qc.release_worksheet(reviewer, two_level_run(lab, low, high, ("0.066", "0.151"))).released
    held = qc.release_worksheet(reviewer, two_level_run(lab, low, high, ("0.066", "0.149")))
    assert not held.released and held.rejection is not None
    assert held.rejection.rules == [{"rule": "2-2s", "scope": "across runs, within material", "material": low.pk}]
    page = lab.world.client("a_reviewer").get(f"/lims/worksheets/{held.rejection.worksheet_id}/").content.decode()
    assert "2-2s" in page and "跨批次，同一质控物" in page  # the page says where the rule looked
    # Within one worksheet, both materials beyond the same 2 s: 2-2s within the run, across materials.
    judged = qc.judge(two_level_run(lab, low, high, ("0.0755", "0.1615")))
    assert {(v.rule, v.scope) for v in judged.violations if v.reject} == {("2-2s", "within run, across materials")}
