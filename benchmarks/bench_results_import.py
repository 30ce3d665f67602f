"""LIMS: importing 10,000 instrument results, with gates, calculations, uncertainty, conformity and audit
events, in at most twice the time of the write floor measured in the same run (issue 12).

5,000 received samples with two analyses each (铅, 镉, each with an uncertainty budget, so U comes from the
method's budget) and one calculated analysis (their sum, to make the calculation path and the propagation of
U through the formula run); every sample names a specification (GB 2762-2022 limits for 铅 and 镉 in 大米), so
conformity is judged. The file is an ICP-MS batch table as in docs/instrument-files/.

The write floor: the rows the import had to write (the analyses it changed, its audit events, the samples it
moved), written again by the same bulk calls with no logic at all. No code that keeps a per-result audit
trail can import faster. The raw insert of the 10,000 result rows alone (the baseline of issue 3) is printed
too. The import and the floor are measured --repeat times each, interleaved, each import rolled back; the
medians are compared, so that a busy machine slows both alike.

    python benchmarks/bench_results_import.py [--postgres] [--profile FILE]
"""

from __future__ import annotations

import argparse
import time

from _common import report, use_database

SPEC = "GB 2762-2022"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--samples", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", metavar="FILE", help="write a pyinstrument HTML profile of one import to FILE")
    args = parser.parse_args()
    label = use_database("opentic_bench_lims", args.postgres)

    import datetime as dt
    import io
    import json
    import statistics
    from decimal import Decimal
    from pathlib import Path

    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from opentic.core.bulk import insert_rows, update_rows
    from opentic.core.models import AuditEvent, User
    from opentic.core.tabular import write_csv
    from opentic.lims import budget, lab_setup, orders, services
    from opentic.lims.models import (
        Analysis,
        AnalysisService,
        InstrumentMapping,
        MethodAuthorization,
        Sample,
        Specification,
    )
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
    admin = User.objects.get(username="lab1-admin")
    for method in (pb, cd):  # U of each result from the method's budget, and through the formula for the sum
        lab_setup.save_uncertainty_budget(admin, method, [
            budget.Input("重复性", "normal", 3.0, 9), budget.Input("标准溶液", "rectangular", 1.5),
            budget.Input("回收率", "normal", 2.0, 20)])
    for method, upper in ((pb, Decimal("0.2")), (cd, Decimal("0.2"))):  # GB 2762-2022, 大米
        if not Specification.objects.filter(institution=institution, name=SPEC, test_object=rice,
                                            parameter=method.parameter).exists():
            lab_setup.save_specification(admin, institution, SPEC, rice, method.parameter_id, "mg/kg", upper=upper)
    pb.refresh_from_db()
    cd.refresh_from_db()
    for standard in (pb_std, cd_std):
        MethodAuthorization.objects.get_or_create(user=analyst, standard=standard,
                                                  defaults={"valid_from": dt.date(2020, 1, 1)})
    client = orders.create_client(admin, institution, f"bench {time.time()}")
    order = orders.create_order(admin, client, f"BENCH-{time.time_ns()}", timezone.localdate())
    instrument = Instrument.objects.filter(institution=institution).first()
    assert instrument is not None
    Instrument.objects.filter(pk=instrument.pk).update(calibration_due=timezone.localdate() + dt.timedelta(days=99),
                                                       status="in_service")
    instrument.refresh_from_db()
    samples = services.register_samples(admin, order, [
        {"name": f"大米 {n}", "test_object": rice, "specification": SPEC, "services": [pb, cd, total]}
        for n in range(args.samples)], allow_non_accredited=True)
    Sample.objects.filter(pk__in=[s.pk for s in samples]).update(state="received")  # setup, not measured
    mapping = InstrumentMapping.objects.create(institution=institution, instrument=instrument, name="bench",
                                               sample_column="Sample Name", type_column="Type",
                                               sample_types=["Sample"], columns={"Pb": "pb", "Cd": "cd"})
    # Some results above the limit, so both outcomes of the judgement occur.
    data = write_csv(["Sample Name", "Type", "Pb", "Cd"],
                     [[s.lab_number, "Sample", f"0.{n % 90 + 10:02d}{n % 7}", f"0.00{n % 9 + 1}"]
                      for n, s in enumerate(samples)])
    results = 2 * len(samples)

    # The baseline of issue 3: the same number of result rows, raw, into the analyses table, then removed.
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

    columns = ["value", "uncertainty", "coverage_factor", "instrument_id", "method_version", "entered_by_id",
               "entered_at", "state", "calculated", "conformity", "judged_against", "version"]
    event_columns = ["chain", "seq", "at", "actor_id", "actor_label", "action", "entity", "entity_id", "changes",
                     "reason", "prev_hash", "hash"]

    def floor_once(last_event: int) -> tuple[float, tuple[int, int, int]]:
        """Write again, with no logic, what the import just wrote (read back from the database)."""
        changed = [(*row[:7], now, *row[8:]) for row in
                   Analysis.objects.filter(sample__in=samples).values_list("pk", *columns)]
        events = [("floor", e[1], connection.ops.adapt_datetimefield_value(e[2]), *e[3:8],
                   json.dumps(e[8], ensure_ascii=False), *e[9:])
                  for e in AuditEvent.objects.filter(id__gt=last_event).values_list(*event_columns)]
        moved = list(Sample.objects.filter(pk__in=[s.pk for s in samples]).values_list("pk", "state", "version"))
        with transaction.atomic():
            started = time.perf_counter()
            update_rows(Analysis, columns, changed)
            insert_rows(AuditEvent, event_columns, events)
            update_rows(Sample, ["state", "version"], moved)
            elapsed = time.perf_counter() - started
            transaction.set_rollback(True)
        return elapsed, (len(changed), len(events), len(moved))

    imports, floors = [], []
    for attempt in range(args.repeat + (1 if args.profile else 0)):
        with transaction.atomic():  # each import rolled back, so every attempt imports the same file afresh
            last_event = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
            profiler = None
            if args.profile and attempt == args.repeat:
                from pyinstrument import Profiler

                profiler = Profiler(interval=0.0005)
                profiler.start()
            started = time.perf_counter()
            summary = import_results(analyst, mapping, "batch.csv", data)
            elapsed = time.perf_counter() - started
            if profiler:
                profiler.stop()
                Path(args.profile).write_text(profiler.output_html())
                print(profiler.output_text(unicode=True, show_all=False))
            assert summary.results == results and summary.calculated == len(samples)
            assert summary.samples == len(samples)
            judged = Analysis.objects.filter(sample__in=samples).exclude(conformity="")
            assert judged.count() == results, "every entered result is judged against the specification"
            assert not Analysis.objects.filter(sample__in=samples).filter(uncertainty="").exists()
            if not profiler:
                imports.append(elapsed)
                floor, written = floor_once(last_event)
                floors.append(floor)
            if attempt == 0:  # the trail of the import verifies, chain and rows (`opentic audit verify`)
                call_command("audit", "verify", stdout=io.StringIO())
            transaction.set_rollback(True)
    imported, floor = statistics.median(imports), statistics.median(floors)
    print(f"{label}: {results} results ({len(samples)} calculated, {len(samples)} samples moved) imported in "
          f"{imported:.2f} s = {results / imported:,.0f}/s (median of {' '.join(f'{t:.2f}' for t in imports)}); "
          f"raw bulk insert of the result rows alone {raw:.2f} s = {results / raw:,.0f}/s")
    print(f"write floor: {written[0]:,} analyses, {written[1]:,} audit events and {written[2]:,} samples written "
          f"by the same bulk calls with no logic: {floor:.2f} s (median of {' '.join(f'{t:.2f}' for t in floors)}); "
          f"import / floor = {imported / floor:.2f}×")
    backend = "postgresql" if args.postgres else "sqlite"
    report(f"results_import_{backend}", imported, "s", floor, "≤ 2× write floor", imported <= 2 * floor)


if __name__ == "__main__":
    main()
