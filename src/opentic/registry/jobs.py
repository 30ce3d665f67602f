"""Large register work on the queue (issue 12, finding 7): an update import of 200,000 rows or the
regulator's export of every instrument outlasts a web request, so above a size they run as jobs
(core/jobs.py) whose page shows their progress and, for an export, the file to download when done.
Smaller files keep the request path: their answer comes back on the same page."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import QueryDict

from opentic.core import jobs
from opentic.core.models import Job, User
from opentic.core.permissions import is_regulator
from opentic.registry.filters import InstitutionFilterForm, filter_institutions
from opentic.registry.importing import ImportRejected
from opentic.registry.models import Institution, Instrument, ScopeLine, Staff
from opentic.registry.sheets import SHEETS, export, run_import

IMPORT, EXPORT = "registry.import", "registry.export"
EXPORT_FORMATS = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                  "csv": "text/csv; charset=utf-8"}


def export_queryset(user: User, kind: str, query: str) -> QuerySet[Institution]:
    """The institutions whose rows this user may export: the regulator's filtered list, or the lab's own."""
    if is_regulator(user):
        form = InstitutionFilterForm(QueryDict(query) or None)
        queryset: QuerySet[Institution] = Institution.objects.all()
        if form.is_valid():
            queryset = filter_institutions(queryset, form.cleaned_data)
        return queryset
    if user.institution_id and kind != "institutions":
        return Institution.objects.filter(pk=user.institution_id)
    raise PermissionDenied


def export_rows(kind: str, queryset: QuerySet[Institution]) -> int:
    """How many rows the export will have (one count query), to decide between the request and a job."""
    if kind == "institutions":
        return queryset.count()
    if kind == "scope":
        return ScopeLine.objects.filter(institution__in=queryset).count()
    if kind == "staff":
        return Staff.objects.filter(institution__in=queryset).count()
    return Instrument.objects.filter(institution__in=queryset).count()


def submit_export(user: User, kind: str, fmt: str, query: str) -> Job:
    queryset = export_queryset(user, kind, query)  # refused here, not later in the worker
    return jobs.submit(EXPORT, user=user, institution_id=None if is_regulator(user) else user.institution_id,
                       args={"kind": kind, "format": fmt, "query": query}, total=export_rows(kind, queryset),
                       label="排队导出")


def _counted(rows: Iterable[list[Any]], progress: jobs.Progress) -> Iterator[list[Any]]:
    for n, row in enumerate(rows, start=1):
        if n % 5000 == 0:
            progress.update(done=n)
        yield row


def _run_export(job: Job, progress: jobs.Progress) -> None:
    if job.output is not None:
        return  # made by an earlier try
    if job.user is None:
        raise jobs.Permanent("导出任务没有发起人")
    kind, fmt = job.args["kind"], job.args["format"]
    queryset = export_queryset(job.user, kind, job.args.get("query", ""))
    total = export_rows(kind, queryset)
    progress.update(done=0, total=total, stage=f"正在导出 {total} 行", force=True)
    data, filename = export(kind, queryset, fmt, rows=lambda rows: _counted(rows, progress))
    Job.objects.filter(pk=job.pk).update(output=data, output_name=filename, output_type=EXPORT_FORMATS[fmt],
                                         result={"rows": total, "bytes": len(data)})
    progress.update(done=total, stage=f"已导出 {total} 行", force=True)


def submit_import(user: User, kind: str, filename: str, data: bytes) -> Job:
    return jobs.submit(IMPORT, user=user, institution_id=None if is_regulator(user) else user.institution_id,
                       args={"kind": kind, "filename": filename[:255]}, input=data, label="排队导入")


def _run_import(job: Job, progress: jobs.Progress) -> None:
    if job.result.get("rows") is not None:
        return  # committed by an earlier try, in the transaction that recorded this result
    if job.user is None or job.input is None:
        raise jobs.Permanent("导入任务缺少发起人或文件")
    progress.update(stage="正在读取、校验并写入", force=True)
    try:
        with transaction.atomic():
            result = run_import(job.user, job.args["kind"], job.args["filename"], bytes(job.input))
            summary = {"rows": result.rows, "created": result.created, "updated": result.updated,
                       "unchanged": result.unchanged}
            Job.objects.filter(pk=job.pk).update(result=summary)
    except ImportRejected as exc:
        errors = [str(e) for e in exc.errors]
        Job.objects.filter(pk=job.pk).update(result={"errors": errors[:500], "error_count": len(errors)})
        raise jobs.Permanent(f"{len(errors)} 处错误,未导入任何数据") from None
    job.result = summary
    progress.update(done=result.rows, total=result.rows, force=True,
                    stage=f"{result.rows} 行:新增 {result.created},更新 {result.updated},未变 {result.unchanged}")


def register() -> None:
    # An import is all or nothing and its failures are the file's: tried once more at most, for a crash.
    jobs.register(IMPORT, _run_import, attempts=2)
    jobs.register(EXPORT, _run_export, attempts=3)


__all__ = ["EXPORT_FORMATS", "SHEETS", "export_queryset", "export_rows", "register", "submit_export",
           "submit_import"]
