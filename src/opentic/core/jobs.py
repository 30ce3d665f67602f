"""Durable background work (docs/decisions/0017-job-queue.md).

A job's state lives in its database row (`core.Job`), the queue (Huey, core/queue.py) only carries its
id. A runner takes a lease on the row and renews it by a heartbeat while the handler works; a runner that
dies (kill -9, a lost machine) stops renewing, and `reap`, run every minute and when a worker starts,
queues the job again. Delivering a job twice is harmless: only the holder of a live lease runs it, and
every handler is idempotent, resuming from its own records (a report batch from the samples it has not
issued yet). A failure is retried with exponential backoff; bad input fails at once with its message.

Apps register their kinds of job at start-up (`register` in AppConfig.ready()), so core runs work of
higher floors without importing them.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, close_old_connections, connection, transaction
from django.utils import timezone

from opentic.core import audit
from opentic.core.models import Job, User

log = logging.getLogger(__name__)


class Permanent(Exception):
    """A failure that trying again cannot mend (bad input): the job fails at once with this message."""


class LeaseLost(Exception):
    """Another runner holds the job now (this one was presumed dead): stop without writing anything."""


@dataclass(frozen=True)
class Kind:
    run: Callable[[Job, Progress], None]
    attempts: int
    on_failed: Callable[[Job], None] | None


KINDS: dict[str, Kind] = {}
# Run every minute by the worker's scheduler (core/queue.py), e.g. anchoring the audit chains.
EVERY_MINUTE: list[Callable[[], object]] = []


def register(kind: str, run: Callable[[Job, Progress], None], *, attempts: int = 5,
             on_failed: Callable[[Job], None] | None = None) -> None:
    KINDS[kind] = Kind(run, attempts, on_failed)


def lease_seconds() -> float:
    return float(settings.OPENTIC_JOB_LEASE_SECONDS)


def backoff(attempt: int) -> dt.timedelta:
    """The wait before try `attempt + 1`: doubling from OPENTIC_JOB_BACKOFF_SECONDS, at most an hour."""
    return dt.timedelta(seconds=min(3600.0, float(settings.OPENTIC_JOB_BACKOFF_SECONDS) * 2 ** max(0, attempt - 1)))


def owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def _owner_dead(owner: str) -> bool:
    """A lease held by a process of this machine that no longer exists (killed): no need to wait it out."""
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def submit(kind: str, *, user: User | None, institution_id: int | None, args: dict[str, Any] | None = None,
           input: bytes | None = None, total: int = 0, label: str = "") -> Job:
    """Queue a job (audited); it is handed to the queue when the caller's transaction commits."""
    if kind not in KINDS:
        raise ValueError(f"no such kind of job: {kind}")
    with transaction.atomic():
        job = Job.objects.create(kind=kind, user=user if user is not None and user.pk else None,
                                 institution_id=institution_id, args=args or {}, input=input, total=total,
                                 max_attempts=KINDS[kind].attempts, enqueued_at=timezone.now(), stage=label)
        audit.record(actor=user, action="job.submit", entity=job, institution_id=institution_id,
                     changes={"kind": kind, "args": args or {}, "input_bytes": len(input or b"")})
    dispatch(job.pk)
    return job


def dispatch(job_id: int, delay: float = 0) -> None:
    """Hand the job to the queue (after the current transaction commits), or run it here when
    OPENTIC_JOBS_INLINE is set (the tests, and a single-process tool that has no worker)."""
    if settings.OPENTIC_JOBS_INLINE:
        run(job_id)
        return
    from opentic.core import queue

    transaction.on_commit(lambda: queue.enqueue(job_id, delay))


def _claim(job_id: int, owner: str) -> Job | None:
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.state in (Job.State.DONE, Job.State.FAILED) or job.kind not in KINDS:
            return None
        now = timezone.now()
        if job.state == Job.State.RUNNING and job.lease_owner != owner and job.lease_until and \
                job.lease_until > now and not _owner_dead(job.lease_owner):
            return None  # alive in another runner: this delivery is a duplicate
        if job.not_before and job.not_before > now:
            return None  # early: the delayed delivery for its next try is on its way
        if job.attempts >= job.max_attempts:
            _fail(job, job.error or "工作进程多次中断,任务未能完成")
            return None
        job.state, job.lease_owner = Job.State.RUNNING, owner
        job.lease_until = now + dt.timedelta(seconds=lease_seconds())
        job.attempts += 1
        job.started_at = job.started_at or now
        job.save(update_fields=["state", "lease_owner", "lease_until", "attempts", "started_at"])
        return job


class Progress:
    """What the handler reports as it goes: written at most twice a second, and each write renews the
    lease. A runner whose lease another one has taken hears it here (LeaseLost) and stops."""

    def __init__(self, job: Job, owner: str) -> None:
        self.job, self.owner, self._last = job, owner, 0.0

    def update(self, *, done: int | None = None, total: int | None = None, stage: str | None = None,
               force: bool = False) -> None:
        if done is not None:
            self.job.done = done
        if total is not None:
            self.job.total = total
        if stage is not None:
            self.job.stage = stage[:200]
        now = timezone.now()
        if not force and now.timestamp() - self._last < 0.5:
            return
        self._last = now.timestamp()
        moved = Job.objects.filter(pk=self.job.pk, lease_owner=self.owner, state=Job.State.RUNNING).update(
            done=self.job.done, total=self.job.total, stage=self.job.stage,
            lease_until=now + dt.timedelta(seconds=lease_seconds()))
        if not moved:
            raise LeaseLost(self.job.pk)


class _Heartbeat(threading.Thread):
    """Renews the lease while the handler is busy in one long step (rendering, a large transaction)."""

    def __init__(self, job_id: int, owner: str) -> None:
        super().__init__(name=f"job-{job_id}-heartbeat", daemon=True)
        self.job_id, self.owner, self.stop = job_id, owner, threading.Event()

    def run(self) -> None:
        try:
            while not self.stop.wait(lease_seconds() / 4):
                try:
                    Job.objects.filter(pk=self.job_id, lease_owner=self.owner, state=Job.State.RUNNING).update(
                        lease_until=timezone.now() + dt.timedelta(seconds=lease_seconds()))
                except DatabaseError:  # SQLite busy behind the job's own long write: try again later
                    log.info("heartbeat of job %s delayed", self.job_id)
        finally:
            connection.close()


def run(job_id: int, owner: str | None = None) -> Job | None:
    """Run the job if no live runner holds it; returns it as it ends (None if nothing was run)."""
    owner = owner or owner_id()
    job = _claim(job_id, owner)
    if job is None:
        return None
    heartbeat = None if settings.OPENTIC_JOBS_INLINE else _Heartbeat(job.pk, owner)
    if heartbeat:
        heartbeat.start()
    try:
        KINDS[job.kind].run(job, Progress(job, owner))
    except LeaseLost:
        log.warning("job %s: lease lost, another runner continues", job.pk)
        return None
    except (Permanent, ValidationError, PermissionDenied) as exc:
        message = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        with transaction.atomic():
            _fail(job, message)
    except Exception as exc:
        log.exception("job %s (%s) failed on try %s", job.pk, job.kind, job.attempts)
        _retry_or_fail(job, f"{type(exc).__name__}: {exc}")
    else:
        _finish(job)
    finally:
        if heartbeat:
            heartbeat.stop.set()
    job.refresh_from_db()
    return job


@transaction.atomic
def _finish(job: Job) -> None:
    Job.objects.filter(pk=job.pk).update(state=Job.State.DONE, finished_at=timezone.now(), lease_until=None,
                                         lease_owner="", done=job.done, total=job.total, stage=job.stage)
    audit.record(actor=job.user, action="job.done", entity=job, institution_id=job.institution_id,
                 changes={"kind": job.kind, "attempts": job.attempts, "output": job.output_name})


def _fail(job: Job, message: str) -> None:
    """Inside the caller's transaction: the job has failed for good."""
    Job.objects.filter(pk=job.pk).update(state=Job.State.FAILED, finished_at=timezone.now(), lease_until=None,
                                         lease_owner="", error=message[:5000])
    audit.record(actor=job.user, action="job.failed", entity=job, institution_id=job.institution_id,
                 changes={"kind": job.kind, "attempts": job.attempts, "error": message[:500]})
    job.state, job.error = Job.State.FAILED, message
    hook = KINDS[job.kind].on_failed if job.kind in KINDS else None
    if hook:
        hook(job)


def _retry_or_fail(job: Job, message: str) -> None:
    if not connection.in_atomic_block:
        close_old_connections()  # the failure may have been the connection's: start from a sound one
    with transaction.atomic():
        if job.attempts >= job.max_attempts:
            _fail(job, message)
            return
        wait = backoff(job.attempts)
        now = timezone.now()
        Job.objects.filter(pk=job.pk).update(state=Job.State.QUEUED, lease_until=None, lease_owner="",
                                             not_before=now + wait, enqueued_at=now, error=message[:5000])
        dispatch_later = wait.total_seconds()
    if not settings.OPENTIC_JOBS_INLINE:
        dispatch(job.pk, dispatch_later)


def reap() -> list[int]:
    """Queue again every job whose runner died (lease run out, or its process gone) and every queued job
    whose delivery seems lost; returns their ids. Run every minute and when a worker starts."""
    now = timezone.now()
    again: list[int] = []
    stale = now - dt.timedelta(seconds=lease_seconds())
    for job in Job.objects.filter(state__in=[Job.State.QUEUED, Job.State.RUNNING]).only(
            "state", "lease_owner", "lease_until", "not_before", "enqueued_at"):
        if job.state == Job.State.RUNNING:
            if not ((job.lease_until and job.lease_until < now) or _owner_dead(job.lease_owner)):
                continue
            moved = Job.objects.filter(pk=job.pk, state=Job.State.RUNNING, lease_owner=job.lease_owner).update(
                state=Job.State.QUEUED, lease_owner="", lease_until=None, enqueued_at=now,
                stage="工作进程中断,排队续做")
        elif (job.not_before is None or job.not_before <= now) and (job.enqueued_at is None or
                                                                     job.enqueued_at < stale):
            moved = Job.objects.filter(pk=job.pk, state=Job.State.QUEUED).update(enqueued_at=now)
        else:
            continue
        if moved:
            again.append(job.pk)
            dispatch(job.pk)
    return again


def every_minute() -> None:
    reap()
    for task in EVERY_MINUTE:
        try:
            task()
        except Exception:  # one failing task must not stop the others
            log.exception("periodic task %s failed", task)
