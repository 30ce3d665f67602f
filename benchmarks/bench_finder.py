"""Lab finder latency: p95 per query under 100 ms (issue 2).

Scales: `chongqing` (689 institutions, SQLite by default) and `national` (53,000 institutions, about
10 million scope lines, PostgreSQL). Baseline, measured in the same run on the same data: the naive
finder, a LIKE scan over the joined scope text for the same words, which is what a finder without the
catalogue reading would do. The target is absolute (p95 < 100 ms); the ratio shows how far the
catalogue-driven query is from the naive one.

    python benchmarks/bench_finder.py                      # Chongqing scale on SQLite
    python benchmarks/bench_finder.py --scale national --postgres
"""

from __future__ import annotations

import argparse
import random
import time

from _common import percentile, report, timed, use_database

QUERIES = [
    {"q": "大米 铅 GB 5009.12", "unit": "C3"},
    {"q": "大米中铅的测定 GB 5009.12-2017"},
    {"q": "铅"},
    {"q": "镉", "region": "主城新区"},
    {"q": "GB/T 228.1-2021"},
    {"q": "HJ 700"},
    {"q": "混凝土 抗压强度", "district": "500112"},
    {"q": "生活饮用水 总大肠菌群"},
    {"q": "电梯 定期检验"},
    {"q": "土壤 总汞", "domain": "M11"},
    {"q": "多元素"},
    {"q": "", "unit": "C4"},
]
NAIVE_WORDS = ["铅", "镉", "抗压强度", "总大肠菌群", "定期检验", "总汞"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", choices=["chongqing", "national"], default="chongqing")
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    label = use_database(f"opentic_bench_{args.scale}", args.postgres)

    from django.db import connection

    from opentic.portal.finder import FinderQuery, find
    from opentic.registry import demo
    from opentic.registry.models import Institution, ScopeLine

    if not Institution.objects.exists():
        print(f"generating the {args.scale} data set in {label} …", flush=True)
        started = time.perf_counter()
        demo.generate(args.scale)
        print(f"generated in {time.perf_counter() - started:.0f} s", flush=True)
    demo.analyze()
    institutions, lines = Institution.objects.count(), ScopeLine.objects.count()
    print(f"{label}: {institutions} institutions, {lines} scope lines")

    rng = random.Random(1)
    for query in QUERIES:  # warm the caches once
        find(FinderQuery(**query))
    samples: list[float] = []
    per_query: dict[str, list[float]] = {}
    for _ in range(args.rounds):
        for query in rng.sample(QUERIES, len(QUERIES)):
            elapsed = timed(lambda query=query: find(FinderQuery(**query))) * 1000
            samples.append(elapsed)
            per_query.setdefault(str(query), []).append(elapsed)
    for query, values in per_query.items():
        print(f"  {query}: p50 {percentile(values, 50):.1f} ms, p95 {percentile(values, 95):.1f} ms")

    def naive(word: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT s.institution_id, COUNT(*) FROM registry_scopeline s "
                "JOIN registry_parameter p ON p.id = s.parameter_id "
                "JOIN registry_testobject o ON o.id = s.test_object_id "
                "JOIN registry_standard st ON st.id = s.standard_id "
                "WHERE p.name LIKE %s OR o.name LIKE %s OR st.title LIKE %s "
                "GROUP BY s.institution_id ORDER BY 2 DESC LIMIT 20",
                [f"%{word}%"] * 3,
            )
            cursor.fetchall()

    naive_rounds = 3 if lines > 1_000_000 else 10
    baseline = [timed(lambda w=w: naive(w)) * 1000 for _ in range(naive_rounds) for w in NAIVE_WORDS]
    p95, base95 = percentile(samples, 95), percentile(baseline, 95)
    print(f"finder: {len(samples)} queries, p50 {percentile(samples, 50):.1f} ms, p95 {p95:.1f} ms; "
          f"naive LIKE scan p95 {base95:.1f} ms")
    report(f"finder_p95_{args.scale}_{connection.vendor}", p95, "ms", base95, "p95 < 100 ms", p95 < 100)


if __name__ == "__main__":
    main()
