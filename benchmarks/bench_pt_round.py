"""Proficiency testing: evaluating a round of 2,000 participants, under 1 s.

The round has two items (a Youden pair), so 4,000 results; the assigned value is the Q/Hampel consensus
(the costliest of the methods: all 2 million pairwise differences per item) and each result gets its
z-score and performance class, all written in the service's one transaction with its audit event. Baseline,
in the same run: the I/O floor of that evaluation, reading the same 4,000 results, deleting the previous scores
and writing 4,000 score rows, without any statistics.

    python benchmarks/bench_pt_round.py [--postgres]
"""

from __future__ import annotations

import argparse
import statistics
import time

from _common import report, use_database


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--participants", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--method", default="q_hampel")
    args = parser.parse_args()
    label = use_database("opentic_bench_pt", args.postgres)

    import datetime as dt
    import random

    from django.db import transaction
    from django.utils import timezone

    from opentic.core.models import Role, User
    from opentic.quality import pt
    from opentic.quality.models import Participation, Round, Scheme, Score, Submission
    from opentic.registry import reference
    from opentic.registry.models import District, Institution, Parameter, TestObject

    if not District.objects.exists():
        from django.apps import apps

        reference.load(apps)
    n = args.participants
    today = timezone.localdate()
    existing = Institution.objects.filter(credit_code__startswith="BENCHPT").count()
    if existing < n:
        Institution.objects.bulk_create([Institution(
            name=f"能力验证基准机构{i:05d}", credit_code=f"BENCHPT{i:011d}", cma_number=f"BP{i:010d}",
            cma_valid_from=today - dt.timedelta(days=10), cma_valid_until=today + dt.timedelta(days=1000),
            ownership="private", district_id="500103") for i in range(existing, n)])
    regulator = User.objects.filter(username="bench-regulator").first()
    if regulator is None:
        regulator = User.objects.create_user("bench-regulator", password="x", roles=[Role.REGULATOR])
    scheme = Scheme.objects.filter(code="BENCH-PT").first() or pt.create_scheme(
        regulator, "BENCH-PT", "基准 大米中铅", Parameter.objects.get_or_create(name="铅")[0],
        TestObject.objects.get_or_create(name="大米")[0], "mg/kg")
    number = f"{args.method[:8]}-{n}-{time.time_ns() % 10**9}"
    r = pt.create_round(regulator, scheme, number, today, [("A", ""), ("B", "")],
                        pt.RoundSettings(assigned_method=args.method))
    labs = list(Institution.objects.filter(credit_code__startswith="BENCHPT").order_by("pk")[:n])
    pt.invite(regulator, r, labs)
    rng = random.Random(13528)
    items = list(r.items.all())
    now = timezone.now()
    # The results are laid down directly (their submission path is measured by the tests, not here): 0.25 mg/kg
    # with a 10 % spread and 3 % outliers.
    Submission.objects.bulk_create([
        Submission(participation=p, item=item, submitted_by=regulator, submitted_at=now,
                   value=round(rng.gauss(0.25 * (1.1 if item.code == "B" else 1), 0.025) * (
                       rng.choice([0.3, 3]) if rng.random() < 0.03 else 1), 4))
        for p in Participation.objects.filter(round=r) for item in items], batch_size=2000)
    Round.objects.filter(pk=r.pk).update(state=Round.State.CLOSED)

    def floor() -> None:
        with transaction.atomic():
            rows = list(Submission.objects.filter(participation__round=r).values_list("pk", "value"))
            Score.objects.filter(submission__participation__round=r).delete()
            Score.objects.bulk_create([Score(submission_id=pk, kind="z", value=float(v), performance="satisfactory")
                                       for pk, v in rows], batch_size=2000)
            transaction.set_rollback(True)

    baseline, value = [], []
    for _ in range(args.rounds):
        started = time.perf_counter()
        floor()
        baseline.append(time.perf_counter() - started)
        started = time.perf_counter()
        pt.evaluate_round(regulator, r)
        value.append(time.perf_counter() - started)
    scores = Score.objects.filter(submission__participation__round=r).count()
    median, base = statistics.median(value), statistics.median(baseline)
    print(f"{label}: {n} participants × 2 items = {scores} scores, {args.method}: evaluate {median * 1000:.0f} ms, "
          f"I/O floor {base * 1000:.0f} ms (medians of {args.rounds})")
    report(f"pt_round_evaluate_{'postgres' if args.postgres else 'sqlite'}", median, "s (median)", base,
           "< 1 s for 2,000 participants", median < 1.0 and scores == 2 * n)


if __name__ == "__main__":
    main()
