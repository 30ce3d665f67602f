"""LIMS: importing 10,000 instrument results, with validation, calculations and audit events, at no less
than half the rate of a raw bulk insert of the same rows into the same database (issue 3).

5,000 received samples with two analyses each (铅, 镉) and one calculated analysis (their sum, to make the
calculation path run); the file is an ICP-MS batch table as in docs/instrument-files/. Baseline, in the
same run and database: the same 10,000 result rows bulk-inserted raw (COPY on PostgreSQL, executemany on
SQLite) with no checks, no calculations and no audit trail.

    python benchmarks/bench_results_import.py [--postgres]
"""

from __future__ import annotations

import argparse
import time

from _common import report, use_database


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--samples", type=int, default=5000)
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile of the import itself to FILE")
    args = parser.parse_args()
    label = use_database("opentic_bench_lims", args.postgres)

    import datetime as dt

    from django.db import connection, transaction
    from django.utils import timezone

    from opentic.core.bulk import insert_rows
    from opentic.core.models import User
    from opentic.core.tabular import write_csv
    from opentic.lims import orders, services
    from opentic.lims.models import Analysis, AnalysisService, InstrumentMapping, MethodAuthorization, Sample
    from opentic.lims.results_import import import_results
    from opentic.registry import demo
    from opentic.registry.models import Institution, Instrument, Parameter, Standard, TestObject

    if not Institution.objects.exists():
        demo.generate("tiny", seed=5)
    analyst = User.objects.get(username="lab1-analyst")
    institution = analyst.institution
    assert institution is not None
    with transaction.atomic():  # a clean slate for this run's samples
        InstrumentMapping.objects.filter(institution=institution).delete()
        Analysis.objects.filter(sample__institution=institution).delete()
        Sample.objects.filter(institution=institution).delete()
    rice = TestObject.objects.get_or_create(name="大米")[0]
    pb_std = Standard.objects.get_or_create(code="GB 5009.12", year="2017", defaults={"compact": "GB5009.12"})[0]
    cd_std = Standard.objects.get_or_create(code="GB 5009.15", year="2014", defaults={"compact": "GB5009.15"})[0]

    def service(parameter: str, standard: Standard, keyword: str, formula: str = "") -> AnalysisService:
        return AnalysisService.objects.update_or_create(institution=institution, keyword=keyword, defaults={
            "parameter": Parameter.objects.get_or_create(name=parameter)[0], "standard": standard, "unit": "mg/kg",
            "places": 3, "formula": formula})[0]

    pb, cd = service("铅", pb_std, "pb"), service("镉", cd_std, "cd")
    total = service("铅镉合计", pb_std, "pbcd", "pb + cd")
    for standard in (pb_std, cd_std):
        MethodAuthorization.objects.get_or_create(user=analyst, standard=standard,
                                                  defaults={"valid_from": dt.date(2020, 1, 1)})
    admin = User.objects.get(username="lab1-admin")
    client = orders.create_client(admin, institution, f"bench {time.time()}")
    order = orders.create_order(admin, client, f"BENCH-{time.time_ns()}", timezone.localdate())
    instrument = Instrument.objects.filter(institution=institution).first()
    assert instrument is not None
    Instrument.objects.filter(pk=instrument.pk).update(calibration_due=timezone.localdate() + dt.timedelta(days=99),
                                                       status="in_service")
    instrument.refresh_from_db()
    samples = services.register_samples(admin, order, [
        {"name": f"大米 {n}", "test_object": rice, "services": [pb, cd, total]} for n in range(args.samples)],
        allow_non_accredited=True)
    Sample.objects.filter(pk__in=[s.pk for s in samples]).update(state="received")  # setup, not measured
    mapping = InstrumentMapping.objects.create(institution=institution, instrument=instrument, name="bench",
                                               sample_column="Sample Name", type_column="Type",
                                               sample_types=["Sample"], columns={"Pb": "pb", "Cd": "cd"})
    data = write_csv(["Sample Name", "Type", "Pb", "Cd"],
                     [[s.lab_number, "Sample", f"0.0{n % 90 + 10}", f"0.00{n % 9 + 1}"] for n, s in enumerate(samples)])
    results = 2 * len(samples)

    # Baseline: the same number of result rows, raw, into the analyses table, then removed.
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    started = time.perf_counter()
    with transaction.atomic():
        insert_rows(Analysis, ["sample_id", "service_id", "accredited", "state", "value", "calculated", "unit",
                               "uncertainty", "coverage_factor", "instrument_id", "entered_by_id", "entered_at",
                               "signature", "retest_reason", "conformity", "judged_against", "version"],
                    ((samples[n // 2].pk, pb.pk if n % 2 else cd.pk, True, "entered", "0.05", False, "mg/kg", "", "",
                      instrument.pk, analyst.pk, now, "", "", "", "", 1) for n in range(results)))
        raw = time.perf_counter() - started
        transaction.set_rollback(True)
    raw_rate = results / raw

    import cProfile

    from opentic.core.bulk import update_rows
    from opentic.core.models import AuditEvent

    last_event = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    profiler = cProfile.Profile() if args.profile else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    summary = import_results(analyst, mapping, "batch.csv", data)
    elapsed = time.perf_counter() - started
    if profiler:
        profiler.disable()
        profiler.dump_stats(args.profile)
    rate = summary.results / elapsed
    assert summary.results == results and summary.calculated == len(samples)
    print(f"{label}: {summary.results} results ({summary.calculated} calculated, {summary.samples} samples moved) "
          f"imported in {elapsed:.2f} s = {rate:,.0f}/s; raw bulk insert {raw:.2f} s = {raw_rate:,.0f}/s")

    # The write floor: the rows this import had to write (the analyses it changed, the audit events, the
    # samples it moved), written again by the same bulk calls with no logic at all. No code that keeps a
    # per-result audit trail can import faster than this.
    columns = ["value", "uncertainty", "coverage_factor", "instrument_id", "method_version", "entered_by_id",
               "entered_at", "state", "calculated", "conformity", "judged_against", "version"]
    changed = list(Analysis.objects.filter(sample__in=samples).values_list("pk", *columns))
    event_columns = ["chain", "seq", "at", "actor_id", "actor_label", "action", "entity", "entity_id", "changes",
                     "reason", "prev_hash", "hash"]
    events = [("floor", *row[1:]) for row in AuditEvent.objects.filter(id__gt=last_event).values_list(*event_columns)]
    moved = list(Sample.objects.filter(pk__in=[s.pk for s in samples]).values_list("pk", "state", "version"))
    import json as _json

    events = [(*e[:8], _json.dumps(e[8], ensure_ascii=False), *e[9:]) for e in events]
    stamp = now  # already adapted for this database
    changed = [(*row[:7], stamp, *row[8:]) for row in changed]
    event_rows = [(e[0], e[1], connection.ops.adapt_datetimefield_value(e[2]), *e[3:]) for e in events]
    with transaction.atomic():
        started = time.perf_counter()
        update_rows(Analysis, columns, changed)
        insert_rows(AuditEvent, event_columns, event_rows)
        update_rows(Sample, ["state", "version"], moved)
        floor = time.perf_counter() - started
        transaction.set_rollback(True)
    floor_rate = results / floor
    print(f"write floor: {len(changed):,} analyses, {len(events):,} audit events and {len(moved):,} samples written "
          f"by the same bulk calls with no logic: {floor:.2f} s = {floor_rate:,.0f} results/s = "
          f"{floor_rate / raw_rate:.2f} × the raw insert")
    backend = "postgresql" if args.postgres else "sqlite"
    report(f"results_import_{backend}", rate, "results/s", raw_rate, "≥ 0.5 × raw bulk insert", rate >= 0.5 * raw_rate)


if __name__ == "__main__":
    main()
