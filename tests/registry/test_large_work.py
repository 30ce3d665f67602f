"""Register work too large for a request runs as a job (issue 12, finding 7): an import above the size
limit, an export above the row limit; the page shows its progress and offers the file when done."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from opentic.core.models import Job
from opentic.core.tabular import write_csv
from opentic.registry.models import ImportBatch, Instrument
from opentic.registry.sheets import SHEETS
from tests.conftest import CODE_A, World


def instruments_csv(rows: int) -> bytes:
    headers = [c.header for c in SHEETS["instruments"].columns]
    return write_csv(headers, [[CODE_A, f"YQ-J{i:05d}", "天平", "", "", "", "2027-01-01", "否", "1000", "否", "在用"]
                               for i in range(rows)])


@pytest.mark.django_db
def test_a_large_import_runs_as_a_job_and_its_page_tells_the_result(world: World, settings: object) -> None:
    settings.OPENTIC_INLINE_IMPORT_BYTES = 1000  # type: ignore[attr-defined]
    data = instruments_csv(50)
    assert len(data) > 1000
    client = world.client("a_admin")
    answer = client.post("/registry/import/", {"kind": "instruments",
                                               "file": SimpleUploadedFile("i.csv", data, "text/csv")})
    assert answer.status_code == 302 and answer["Location"].startswith("/jobs/")
    job = Job.objects.get(kind="registry.import")
    assert (job.state, job.user, job.institution_id) == ("done", world.a_admin, world.lab_a.pk)
    assert job.result == {"rows": 50, "created": 50, "updated": 0, "unchanged": 0}
    assert Instrument.objects.filter(asset_number__startswith="YQ-J").count() == 50
    assert ImportBatch.objects.get(filename="i.csv").rows == 50
    page = client.get(answer["Location"]).content.decode()
    assert "50 行:新增 50,更新 0,未变 0" in page and 'data-state="done"' in page
    assert world.client("b_admin").get(answer["Location"]).status_code == 404


@pytest.mark.django_db
def test_a_rejected_large_import_lists_its_errors_and_changes_nothing(world: World, settings: object) -> None:
    settings.OPENTIC_INLINE_IMPORT_BYTES = 100  # type: ignore[attr-defined]
    data = instruments_csv(3).replace(b"2027-01-01", b"2027-13-45")
    answer = world.client("a_admin").post("/registry/import/", {
        "kind": "instruments", "file": SimpleUploadedFile("bad.csv", data, "text/csv")})
    job = Job.objects.get(kind="registry.import")
    assert (job.state, job.attempts, job.result["error_count"]) == ("failed", 1, 3)
    assert not Instrument.objects.filter(asset_number__startswith="YQ-J").exists()
    page = world.client("a_admin").get(answer["Location"]).content.decode()
    assert "3 处错误,未导入任何数据" in page and "第2行「校准有效期至」" in page


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["regulator", "a_admin"])
def test_a_large_export_runs_as_a_job_with_a_download(world: World, settings: object, persona: str) -> None:
    settings.OPENTIC_INLINE_EXPORT_ROWS = 0  # type: ignore[attr-defined]
    client = world.client(persona)
    answer = client.get("/registry/export/instruments.xlsx")
    assert answer.status_code == 302 and answer["Location"].startswith("/jobs/")
    job = Job.objects.get(kind="registry.export")
    expected = Instrument.objects.count() if persona == "regulator" else Instrument.objects.filter(
        institution=world.lab_a).count()
    assert (job.state, job.total, job.done, job.result["rows"]) == ("done", expected, expected, expected)
    page = client.get(answer["Location"]).content.decode()
    assert "job-download" in page
    download = client.get(f"/jobs/{job.pk}/download")
    assert download["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(download.content)).active
    assert sheet is not None and len(list(sheet.iter_rows())) == expected + 1
    assert world.client("b_admin").get(f"/jobs/{job.pk}/download").status_code == 404


@pytest.mark.django_db
def test_a_small_export_keeps_the_request_path(world: World) -> None:
    answer = world.client("regulator").get("/registry/export/instruments.csv")
    assert answer.status_code == 200 and not Job.objects.exists()
