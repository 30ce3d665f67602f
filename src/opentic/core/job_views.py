"""A background job's page (progress, the next try, its error) and its file when done: to whoever started it."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from opentic.core.models import Job


def _own(request: HttpRequest, pk: int) -> Job:
    return get_object_or_404(Job.objects.defer("input", "output"), pk=pk, user_id=request.user.pk)


@login_required
def job_page(request: HttpRequest, pk: int) -> HttpResponse:
    job = _own(request, pk)
    template = "core/_job.html" if request.headers.get("HX-Request") else "core/job.html"
    return render(request, template, {"job": job, "has_output": Job.objects.filter(
        pk=job.pk, output__isnull=False).exists()})


@login_required
def job_download(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(Job, pk=pk, user_id=request.user.pk, state=Job.State.DONE)
    if job.output is None:
        raise Http404
    response = HttpResponse(bytes(job.output), content_type=job.output_type or "application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="{job.output_name}"'
    return response
