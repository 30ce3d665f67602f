"""The job queue's transport: Huey (docs/decisions/0017-job-queue.md).

It carries job ids only; the jobs themselves live in the database (core/jobs.py). The storage follows the
deployment, so no deployment needs a service it does not already run: Redis at OPENTIC_REDIS_URL when
set (production), else the PostgreSQL database itself (tables huey_*), else a SQLite file beside the demo's
database. Losing the queue's contents loses no work: `jobs.reap` queues every unfinished job again.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import close_old_connections
from huey import Huey, PostgresHuey, RedisHuey, SqliteHuey, crontab


def _name() -> str:
    # One queue per database, so two deployments (or test databases) sharing a Redis never mix their jobs.
    return "opentic-" + Path(str(settings.DATABASES["default"]["NAME"])).stem


_TASKS: dict[str, Any] = {}


@functools.cache
def huey() -> Huey:
    db = settings.DATABASES["default"]
    instance: Huey
    if settings.REDIS_URL:
        instance = RedisHuey(_name(), url=settings.REDIS_URL, results=False)
    elif db["ENGINE"].endswith("postgresql"):
        dsn = " ".join(f"{k}={v}" for k, v in (("host", db.get("HOST")), ("port", db.get("PORT")),
                       ("dbname", db.get("NAME")), ("user", db.get("USER")), ("password", db.get("PASSWORD")))
                       if v)
        instance = PostgresHuey(_name(), dsn=dsn, results=False)
    else:
        path = Path(settings.DATA_DIR) / "queue.sqlite3"
        path.parent.mkdir(parents=True, exist_ok=True)
        instance = SqliteHuey(_name(), filename=str(path), results=False)
    _TASKS["run_job"] = instance.task(name="opentic.run_job")(_run_job)
    instance.periodic_task(crontab(minute="*"), name="opentic.every_minute")(_every_minute)
    return instance


def _run_job(job_id: int) -> None:
    from opentic.core import jobs

    close_old_connections()
    try:
        jobs.run(job_id)
    finally:
        close_old_connections()


def _every_minute() -> None:
    from opentic.core import jobs

    close_old_connections()
    try:
        jobs.every_minute()
    finally:
        close_old_connections()


def enqueue(job_id: int, delay: float = 0) -> None:
    huey()
    if delay > 0:
        _TASKS["run_job"].schedule(args=(job_id,), delay=delay)
    else:
        _TASKS["run_job"](job_id)
