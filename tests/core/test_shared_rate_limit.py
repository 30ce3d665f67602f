"""Issue 12, finding 11: the public rate limit and the e-signature lock count in the shared cache (Redis), so
N worker processes do not multiply them. Run against the real Redis at 127.0.0.1:6379, database 3."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = "redis://127.0.0.1:6379/3"

WORKER = """
import django, sys
django.setup()
from django.test import RequestFactory
from opentic.portal.views import rate_limited
group = sys.argv[1]
allowed = sum(not rate_limited(RequestFactory().get("/find/", REMOTE_ADDR="203.0.113.77"), group) for _ in range(10))
print(allowed)
"""


def worker_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "DJANGO_SETTINGS_MODULE": "opentic.settings",
           "OPENTIC_DATA_DIR": str(tmp_path), "OPENTIC_PUBLIC_RATE": "6/m", "OPENTIC_RATELIMIT": "1", **extra}
    env.pop("DATABASE_URL", None)
    return env


def run_workers(env: dict[str, str], group: str, n: int = 3) -> list[int]:
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, group], env=env, stdout=subprocess.PIPE, text=True)
               for _ in range(n)]
    return [int(w.communicate(timeout=120)[0].strip()) for w in workers]


def test_three_processes_share_one_count_in_redis(tmp_path: Path) -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).ping()  # the real Redis must be there: a failure here is a failure
    allowed = run_workers(worker_env(tmp_path, OPENTIC_REDIS_URL=REDIS_URL), f"t-{uuid.uuid4().hex}")
    assert sum(allowed) == 6  # one limit across the workers, not 6 each


def test_without_redis_each_process_counts_alone(tmp_path: Path) -> None:
    """Why production needs OPENTIC_REDIS_URL (check --deploy says so, opentic.W001)."""
    env = worker_env(tmp_path)
    env.pop("OPENTIC_REDIS_URL", None)
    assert sum(run_workers(env, f"t-{uuid.uuid4().hex}")) == 18
