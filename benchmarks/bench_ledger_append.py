"""Ledger: sustained appends ≥ 10,000 entries/s with registration-to-checkpoint latency p99 < 1 s (issue 4).

Clients submit entries at a fixed offered rate (default 12,000/s) for a fixed time; each submission
returns only when its entry is under a signed checkpoint, and its latency is measured to that moment.
Baseline, measured in the same run on the same database: a raw bulk insert of the same entry rows with
no tree, no tiles and no signature, i.e. what storing the entries alone costs.

    python benchmarks/bench_ledger_append.py              # SQLite
    python benchmarks/bench_ledger_append.py --postgres
"""

from __future__ import annotations

import argparse
import threading
import time

from _common import percentile, report, use_database


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--rate", type=int, default=12_000, help="offered entries per second")
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    label = use_database("opentic_bench_ledger", args.postgres)

    import datetime as dt

    from django.db import connection, transaction
    from django.utils import timezone

    from opentic.core.bulk import insert_rows
    from opentic.ledger import entry as entries
    from opentic.ledger import sequencer
    from opentic.ledger.models import Checkpoint, Cosignature, Entry, Log, Tile

    with transaction.atomic():
        for model in (Cosignature, Checkpoint, Tile, Entry, Log):
            model.objects.all().delete()
    total = int(args.rate * args.seconds)
    now = timezone.now().replace(microsecond=0)
    code = "91500116MA5U7K3T2R"
    items = [entries.Entry(code, entries.commitment(code, f"B-{n}", "A" * 22), f"{n:064x}", "issued", "", now)
             for n in range(total)]

    # Baseline: the same rows, bulk-inserted into a throw-away log, one transaction.
    started = time.perf_counter()
    with transaction.atomic():
        log = Log.objects.create(year=1999, origin="baseline/1999", root=b"")
        stamp = connection.ops.adapt_datetimefield_value(now)
        insert_rows(Entry, ["log_id", "index", "leaf_hash", "data", "institution", "report", "pdf", "event",
                            "replaces", "claimed_at", "sequenced_at"],
                    ((log.pk, i, it.leaf_hash, it.encode(), it.institution, it.report, it.pdf, it.event, "",
                      stamp, stamp) for i, it in enumerate(items)))
    baseline_rate = total / (time.perf_counter() - started)
    with transaction.atomic():
        Entry.objects.filter(log=log).delete()
        log.delete()
    print(f"{label}: raw bulk insert of {total} entry rows: {baseline_rate:,.0f} rows/s")

    batcher = sequencer.batcher()
    latencies: list[float] = []
    done = threading.Event()
    lock = threading.Lock()
    finished = [0.0]

    def on_done(submitted: float):  # type: ignore[no-untyped-def]
        def callback(future):  # type: ignore[no-untyped-def]
            future.result()
            t = time.perf_counter()
            with lock:
                latencies.append(t - submitted)
                finished[0] = t
                if len(latencies) == total:
                    done.set()

        return callback

    start = time.perf_counter()
    for n, item in enumerate(items):
        due = start + n / args.rate
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        batcher.submit(item).add_done_callback(on_done(time.perf_counter()))
    done.wait(timeout=600)
    elapsed = finished[0] - start
    rate = len(latencies) / elapsed
    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    log = Log.objects.get(year=now.astimezone(dt.UTC).year)
    print(f"{label}: {len(latencies)} entries in {elapsed:.1f} s = {rate:,.0f} entries/s offered {args.rate:,}/s; "
          f"latency p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms; "
          f"{Checkpoint.objects.filter(log=log).count()} checkpoints, log size {log.size}")
    backend = "postgresql" if args.postgres else "sqlite"
    report(f"ledger_append_{backend}", rate, "entries/s", baseline_rate, "≥ 10000 entries/s and p99 < 1 s",
           rate >= 10_000 and p99 < 1.0)


if __name__ == "__main__":
    main()
