"""LIMS: with 1,000,000 samples, the first page of a filtered sample list: p95 under 200 ms on PostgreSQL.

One institution holds the million samples (the worst case for its own list). The page is requested
through Django (server time, test client), filtered by state and by a lab-number prefix, and unfiltered.
Baseline, in the same run: the same page for an institution with 100 samples.

    python benchmarks/bench_sample_list.py --postgres
"""

from __future__ import annotations

import argparse
import random
import time

from _common import percentile, report, use_database


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--samples", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    label = use_database("opentic_bench_samples", args.postgres)

    from django.db import connection, transaction
    from django.test import Client
    from django.utils import timezone

    from opentic.core.bulk import insert_rows
    from opentic.core.models import User
    from opentic.lims.lifecycle import SampleState
    from opentic.lims.models import Client as LabClient
    from opentic.lims.models import Order, Sample
    from opentic.registry import demo
    from opentic.registry.models import Institution, TestObject

    if not Institution.objects.exists():
        demo.generate("tiny", seed=5)
    big_user, small_user = User.objects.get(username="lab1-admin"), User.objects.get(username="lab2-admin")
    big, small = big_user.institution, small_user.institution
    assert big is not None and small is not None
    rice = TestObject.objects.get_or_create(name="大米")[0]
    states = [s.value for s in SampleState]
    rng = random.Random(1)
    for institution, count in ((big, args.samples), (small, 100)):
        have = Sample.objects.filter(institution=institution).count()
        if have >= count:
            continue
        print(f"inserting {count - have:,} samples for {institution} …", flush=True)
        started = time.perf_counter()
        with transaction.atomic():
            client = LabClient.objects.get_or_create(institution=institution, name="bench")[0]
            order = Order.objects.get_or_create(institution=institution, number="BENCH", client=client,
                                                defaults={"received_on": timezone.localdate()})[0]
            now = connection.ops.adapt_datetimefield_value(timezone.now())
            insert_rows(Sample, ["institution_id", "order_id", "lab_number", "name", "test_object_id", "description",
                                 "state", "condition", "state_reason", "sampler", "sampling_place", "batch_number",
                                 "specification", "decision_rule", "version", "created_at"],
                        ((institution.pk, order.pk, f"B{n:07d}", f"大米 {n}", rice.pk, "", rng.choice(states), "", "",
                          "", "", "", "", "simple", 1, now) for n in range(have, count)))
        print(f"inserted in {time.perf_counter() - started:.0f} s", flush=True)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE lims_sample")

    def page_times(user: User, query: str) -> list[float]:
        http = Client()
        http.force_login(user)
        http.get(f"/lims/?{query}")
        times = []
        for _ in range(args.rounds):
            started = time.perf_counter()
            response = http.get(f"/lims/?{query}")
            times.append(time.perf_counter() - started)
            assert response.status_code == 200
        return times

    queries = ["", "state=in_testing", "q=B09", "state=verified&q=B00012"]
    big_times = [t for q in queries for t in page_times(big_user, q)]
    small_times = [t for q in queries for t in page_times(small_user, q)]
    p95, base = percentile(big_times, 95) * 1000, percentile(small_times, 95) * 1000
    print(f"{label}: {args.samples:,} samples: first page p95 {p95:.0f} ms; 100 samples: p95 {base:.0f} ms")
    backend = "postgresql" if args.postgres else "sqlite"
    report(f"sample_list_{backend}", p95, "ms (p95)", base, "< 200 ms", p95 < 200)


if __name__ == "__main__":
    main()
