"""Issuing many reports at once: one electronic signature for the list, then a job on the queue.

The batch has one item per sample. Each report is still issued in its own transaction by
`issue_approved` (render, sign, ledger), and its item turns ISSUED in that same transaction, so the job
is idempotent: run again after a crash (the worker killed mid-batch, core/jobs.py re-queues it), it issues
exactly the items still PENDING. Within the job the items are spread over one process per core; those
processes die with the worker (core/procs.py), so a killed worker leaves nothing issuing behind it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from concurrent.futures import as_completed

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, connections, transaction
from django.utils import timezone

from opentic.core import audit, jobs, procs
from opentic.core.models import Job, User
from opentic.lims.models import Sample

from .models import BatchItem, Report, ReportBatch
from .services import _require_signatory, issue_approved

JOB_KIND = "reports.batch"


@transaction.atomic
def start_batch(actor: User, samples: Sequence[Sample], password: str) -> ReportBatch:
    if not samples:
        raise ValidationError("没有可出具报告的样品")
    institution_id = samples[0].institution_id
    if any(s.institution_id != institution_id for s in samples):
        raise PermissionDenied("只能批量签发本机构的报告")
    _require_signatory(actor, institution_id, password)
    ids = sorted(s.pk for s in samples)
    signature = hashlib.sha256(json.dumps({"samples": ids, "signer": actor.pk, "meaning": "approved / 批准",
                                           "at": timezone.now().isoformat()}).encode()).hexdigest()
    batch = ReportBatch.objects.create(institution_id=institution_id, signed_by=actor, sample_ids=ids,
                                       total=len(ids), signature=signature)
    BatchItem.objects.bulk_create([BatchItem(batch=batch, sample_id=i) for i in ids])
    audit.record(actor=actor, action="approve-batch", entity=batch, institution_id=institution_id,
                 changes={"samples": ids, "signature": signature, "meaning": "approved / 批准"})
    return batch


def launch(batch: ReportBatch) -> Job:
    """Put the batch on the queue; the page follows its progress."""
    with transaction.atomic():
        job = jobs.submit(JOB_KIND, user=batch.signed_by, institution_id=batch.institution_id,
                          args={"batch": batch.pk}, total=batch.total, label="排队签发报告")
        ReportBatch.objects.filter(pk=batch.pk).update(job=job)
    return job


def _issue_item(item_id: int) -> None:
    """Issue one item's report unless it is issued already; a refusal marks the item failed."""
    item = BatchItem.objects.select_related("batch__signed_by").get(pk=item_id)
    if item.state != BatchItem.State.PENDING:
        return

    def issued(report: Report) -> None:
        BatchItem.objects.filter(pk=item_id).update(state=BatchItem.State.ISSUED, report=report, error="")

    try:
        issue_approved(item.batch.signed_by, Sample.objects.get(pk=item.sample_id), on_issued=issued)
    except (ValidationError, PermissionDenied) as exc:
        message = f"{item.sample_id}: " + ("; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc))
        # Only a pending item fails: one issued meanwhile by another runner stays issued.
        BatchItem.objects.filter(pk=item_id, state=BatchItem.State.PENDING).update(
            state=BatchItem.State.FAILED, error=message)


def _count(batch_id: int, progress: jobs.Progress | None) -> tuple[int, int]:
    states = list(BatchItem.objects.filter(batch_id=batch_id).values_list("state", flat=True))
    done, failed = states.count(BatchItem.State.ISSUED), states.count(BatchItem.State.FAILED)
    ReportBatch.objects.filter(pk=batch_id).update(done=done, failed=failed)
    if progress is not None:
        progress.update(done=done + failed, total=len(states), stage=f"已签发 {done} 份,失败 {failed} 份")
    return done, failed


def run_batch(batch_id: int, workers: int | None = None, progress: jobs.Progress | None = None) -> ReportBatch:
    """Issue every pending item of the batch on `workers` processes (default: one per core; 1 runs here)."""
    ReportBatch.objects.filter(pk=batch_id).exclude(state=ReportBatch.State.FINISHED).update(
        state=ReportBatch.State.RUNNING)
    pending = list(BatchItem.objects.filter(batch_id=batch_id, state=BatchItem.State.PENDING)
                   .order_by("sample_id").values_list("pk", flat=True))
    workers = min(workers or os.cpu_count() or 1, max(1, len(pending)))
    _count(batch_id, progress)
    if workers == 1:
        for item_id in pending:
            _issue_item(item_id)
            _count(batch_id, progress)
    else:
        connections.close_all()  # the pool's processes open their own connections
        with procs.pool(workers) as pool:
            for future in as_completed([pool.submit(_issue_item, item_id) for item_id in pending]):
                future.result()
                _count(batch_id, progress)
    errors = list(BatchItem.objects.filter(batch_id=batch_id, state=BatchItem.State.FAILED)
                  .order_by("sample_id").values_list("error", flat=True))
    _count(batch_id, progress)
    ReportBatch.objects.filter(pk=batch_id).update(state=ReportBatch.State.FINISHED, finished_at=timezone.now(),
                                                   errors=errors)
    return ReportBatch.objects.get(pk=batch_id)


def _run_job(job: Job, progress: jobs.Progress) -> None:
    # Inside a caller's transaction (the tests) other processes could not see the batch: run it here.
    workers = 1 if connection.in_atomic_block else (settings.OPENTIC_BATCH_PROCESSES or None)
    run_batch(int(job.args["batch"]), workers, progress)


def _job_failed(job: Job) -> None:
    """A batch whose job gave up is not left RUNNING: it says it failed, and which samples are pending."""
    ReportBatch.objects.filter(pk=int(job.args["batch"])).exclude(state=ReportBatch.State.FINISHED).update(
        state=ReportBatch.State.FAILED, finished_at=timezone.now(), errors=[job.error])


def register() -> None:
    jobs.register(JOB_KIND, _run_job, on_failed=_job_failed)
