"""Worksheets with QC positions, and their gates."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from opentic.core.models import AuditEvent
from opentic.lims.models import Analysis, Position, ReferenceMaterial
from opentic.lims.worksheets import QC, create_worksheet, enter_worksheet_results
from tests.lims.fixtures import Lab


def pending_pb(lab: Lab, n: int) -> list[Analysis]:
    samples = [lab.received(lab.pb) for _ in range(n)]
    return [s.analyses.get() for s in samples]


@pytest.mark.django_db
def test_a_worksheet_with_blank_duplicate_and_control(lab: Lab) -> None:
    rm = ReferenceMaterial.objects.create(institution=lab.world.lab_a, name="大米粉中铅成分分析标准物质",
                                          lot="GBW10045", certified_value="0.071", unit="mg/kg",
                                          expires_on=timezone.localdate() + dt.timedelta(days=200))
    analyses = pending_pb(lab, 3)
    sheet = create_worksheet(lab.world.a_analyst, lab.pb, lab.icp, analyses,
                             [QC("blank"), QC("duplicate", duplicate_of=0), QC("control", reference_material=rm)])
    kinds = list(sheet.positions.values_list("slot", "kind"))
    assert kinds == [(1, "blank"), (2, "sample"), (3, "sample"), (4, "sample"), (5, "duplicate"), (6, "control")]
    assert sheet.number.startswith(f"WS{timezone.localdate().year}-")
    positions = {p.slot: p.pk for p in sheet.positions.all()}
    saved = enter_worksheet_results(lab.world.a_analyst, sheet, {positions[1]: "0.001", positions[2]: "0.052",
                                                                  positions[5]: "0.050", positions[6]: "0.069"})
    assert saved == ["1", "2", "5", "6"]
    first = Analysis.objects.get(pk=analyses[0].pk)
    assert first.value == "0.052" and first.instrument == lab.icp
    assert Position.objects.get(pk=positions[6]).value == "0.069"
    assert AuditEvent.objects.filter(action="qc-result").count() == 3
    with pytest.raises(ValidationError, match="已在另一张工作单上"):
        create_worksheet(lab.world.a_analyst, lab.pb, lab.icp, [analyses[1]])


@pytest.mark.django_db
def test_worksheet_gates(lab: Lab) -> None:
    analyses = pending_pb(lab, 2)
    expired = ReferenceMaterial.objects.create(institution=lab.world.lab_a, name="质控样", lot="QC-1",
                                               expires_on=timezone.localdate() - dt.timedelta(days=1))
    with pytest.raises(ValidationError, match="过期"):
        create_worksheet(lab.world.a_analyst, lab.pb, lab.icp, analyses, [QC("control", reference_material=expired)])
    with pytest.raises(ValidationError, match="不是用本方法"):
        create_worksheet(lab.world.a_analyst, lab.cd, lab.icp, analyses)
    lab.icp.calibration_due = timezone.localdate() - dt.timedelta(days=3)
    lab.icp.save()
    with pytest.raises(ValidationError, match="校准"):
        create_worksheet(lab.world.a_analyst, lab.pb, lab.icp, analyses)
    unreceived = lab.register(lab.pb).analyses.get()
    lab.icp.calibration_due = timezone.localdate() + dt.timedelta(days=3)
    lab.icp.save()
    with pytest.raises(ValidationError, match="不是待检状态"):
        create_worksheet(lab.world.a_analyst, lab.pb, lab.icp, [unreceived])
    assert not Position.objects.exists()
