"""A method's QC policy decides what a worksheet carries; nothing is released or verified around it."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from opentic.lims import qc
from opentic.lims.models import Analysis, AnalysisService
from opentic.lims.qc_policy import required
from opentic.lims.services import enter_result
from opentic.lims.verification import verify_result
from opentic.lims.worksheets import QC, create_worksheet, enter_worksheet_results
from tests.conftest import PASSWORD
from tests.lims.fixtures import Lab
from tests.lims.test_qc import control_material


def test_required_qc_scales_with_the_batches() -> None:
    policy = AnalysisService(qc_batch_size=20, qc_blanks=1, qc_controls=1, qc_duplicates=1)
    assert required(policy, 20).blanks == 1
    assert (required(policy, 21).batches, required(policy, 21).controls) == (2, 2)
    assert required(AnalysisService(qc_blanks=2), 500).blanks == 2  # no batch size: one batch


@pytest.mark.django_db
def test_a_worksheet_without_the_required_qc_is_not_released(lab: Lab) -> None:
    AnalysisService.objects.filter(pk=lab.pb.pk).update(qc_batch_size=20, qc_blanks=1, qc_controls=1)
    lab.pb.refresh_from_db()
    analysis = lab.received(lab.pb).analyses.get()
    sheet = create_worksheet(lab.world.a_analyst, lab.pb, lab.icp, [analysis], [QC("blank")])
    blank = sheet.positions.get(kind="blank")
    enter_worksheet_results(lab.world.a_analyst, sheet, {blank.pk: "0.001"})
    enter_result(lab.world.a_analyst, analysis, "0.05", instrument=lab.icp)
    with pytest.raises(ValidationError, match="须带 1 个质控样"):
        qc.release_worksheet(lab.world.a_reviewer, sheet)
    with pytest.raises(ValidationError, match="尚未放行"):
        verify_result(lab.world.a_reviewer, Analysis.objects.get(pk=analysis.pk), PASSWORD)


@pytest.mark.django_db
def test_a_control_without_a_target_says_what_to_set_and_release_waits(lab: Lab) -> None:
    rm = control_material(lab)  # no control target set for it
    analysis = lab.received(lab.pb).analyses.get()
    sheet = create_worksheet(lab.world.a_analyst, lab.pb, lab.icp, [analysis], [QC("control", rm)])
    control = sheet.positions.get(kind="control")
    enter_worksheet_results(lab.world.a_analyst, sheet, {control.pk: "0.1"})
    enter_result(lab.world.a_analyst, analysis, "0.05", instrument=lab.icp)
    with pytest.raises(ValidationError, match=r"还没有靶值和标准差.*设置靶值"):
        qc.release_worksheet(lab.world.a_reviewer, sheet)
    sheet.refresh_from_db()
    assert sheet.state == "open"


@pytest.mark.django_db
def test_under_a_policy_a_result_off_any_worksheet_is_not_verified(lab: Lab) -> None:
    AnalysisService.objects.filter(pk=lab.pb.pk).update(qc_blanks=1)
    analysis = lab.received(lab.pb).analyses.get()
    enter_result(lab.world.a_analyst, analysis, "0.05", instrument=lab.icp)
    with pytest.raises(ValidationError, match="不在任何工作单上"):
        verify_result(lab.world.a_reviewer, Analysis.objects.get(pk=analysis.pk), PASSWORD)


@pytest.mark.django_db
def test_a_worksheet_without_controls_does_not_say_all_in_control(lab: Lab) -> None:
    analysis = lab.received(lab.pb).analyses.get()
    sheet = create_worksheet(lab.world.a_analyst, lab.pb, lab.icp, [analysis])
    page = lab.world.client("a_analyst").get(f"/lims/worksheets/{sheet.pk}/").content.decode()
    assert "质控全部在控" not in page and "没有质控样" in page
