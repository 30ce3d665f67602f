"""Shared set-up for the benchmark scripts: a database of their own, timing, the closing JSON line.

Each script prints its measurements and ends with one JSON line:
{"benchmark", "value", "unit", "baseline", "ratio", "target", "met"}.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def use_database(name: str, postgres: bool) -> str:
    """Point Django at a benchmark database (never the demo's), creating it when needed."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opentic.settings")
    os.environ["OPENTIC_LOG_LEVEL"] = "ERROR"
    # Benchmarks run on the demo's footing: plain HTTP, secrets generated into var/ (decision 0015).
    os.environ.setdefault("OPENTIC_DEMO", "1")
    if postgres:
        import psycopg

        base = os.environ.get("OPENTIC_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = f"{base}/{name}"
        label = f"PostgreSQL {name}"
    else:
        path = ROOT / "var" / f"{name}.sqlite3"
        path.parent.mkdir(exist_ok=True)
        os.environ.pop("DATABASE_URL", None)
        os.environ["OPENTIC_SQLITE_PATH"] = str(path)
        label = f"SQLite {path}"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return label


def timed(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[int(p) - 1]


def report(benchmark: str, value: float, unit: str, baseline: float, target: str, met: bool, **extra: Any) -> None:
    """The closing JSON line; `extra` adds figures of the benchmark's own (e.g. a latency beside a rate)."""
    print(json.dumps({
        "benchmark": benchmark, "value": round(value, 3), "unit": unit, "baseline": round(baseline, 3),
        "ratio": round(value / baseline, 3) if baseline else None, "target": target, "met": bool(met), **extra,
    }, ensure_ascii=False))
