"""The job queue's guarantees, on the real runner (core/jobs.py): retries with doubling backoff, bad input
failing at once, a dead runner's job taken up again, a duplicate delivery never running a job twice."""

from __future__ import annotations

import datetime as dt
import socket
import subprocess
import sys

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from opentic.core import jobs
from opentic.core.models import AuditEvent, Job
from tests.conftest import World

RUNS: list[int] = []


def flaky(job: Job, progress: jobs.Progress) -> None:
    """Fails on its first two tries, then reports progress and succeeds."""
    RUNS.append(job.attempts)
    if job.attempts < 3:
        raise RuntimeError(f"try {job.attempts} failed")
    progress.update(done=5, total=5, stage="完成", force=True)


def refusing(job: Job, progress: jobs.Progress) -> None:
    RUNS.append(job.attempts)
    raise ValidationError("文件格式不对")


FAILED: list[int] = []
jobs.register("test.flaky", flaky, attempts=5)
jobs.register("test.refusing", refusing, on_failed=lambda job: FAILED.append(job.pk))
jobs.register("test.once", lambda job, progress: RUNS.append(job.attempts), attempts=2)


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


@pytest.fixture(autouse=True)
def _clean() -> None:
    RUNS.clear()
    FAILED.clear()


@pytest.mark.django_db
def test_a_failing_job_is_retried_with_doubling_backoff_then_succeeds(world: World, settings: object) -> None:
    settings.OPENTIC_JOB_BACKOFF_SECONDS = 10  # type: ignore[attr-defined]
    job = jobs.submit("test.flaky", user=world.a_admin, institution_id=world.lab_a.pk)  # runs inline: try 1
    job.refresh_from_db()
    assert (job.state, job.attempts, RUNS) == ("queued", 1, [1]) and "try 1 failed" in job.error
    first_wait = (job.not_before - timezone.now()).total_seconds()  # type: ignore[operator]
    assert 9 < first_wait <= 10
    assert jobs.run(job.pk) is None and RUNS == [1]  # too early: the delayed delivery will come
    Job.objects.filter(pk=job.pk).update(not_before=timezone.now() - dt.timedelta(seconds=1))
    jobs.run(job.pk)
    job.refresh_from_db()
    second_wait = (job.not_before - timezone.now()).total_seconds()  # type: ignore[operator]
    assert job.attempts == 2 and 19 < second_wait <= 20
    Job.objects.filter(pk=job.pk).update(not_before=timezone.now() - dt.timedelta(seconds=1))
    done = jobs.run(job.pk)
    assert done is not None and (done.state, done.attempts, done.done, done.total) == ("done", 3, 5, 5)
    assert jobs.run(job.pk) is None and RUNS == [1, 2, 3]  # a late duplicate delivery runs nothing
    actions = list(AuditEvent.objects.filter(entity="core.Job", entity_id=str(job.pk)).values_list("action", flat=True))
    assert actions == ["job.submit", "job.done"]


@pytest.mark.django_db
def test_bad_input_fails_at_once_with_its_message(world: World) -> None:
    job = jobs.submit("test.refusing", user=world.a_admin, institution_id=world.lab_a.pk)
    job.refresh_from_db()
    assert (job.state, job.attempts, job.error, RUNS, FAILED) == ("failed", 1, "文件格式不对", [1], [job.pk])


@pytest.mark.django_db
def test_a_job_whose_runner_died_is_taken_up_again(world: World) -> None:
    here = socket.gethostname()
    dead = Job.objects.create(kind="test.once", state=Job.State.RUNNING, attempts=1, max_attempts=2,
                              lease_owner=f"{here}:{dead_pid()}:1",
                              lease_until=timezone.now() + dt.timedelta(minutes=5))
    alive = Job.objects.create(kind="test.once", state=Job.State.RUNNING, attempts=1, max_attempts=2,
                               lease_owner="other-host:1:1", lease_until=timezone.now() + dt.timedelta(minutes=5))
    silent = Job.objects.create(kind="test.once", state=Job.State.RUNNING, attempts=1, max_attempts=2,
                                lease_owner="other-host:2:1", lease_until=timezone.now() - dt.timedelta(seconds=1))
    assert jobs.run(alive.pk) is None  # a delivery while another runner holds a live lease runs nothing
    assert sorted(jobs.reap()) == sorted([dead.pk, silent.pk])
    assert [Job.objects.get(pk=j.pk).state for j in (dead, alive, silent)] == ["done", "running", "done"]
    assert RUNS == [2, 2]


@pytest.mark.django_db
def test_a_job_that_keeps_killing_its_runner_fails_in_the_end(world: World) -> None:
    job = Job.objects.create(kind="test.once", state=Job.State.RUNNING, attempts=2, max_attempts=2,
                             lease_owner="other-host:3:1", lease_until=timezone.now() - dt.timedelta(seconds=1))
    jobs.reap()
    job.refresh_from_db()
    assert job.state == "failed" and "多次中断" in job.error and RUNS == []


@pytest.mark.django_db
def test_the_job_page_shows_progress_to_its_owner_only(world: World) -> None:
    job = jobs.submit("test.once", user=world.a_admin, institution_id=world.lab_a.pk)
    Job.objects.filter(pk=job.pk).update(output=b"a,b\n", output_name="x.csv", output_type="text/csv")
    owner = world.client("a_admin")
    page = owner.get(f"/jobs/{job.pk}/").content.decode()
    assert 'data-state="done"' in page and "x.csv" in page
    assert owner.get(f"/jobs/{job.pk}/download").content == b"a,b\n"
    for persona in ("b_admin", "a_analyst", "regulator"):
        assert world.client(persona).get(f"/jobs/{job.pk}/").status_code == 404
        assert world.client(persona).get(f"/jobs/{job.pk}/download").status_code == 404
    assert world.client("anonymous").get(f"/jobs/{job.pk}/").status_code == 302
