"""A report batch on the queue survives kill -9 of its worker: restarted, the worker resumes the batch, and
every sample gets exactly one report, under a number series with no gap (finding 6 of issue 12).

Runs against its own database (a SQLite file, or a fresh PostgreSQL database beside the one DATABASE_URL
names), since the worker is a separate process and cannot see the test's transaction.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

CLI = [sys.executable, "-m", "opentic.cli"]
MORE_VERIFIED = Path(__file__).with_name("make_verified.py")


def _database(tmp_path: Path) -> tuple[dict[str, str], Callable[[str], list[tuple[Any, ...]]]]:
    env = {**os.environ, "OPENTIC_DATA_DIR": str(tmp_path), "OPENTIC_LOG_LEVEL": "ERROR",
           "OPENTIC_BATCH_PROCESSES": "2", "OPENTIC_JOB_LEASE_SECONDS": "30"}
    env.pop("OPENTIC_JOBS_INLINE", None)
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        import psycopg

        base, _, name = url.rpartition("/")
        crash = f"{name}_crash"
        with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{crash}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{crash}"')
        env["DATABASE_URL"] = f"{base}/{crash}"

        def query(sql: str) -> list[tuple[Any, ...]]:
            with psycopg.connect(env["DATABASE_URL"]) as conn:
                return list(conn.execute(sql).fetchall())
        return env, query
    env.pop("DATABASE_URL", None)
    env["OPENTIC_SQLITE_PATH"] = str(tmp_path / "crash.sqlite3")

    def query_sqlite(sql: str) -> list[tuple[Any, ...]]:
        conn = sqlite3.connect(env["OPENTIC_SQLITE_PATH"], timeout=20)
        try:
            return list(conn.execute(sql).fetchall())
        finally:
            conn.close()
    return env, query_sqlite


def _wait(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def _worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([*CLI, "worker", "--threads", "1"], env=env, stdout=log.open("ab"),
                            stderr=subprocess.STDOUT)


@pytest.mark.django_db
def test_kill_9_of_the_worker_mid_batch_resumes_it_with_no_report_twice_or_lost(tmp_path: Path) -> None:
    env, query = _database(tmp_path)
    subprocess.run([*CLI, "migrate", "-v0"], env=env, check=True)
    subprocess.run([*CLI, "demo-data", "--scale", "tiny", "--no-reports"], env=env, check=True, capture_output=True)
    made = subprocess.run([*CLI, "shell"], stdin=MORE_VERIFIED.open(), env=env, check=True, capture_output=True,
                          text=True).stdout.split()[-1]
    total = int(made)
    assert total >= 8

    entries_before = query("SELECT count(*) FROM ledger_entry")[0][0]
    log = tmp_path / "worker.log"
    worker = _worker(env, log)
    try:
        queued = subprocess.run([*CLI, "reports", "batch", "--signatory", "lab1-signatory", "--password",
                                 "opentic-demo", "--queue"], env=env, capture_output=True, text=True)
        assert "queued as job" in queued.stdout, queued.stderr[-3000:]

        def issued() -> int:
            return int(query("SELECT count(*) FROM reports_report")[0][0])

        def started() -> bool:
            assert query("SELECT count(*) FROM reports_batchitem WHERE state = 'failed'")[0][0] == 0
            return issued() >= 2

        _wait(started, 240, "the first reports")
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
        at_kill = issued()
        assert at_kill < total, "the batch finished before the kill: nothing was tested"
        time.sleep(4)
        # The worker's render processes died with it: nothing goes on issuing behind its back.
        assert issued() == at_kill
        assert query("SELECT state FROM reports_reportbatch")[0][0] == "running"

        worker = _worker(env, log)
        _wait(lambda: query("SELECT state FROM reports_reportbatch")[0][0] == "finished", 300, "the batch to end")
    finally:
        worker.kill()
        worker.wait()
    assert "resuming jobs" in log.read_text()
    assert query("SELECT state, attempts FROM core_job")[0] == ("done", 2)
    assert query("SELECT done, failed, total FROM reports_reportbatch")[0] == (total, 0, total)
    reports = query("SELECT sample_id, number FROM reports_report")
    assert len(reports) == total
    assert len({sample for sample, _ in reports}) == total  # no sample reported twice
    serials = sorted(int(number.rsplit("-", 1)[1]) for _, number in reports)
    assert serials == list(range(1, total + 1))  # no number burned: the one in flight was reused
    assert query("SELECT count(*) FROM reports_batchitem WHERE state = 'issued'")[0][0] == total
    assert query("SELECT count(*) FROM ledger_entry")[0][0] == entries_before + total  # each registered once
    ledger = subprocess.run([*CLI, "ledger", "check"], env=env, capture_output=True, text=True)
    assert ledger.returncode == 0 and '"problems": []' in ledger.stdout, ledger.stdout
    trail = subprocess.run([*CLI, "audit", "verify"], env=env, capture_output=True, text=True)
    assert trail.returncode == 0, trail.stdout
