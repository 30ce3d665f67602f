"""Instrument export files through a saved column mapping: docs/instrument-files/agilent-icpms-batch.csv."""

import datetime as dt
from pathlib import Path

import pytest
from django.utils import timezone

from opentic.core import audit
from opentic.lims.integrity import results_match_trail
from opentic.lims.models import Analysis, InstrumentMapping, Sample
from opentic.lims.results_import import import_results
from opentic.registry.importing import ImportRejected
from tests.lims.fixtures import Lab

SAMPLE_FILE = Path(__file__).resolve().parents[2] / "docs" / "instrument-files" / "agilent-icpms-batch.csv"


def mapping(lab: Lab) -> InstrumentMapping:
    return InstrumentMapping.objects.create(
        institution=lab.world.lab_a, instrument=lab.icp, name="MassHunter batch table",
        sample_column="Sample Name", type_column="Type", sample_types=["Sample"],
        columns={"208  Pb  [ He ] Conc. [ mg/kg ]": "pb", "111  Cd  [ He ] Conc. [ mg/kg ]": "cd"})


def the_file() -> bytes:
    # The documented file names samples of 2026; this year's lab numbers are what the test registers.
    return SAMPLE_FILE.read_text().replace("2026-0000", f"{timezone.localdate().year}-0000").encode()


@pytest.mark.django_db
def test_the_documented_file_imports_through_every_gate(lab: Lab) -> None:
    samples = [lab.received() for _ in range(3)]
    lab.icp.calibration_due = timezone.localdate() + dt.timedelta(days=30)
    lab.icp.save()
    summary = import_results(lab.world.a_analyst, mapping(lab), "batch.csv", the_file())
    assert (summary.results, summary.samples) == (6, 3)
    first = Analysis.objects.get(sample=samples[0], service=lab.pb)
    assert first.value == "0.0425" and first.instrument == lab.icp and first.entered_by == lab.world.a_analyst
    assert all(s.state == "to_be_verified" for s in Sample.objects.all())
    assert audit.verify(audit.chain_key(lab.world.lab_a.pk))[0].ok
    assert results_match_trail() == []
    # The same file again changes nothing; a changed value needs a reason.
    assert import_results(lab.world.a_analyst, mapping_again(lab), "batch.csv", the_file()).results == 0
    changed = the_file().replace(b"0.0425", b"0.0431")
    with pytest.raises(ImportRejected) as caught:
        import_results(lab.world.a_analyst, mapping_again(lab), "batch.csv", changed)
    assert "修改须说明理由" in str(caught.value.errors[0]) and caught.value.errors[0].row == 5
    assert import_results(lab.world.a_analyst, mapping_again(lab), "b.csv", changed, reason="重新积分").results == 1


def mapping_again(lab: Lab) -> InstrumentMapping:
    return InstrumentMapping.objects.get(instrument=lab.icp)


@pytest.mark.django_db
def test_a_bad_file_imports_nothing_and_names_every_error(lab: Lab) -> None:
    lab.received()
    lab.register()  # the second sample is not received yet
    bad = the_file().replace(b"0.1830", b"n.d.")
    with pytest.raises(ImportRejected) as caught:
        import_results(lab.world.a_analyst, mapping(lab), "batch.csv", bad)
    errors = [str(e) for e in caught.value.errors]
    year = timezone.localdate().year
    assert any(e.startswith("第6行「Sample Name」") and "当前状态不能录入结果" in e for e in errors)
    assert any(e.startswith("第7行「Sample Name」") and f"本机构没有样品 {year}-000003" in e for e in errors)
    assert not Analysis.objects.exclude(value="").exists()
    unauthorized = the_file()
    lab.world.a_analyst.authorizations.all().delete()
    with pytest.raises(ImportRejected, match="错误"):
        import_results(lab.world.a_analyst, mapping_again(lab), "batch.csv", unauthorized)
    with pytest.raises(ImportRejected) as missing:
        import_results(lab.world.a_analyst, mapping_again(lab), "x.csv", b"Name,Value\n1,2\n")
    assert missing.value.errors[0].message == "映射中的列在文件中不存在"


@pytest.mark.django_db
def test_the_instrument_files_page_saves_a_mapping_and_imports_through_it(lab: Lab) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    [lab.received() for _ in range(3)]
    client = lab.world.client("a_analyst")
    columns = "208  Pb  [ He ] Conc. [ mg/kg ] => pb\n111  Cd  [ He ] Conc. [ mg/kg ] => cd"
    bad = client.post("/lims/instrument-files/", {"form": "mapping", "instrument": lab.icp.pk, "name": "batch",
                                                  "sample_column": "Sample Name", "columns": "X => arsenic"})
    assert bad.status_code == 422 and "arsenic" in bad.content.decode()
    saved = client.post("/lims/instrument-files/", {"form": "mapping", "instrument": lab.icp.pk, "name": "batch",
                                                    "sample_column": "Sample Name", "type_column": "Type",
                                                    "sample_types": "Sample", "columns": columns})
    assert saved.status_code == 302
    m = InstrumentMapping.objects.get(name="batch")
    assert m.columns == {"208  Pb  [ He ] Conc. [ mg/kg ]": "pb", "111  Cd  [ He ] Conc. [ mg/kg ]": "cd"}
    imported = client.post("/lims/instrument-files/", {"mapping": m.pk,
                                                       "file": SimpleUploadedFile("b.csv", the_file())}, follow=True)
    assert "6" in imported.content.decode() and Analysis.objects.exclude(value="").count() == 6
    assert lab.world.client("b_admin").post("/lims/instrument-files/", {"mapping": m.pk}).status_code == 404
