"""Many reports with one electronic signature: in this process, and across real worker processes."""

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from opentic.core import jobs
from opentic.core.models import AuditEvent, Job
from opentic.ledger import services as ledger
from opentic.lims.models import LabNumberCounter, Sample
from opentic.reports import services
from opentic.reports.batch import run_batch, start_batch
from opentic.reports.models import Report, ReportBatch, ReportNumber
from tests.conftest import PASSWORD
from tests.lims.fixtures import Lab
from tests.reports.test_reports import make_signatory, verified_sample


@pytest.mark.django_db
def test_a_batch_issues_every_report_and_counts_them(lab: Lab, settings: object, tmp_path: Path) -> None:
    settings.DATA_DIR = tmp_path  # type: ignore[attr-defined]
    make_signatory(lab)
    samples = [verified_sample(lab) for _ in range(3)]
    with pytest.raises(PermissionDenied, match="密码不正确"):
        start_batch(lab.world.a_signatory, samples, "wrong")
    batch = start_batch(lab.world.a_signatory, samples, PASSWORD)
    finished = run_batch(batch.pk, workers=1)
    assert (finished.done, finished.failed, finished.state) == (3, 0, "finished")
    assert Report.objects.count() == 3 and not Sample.objects.filter(state="verified").exists()
    assert all(ledger.verify_pdf(bytes(r.pdf)).status == "genuine" for r in Report.objects.all())
    again = run_batch(start_batch(lab.world.a_signatory, samples, PASSWORD).pk, workers=1)
    assert (again.done, again.failed) == (0, 3) and "审核后" in again.errors[0]


@pytest.mark.django_db
def test_a_batch_across_worker_processes(tmp_path: Path) -> None:
    # Its own database, as the crash test has: worker processes cannot see the test's transaction.
    env = {**os.environ, "OPENTIC_DATA_DIR": str(tmp_path), "OPENTIC_LOG_LEVEL": "ERROR",
           "OPENTIC_SQLITE_PATH": str(tmp_path / "batch.sqlite3")}
    env.pop("DATABASE_URL", None)
    cli = [sys.executable, "-m", "opentic.cli"]
    subprocess.run([*cli, "migrate", "-v0"], env=env, check=True)
    subprocess.run([*cli, "demo-data", "--scale", "tiny", "--no-reports"], env=env, check=True,
                   capture_output=True)
    # The demo's signatory's account is a staff member who signs in 食品: set up as the demo does.
    setup = ("from opentic.core.models import User; from opentic.registry.models import SignatoryAuthorization as S; "
             "u = User.objects.get(username='lab1-signatory'); "
             "g = S.objects.filter(staff__institution_id=u.institution_id, fields__contains='食品').first(); "
             "g.staff.user = u; g.staff.save()")
    subprocess.run([*cli, "shell", "-c", setup], env=env, check=True)
    out = subprocess.run([*cli, "reports", "batch", "--signatory", "lab1-signatory", "--password", "opentic-demo",
                          "--workers", "2"], env=env, check=True, capture_output=True, text=True).stdout
    assert "2/2 issued, 0 failed" in out, out
    check = subprocess.run([*cli, "ledger", "check"], env=env, capture_output=True, text=True)
    assert check.returncode == 0 and '"problems": []' in check.stdout


@pytest.mark.django_db
def test_the_batch_page_starts_and_shows_progress(lab: Lab, settings: object, tmp_path: Path) -> None:
    settings.DATA_DIR = tmp_path  # type: ignore[attr-defined]
    make_signatory(lab)
    [verified_sample(lab) for _ in range(2)]
    client = lab.world.client("a_signatory")
    assert "batch-form" in client.get("/lims/").content.decode()
    started = client.post("/reports/batches/", {"password": PASSWORD})
    assert started.status_code == 302
    page = client.get(started["Location"]).content.decode()
    assert 'data-state="finished"' in page and "2 / 2" in page
    partial = client.get(started["Location"], headers={"HX-Request": "true"}).content.decode()
    assert "<progress" in partial and "<html" not in partial
    assert lab.world.client("b_admin").get(started["Location"]).status_code == 404
    nothing = client.post("/reports/batches/", {"password": PASSWORD}, follow=True)
    assert "没有可出具报告的样品" in nothing.content.decode()
    verified_sample(lab)
    refused = client.post("/reports/batches/", {"password": "wrong"}, follow=True)
    assert "密码不正确" in refused.content.decode()


@pytest.mark.django_db
def test_a_number_taken_by_an_attempt_that_died_is_issued_by_the_next(lab: Lab, settings: object,
                                                                       tmp_path: Path) -> None:
    settings.DATA_DIR = tmp_path  # type: ignore[attr-defined]
    make_signatory(lab)
    sample = verified_sample(lab)
    # An attempt that took its number and died before recording the report (a worker killed while rendering).
    died = services._prepare(lab.world.a_signatory, sample, None, "")
    report = services.issue_approved(lab.world.a_signatory, sample)
    assert report.number == died.number and report.number.endswith("-00001")
    assert list(ReportNumber.objects.values_list("number", "state")) == [(report.number, "issued")]
    reserved = AuditEvent.objects.filter(action="report-number.reserve")
    assert [e.changes["number"] for e in reserved] == [report.number]


@pytest.mark.django_db
def test_two_batches_over_the_same_samples_burn_no_number(lab: Lab, settings: object, tmp_path: Path) -> None:
    settings.DATA_DIR = tmp_path  # type: ignore[attr-defined]
    make_signatory(lab)
    samples = [verified_sample(lab) for _ in range(3)]
    first = start_batch(lab.world.a_signatory, samples, PASSWORD)
    second = start_batch(lab.world.a_signatory, samples, PASSWORD)
    # The second batch reaches the first sample and takes its number while the first batch issues them all.
    services._prepare(lab.world.a_signatory, samples[0], None, "")
    assert run_batch(first.pk, workers=1).done == 3
    again = run_batch(second.pk, workers=1)
    assert (again.done, again.failed) == (0, 3)
    numbers = sorted(Report.objects.values_list("number", flat=True))
    assert [n.rsplit("-", 1)[1] for n in numbers] == ["00001", "00002", "00003"]
    assert LabNumberCounter.objects.get(institution=lab.world.lab_a, series="report").last == 3
    assert set(ReportNumber.objects.values_list("state", flat=True)) == {"issued"}


@pytest.mark.django_db
def test_a_batch_run_again_counts_what_it_issued_as_issued(lab: Lab, settings: object, tmp_path: Path) -> None:
    settings.DATA_DIR = tmp_path  # type: ignore[attr-defined]
    make_signatory(lab)
    batch = start_batch(lab.world.a_signatory, [verified_sample(lab) for _ in range(2)], PASSWORD)
    assert (run_batch(batch.pk, workers=1).done, Report.objects.count()) == (2, 2)
    rerun = run_batch(batch.pk, workers=1)  # a duplicate delivery, or a resume after a crash
    assert (rerun.done, rerun.failed, rerun.errors, Report.objects.count()) == (2, 0, [], 2)


@pytest.mark.django_db
def test_a_batch_whose_worker_keeps_dying_ends_failed_not_running(lab: Lab, settings: object,
                                                                  tmp_path: Path) -> None:
    settings.DATA_DIR = tmp_path  # type: ignore[attr-defined]
    make_signatory(lab)
    batch = start_batch(lab.world.a_signatory, [verified_sample(lab)], PASSWORD)
    job = Job.objects.create(kind="reports.batch", args={"batch": batch.pk}, state=Job.State.RUNNING,
                             attempts=5, max_attempts=5, lease_owner="gone-host:1:1",
                             lease_until=timezone.now() - dt.timedelta(seconds=1))
    ReportBatch.objects.filter(pk=batch.pk).update(job=job, state=ReportBatch.State.RUNNING)
    jobs.reap()
    batch.refresh_from_db()
    assert batch.state == "failed" and "多次中断" in batch.errors[0]
    page = lab.world.client("a_signatory").get(f"/reports/batches/{batch.pk}/").content.decode()
    assert 'data-state="failed"' in page and "hx-trigger" not in page.split('id="batch"')[2]
