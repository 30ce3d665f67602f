"""Many reports with one electronic signature: in this process, and across real worker processes."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied

from opentic.ledger import services as ledger
from opentic.lims.models import Sample
from opentic.reports.batch import run_batch, start_batch
from opentic.reports.models import Report
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
