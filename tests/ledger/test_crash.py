"""kill -9 during heavy appends, twice; then the log must still be whole.

Every acknowledged entry is in the log at the index it was acknowledged with, none twice, and the tree
recomputed from the entries matches every checkpoint ever signed. Runs against its own database (a
SQLite file, or a scratch PostgreSQL database when the suite runs on PostgreSQL), in real processes.
"""

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

OPENTIC = [sys.executable, "-m", "opentic.cli"]


@pytest.fixture
def scratch_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    env = {**os.environ, "OPENTIC_DATA_DIR": str(tmp_path), "OPENTIC_LOG_LEVEL": "ERROR",
           "OPENTIC_LEDGER_BATCH_SECONDS": "0.05"}
    env.pop("OPENTIC_LEDGER_KEY", None)
    if connection.vendor == "postgresql":
        import psycopg

        name = f"opentic_crash_{uuid.uuid4().hex[:8]}"
        base = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        env["DATABASE_URL"] = f"{base}/{name}"
        yield env
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        env.pop("DATABASE_URL", None)
        env["OPENTIC_SQLITE_PATH"] = str(tmp_path / "crash.sqlite3")
        yield env


def run_and_kill(env: dict[str, str], tag: str, acks_wanted: int) -> list[str]:
    process = subprocess.Popen([*OPENTIC, "ledger", "stress", "--tag", tag, "--threads", "16"], env=env,
                               stdout=subprocess.PIPE, text=True, start_new_session=True)
    acks: list[str] = []
    deadline = time.monotonic() + 120
    assert process.stdout is not None
    while len(acks) < acks_wanted and time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        acks.append(line.strip())
    os.killpg(process.pid, signal.SIGKILL)  # mid-batch: more entries are in flight than acknowledged
    process.wait()
    assert len(acks) >= acks_wanted, "the stress run stopped early"
    return [a.removeprefix("ack ") for a in acks if a.startswith("ack ")]


@pytest.mark.django_db
def test_kill_9_during_heavy_appends_loses_and_duplicates_nothing(scratch_env: dict[str, str],
                                                                  tmp_path: Path) -> None:
    subprocess.run([*OPENTIC, "migrate", "-v0"], env=scratch_env, check=True)
    acks = run_and_kill(scratch_env, "first", 1500)
    acks += run_and_kill(scratch_env, "second", 1500)
    # A client retrying its first 200 entries after the crash gets the same indices back.
    retry = subprocess.run([*OPENTIC, "ledger", "stress", "--tag", "first", "--count", "200", "--threads", "4"],
                           env=scratch_env, check=True, capture_output=True, text=True).stdout.split("\n")
    first_run = {leaf: index for index, leaf in (a.split() for a in acks)}
    for line in filter(None, retry):
        _, index, leaf = line.split()
        if leaf in first_run:
            assert first_run[leaf] == index
    # Two sequencing processes at once: the head lock and its compare-and-swap keep one tree.
    both = [subprocess.Popen([*OPENTIC, "ledger", "stress", "--tag", tag, "--count", "1500", "--threads", "8"],
                             env=scratch_env, stdout=subprocess.PIPE, text=True) for tag in ("left", "right")]
    for process in both:
        out, _ = process.communicate(timeout=300)
        assert process.returncode == 0
        acks += [line.removeprefix("ack ") for line in out.splitlines() if line.startswith("ack ")]
    (tmp_path / "acks.txt").write_text("\n".join(acks) + "\n")
    check = subprocess.run([*OPENTIC, "ledger", "check", "--expect", str(tmp_path / "acks.txt")],
                           env=scratch_env, capture_output=True, text=True)
    report = json.loads(check.stdout)
    assert check.returncode == 0, check.stdout + check.stderr
    assert report["expected"] == len(acks) >= 6000 and report["missing"] == 0
    log = report["logs"][0]
    assert log["problems"] == [] and log["entries"] == log["size"] >= len(acks)
    assert len({a.split()[0] for a in acks}) == len(acks)  # no index acknowledged twice
