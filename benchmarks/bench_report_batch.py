"""Reports: issuing a batch of reports across cores (one e-signature for the list), throughput per core.

Sets up N verified samples in the demo lab (lab1), approves them as one batch and issues it with one
worker process per core, as `opentic reports run-batch` does: render (WeasyPrint), sign (PAdES),
register in the ledger and record, each report in its own short transactions. Baseline, in the same run:
the ideal per core, rendering and signing one report alone (no database, no ledger).

    python benchmarks/bench_report_batch.py [--reports 1000] [--postgres]
"""

from __future__ import annotations

import argparse
import os
import time

from _common import report, use_database


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=200)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    label = use_database("opentic_bench_batch", args.postgres)
    import tempfile

    from django.conf import settings

    # The set-up verifies N results with re-entered passwords; PBKDF2 would make that take minutes.
    # The batch itself checks the signatory's password once.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.DATA_DIR = os.environ.get("OPENTIC_DATA_DIR") or tempfile.mkdtemp()

    from opentic.core.models import User
    from opentic.lims import services, verification
    from opentic.lims.demo import seed
    from opentic.lims.models import AnalysisService, Order, Sample
    from opentic.registry import demo
    from opentic.registry.models import Institution
    from opentic.reports import pki
    from opentic.reports.batch import run_batch, start_batch
    from opentic.reports.demo import issue_demo_reports
    from opentic.reports.models import ReportBatch
    from opentic.reports.services import _render
    from opentic.reports.signing import sign_pdf

    if not Institution.objects.exists():
        demo.generate("tiny", seed=5)
        seed()
        issue_demo_reports()  # names the demo signatory and gives it its signing field
    admin, analyst, reviewer, signatory = (User.objects.get(username=f"lab1-{r}")
                                           for r in ("admin", "analyst", "reviewer", "signatory"))
    service = AnalysisService.objects.get(institution=admin.institution, keyword="p1")
    order = Order.objects.filter(client__institution=admin.institution).first()
    assert order is not None
    obj = Sample.objects.filter(institution=admin.institution).first().test_object  # type: ignore[union-attr]
    started = time.perf_counter()
    samples = services.register_samples(admin, order, [{"name": f"批量 {i}", "test_object": obj,
                                                        "services": [service]} for i in range(args.reports)])
    for s in samples:
        s = services.receive_sample(admin, s, "完好")
        a = s.analyses.get()
        services.enter_result(analyst, a, "0.052", uncertainty="0.004", coverage_factor="2")
        verification.verify_result(reviewer, a, demo.DEMO_PASSWORD)
    print(f"{label}: {args.reports} verified samples set up in {time.perf_counter() - started:.0f} s")

    twin_source = Sample.objects.filter(institution=admin.institution, state="reported").first()
    assert twin_source is not None
    twin = twin_source.reports.first().twin  # type: ignore[union-attr]
    credential = pki.institution_credential(admin.institution.credit_code, admin.institution.name)  # type: ignore[union-attr]
    single = []
    for _ in range(3):
        t = time.perf_counter()
        sign_pdf(_render(twin), credential, pki.root(), "张伟", "批准")
        single.append(time.perf_counter() - t)
    ideal_per_core = 1 / min(single)

    batch = start_batch(signatory, [Sample.objects.get(pk=s.pk) for s in samples], demo.DEMO_PASSWORD)
    workers = os.cpu_count() or 1
    started = time.perf_counter()
    run_batch(batch.pk, workers=workers)
    elapsed = time.perf_counter() - started
    batch = ReportBatch.objects.get(pk=batch.pk)
    per_core = batch.done / elapsed / workers
    print(f"{batch.done} of {batch.total} reports issued ({batch.failed} failed) in {elapsed:.1f} s on {workers} "
          f"worker processes: {batch.done / elapsed:.2f} reports/s, {per_core:.2f} per core; one report alone "
          f"renders and signs in {min(single) * 1000:.0f} ms ({ideal_per_core:.2f}/s per core)")
    report(f"report_batch_{'postgres' if args.postgres else 'sqlite'}", per_core, "reports/s per core",
           ideal_per_core, f"{args.reports} reports issued in the background across cores, throughput per core "
           "printed", batch.done == batch.total and batch.failed == 0)


if __name__ == "__main__":
    main()
