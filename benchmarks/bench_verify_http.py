"""Public verification endpoint: ≥ 1,000 requests/s over loopback with p99 < 50 ms on 2 cores (issue 4).

The platform runs under gunicorn (one worker per core, twice over) against a ledger of registered
reports; wrk drives GET /api/public/verify with QR-code parameters of real reports. Baseline, in the same
run and server: GET /ledger/key, an endpoint with no database work, i.e. the server's own ceiling.

    python benchmarks/bench_verify_http.py [--postgres]
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from _common import report, use_database

ROOT = Path(__file__).resolve().parent.parent


def wrk(url: str, seconds: int, script: str | None = None) -> tuple[float, float]:
    command = ["wrk", "-t2", "-c32", f"-d{seconds}s", "--latency"] + (["-s", script] if script else []) + [url]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    assert p99 and "Non-2xx" not in out, out
    value = float(p99.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)]
    return rps, value


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--seconds", type=int, default=15)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed (Debian package wrk; `make install` installs it)")
    label = use_database("opentic_bench_verify", args.postgres)

    from django.utils import timezone

    from opentic.ledger import entry as entries
    from opentic.ledger import sequencer
    from opentic.ledger.models import Entry

    code = "91500116MA5U7K3T2R"
    rng = random.Random(7)  # the same reports on every run, so a kept database is reused as it is
    reports = [(f"V-{n}", base64.urlsafe_b64encode(rng.randbytes(16)).rstrip(b"=").decode()) for n in range(2000)]
    if Entry.objects.count() < len(reports):
        now = timezone.now().replace(microsecond=0)
        sequencer.sequence([entries.Entry(code, entries.commitment(code, number, c), "0" * 64, "issued", "", now)
                            for number, c in reports])

    port = 8765
    env = {**os.environ, "OPENTIC_DEBUG": "0", "OPENTIC_RATELIMIT": "0", "OPENTIC_LOG_LEVEL": "ERROR",
           "PYTHONPATH": str(ROOT / "src")}
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", "4", "-b", f"127.0.0.1:{port}",
                               "--log-level", "warning", "opentic.wsgi"], env=env, start_new_session=True)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/ledger/key", timeout=1).read()
                break
            except OSError:
                time.sleep(0.2)
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
            paths = ",".join(f'"/api/public/verify?i={code}&n={n}&c={c}"' for n, c in reports[:500])
            lua.write(f"local paths = {{{paths}}}\nlocal i = 0\n"
                      "request = function()\n  i = i % #paths + 1\n  return wrk.format(nil, paths[i])\nend\n")
        wrk(f"http://127.0.0.1:{port}/api/public/verify", 3, lua.name)  # warm every worker
        base_rps, base_p99 = wrk(f"http://127.0.0.1:{port}/ledger/key", args.seconds)
        rps, p99 = wrk(f"http://127.0.0.1:{port}/api/public/verify", args.seconds, lua.name)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait()
    print(f"{label}: verify {rps:,.0f} req/s, p99 {p99:.1f} ms; baseline /ledger/key {base_rps:,.0f} req/s, "
          f"p99 {base_p99:.1f} ms")
    backend = "postgresql" if args.postgres else "sqlite"
    report(f"verify_endpoint_{backend}", rps, "requests/s", base_rps, "≥ 1000 req/s and p99 < 50 ms",
           rps >= 1000 and p99 < 50)


if __name__ == "__main__":
    main()
