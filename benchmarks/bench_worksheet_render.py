"""LIMS: a worksheet of 500 analyses renders with a constant number of queries in under 150 ms server time.

Server time is the time Django takes to answer the request (through the test client, so no network).
Baseline, in the same run: the same page for a worksheet of 5 analyses. Queries are counted for both and
must be equal.

    python benchmarks/bench_worksheet_render.py [--postgres]
"""

from __future__ import annotations

import argparse
import time

from _common import percentile, report, use_database


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--size", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    label = use_database("opentic_bench_worksheet", args.postgres)

    import datetime as dt

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from opentic.core.models import User
    from opentic.lims import orders, services
    from opentic.lims.models import AnalysisService, MethodAuthorization, Sample
    from opentic.lims.worksheets import QC, create_worksheet
    from opentic.registry import demo
    from opentic.registry.models import Institution, Instrument, Parameter, Standard, TestObject

    if not Institution.objects.exists():
        demo.generate("tiny", seed=5)
    analyst, admin = User.objects.get(username="lab1-analyst"), User.objects.get(username="lab1-admin")
    institution = analyst.institution
    assert institution is not None
    standard = Standard.objects.get_or_create(code="GB 5009.268", year="2016", defaults={"compact": "GB5009.268"})[0]
    service = AnalysisService.objects.update_or_create(institution=institution, keyword="ws_pb", defaults={
        "parameter": Parameter.objects.get_or_create(name="铅")[0], "standard": standard, "unit": "mg/kg"})[0]
    MethodAuthorization.objects.get_or_create(user=analyst, standard=standard,
                                              defaults={"valid_from": dt.date(2020, 1, 1)})
    instrument = Instrument.objects.filter(institution=institution).first()
    assert instrument is not None
    Instrument.objects.filter(pk=instrument.pk).update(calibration_due=timezone.localdate() + dt.timedelta(days=99),
                                                       status="in_service")
    instrument.refresh_from_db()
    client_ = orders.create_client(admin, institution, f"ws bench {time.time()}")
    order = orders.create_order(admin, client_, f"WS-{time.time_ns()}", timezone.localdate())
    rice = TestObject.objects.get_or_create(name="大米")[0]

    def sheet(n: int):  # type: ignore[no-untyped-def]
        samples = services.register_samples(admin, order, [{"name": f"s{i}", "test_object": rice,
                                                             "services": [service]} for i in range(n)],
                                             allow_non_accredited=True)
        Sample.objects.filter(pk__in=[s.pk for s in samples]).update(state="received")
        analyses = [s.analyses.get() for s in samples]
        return create_worksheet(analyst, service, instrument, analyses, [QC("blank"), QC("duplicate", duplicate_of=0)])

    large, small = sheet(args.size), sheet(5)
    http = Client()
    http.force_login(analyst)

    def measure(pk: int) -> tuple[list[float], int]:
        times = []
        for _ in range(args.rounds):
            started = time.perf_counter()
            response = http.get(f"/lims/worksheets/{pk}/")
            times.append(time.perf_counter() - started)
            assert response.status_code == 200
        with CaptureQueriesContext(connection) as queries:
            http.get(f"/lims/worksheets/{pk}/")
        return times, len(queries)

    measure(large.pk)  # warm
    large_times, large_queries = measure(large.pk)
    small_times, small_queries = measure(small.pk)
    p95 = percentile(large_times, 95) * 1000
    base = percentile(small_times, 95) * 1000
    print(f"{label}: worksheet of {args.size}: p95 {p95:.0f} ms, {large_queries} queries; "
          f"of 5: p95 {base:.0f} ms, {small_queries} queries")
    backend = "postgresql" if args.postgres else "sqlite"
    report(f"worksheet_render_{backend}", p95, "ms (p95)", base, "< 150 ms, queries constant",
           p95 < 150 and large_queries == small_queries)


if __name__ == "__main__":
    main()
