"""Issuing many reports at once: one electronic signature for the list, then one process per core.

Each report is still issued in its own transaction by `issue_approved` (render, sign, ledger), so a
failure stops only that sample; progress is counted on the batch row, which the page polls.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from opentic.core import audit
from opentic.core.models import User
from opentic.lims.models import Sample

from .models import ReportBatch
from .services import _require_signatory, issue_approved


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
    audit.record(actor=actor, action="approve-batch", entity=batch, institution_id=institution_id,
                 changes={"samples": ids, "signature": signature, "meaning": "approved / 批准"})
    return batch


def launch(batch: ReportBatch) -> None:
    """Run the batch in the background: its own process, which starts one worker per core. Inside a
    caller's transaction (the tests) a new process could not see the batch, so it runs here instead."""
    if connection.in_atomic_block:
        run_batch(batch.pk, workers=1)
        return
    subprocess.Popen([sys.executable, "-m", "opentic.cli", "reports", "run-batch", str(batch.pk)],
                     start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _issue_one(batch_id: int, sample_id: int) -> str:
    """Issue one sample's report and count it; returns an error message or ''."""
    batch = ReportBatch.objects.select_related("signed_by").get(pk=batch_id)
    try:
        issue_approved(batch.signed_by, Sample.objects.get(pk=sample_id))
    except (ValidationError, PermissionDenied) as exc:
        message = f"{sample_id}: " + ("; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc))
        ReportBatch.objects.filter(pk=batch_id).update(failed=F("failed") + 1)
        return message
    ReportBatch.objects.filter(pk=batch_id).update(done=F("done") + 1)
    return ""


def _worker_setup() -> None:
    import django

    django.setup()


def run_batch(batch_id: int, workers: int | None = None) -> ReportBatch:
    """Issue every report of the batch, on `workers` processes (default: one per core; 1 runs here)."""
    batch = ReportBatch.objects.get(pk=batch_id)
    ReportBatch.objects.filter(pk=batch_id).update(state=ReportBatch.State.RUNNING)
    workers = workers or os.cpu_count() or 1
    if workers == 1:
        errors = [_issue_one(batch_id, sample_id) for sample_id in batch.sample_ids]
    else:
        from django.db import connections

        connections.close_all()  # forked workers must open their own connections
        with ProcessPoolExecutor(max_workers=workers, initializer=_worker_setup) as pool:
            errors = list(pool.map(_issue_one, [batch_id] * batch.total, batch.sample_ids))
    ReportBatch.objects.filter(pk=batch_id).update(state=ReportBatch.State.FINISHED, finished_at=timezone.now(),
                                                   errors=[e for e in errors if e])
    return ReportBatch.objects.get(pk=batch_id)
