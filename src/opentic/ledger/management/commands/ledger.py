from __future__ import annotations

import json
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from opentic.ledger import entry as entries
from opentic.ledger import sequencer
from opentic.ledger.check import check_log
from opentic.ledger.client import Alarm, LogClient, View, http_fetch, monitor_step, witness_step
from opentic.ledger.keys import log_verifier
from opentic.ledger.models import Log
from opentic.ledger.note import COSIGNATURE_V1, Signer, Verifier


def _post(url: str) -> Any:
    def post(body: str) -> bytes:
        request = urllib.request.Request(url, data=body.encode(), method="POST",
                                         headers={"Content-Type": "text/plain; charset=utf-8"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return bytes(response.read())

    return post


class Command(BaseCommand):
    help = ("The report ledger: `key` prints the log's public key (or makes a witness key), `witness` and "
            "`monitor` follow a log from outside, `check` recomputes this platform's logs, `stress` appends "
            "test entries until stopped.")

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        key = sub.add_parser("key")
        key.add_argument("--new-witness", metavar="NAME", help="make a witness key pair for NAME")
        for name in ("witness", "monitor"):
            p = sub.add_parser(name)
            p.add_argument("url", help="the log's URL, e.g. https://platform.example/ledger/2026")
            p.add_argument("--log-key", required=True, help="the log's verifier key (name+id+key)")
            p.add_argument("--state", required=True, type=Path, help="file keeping the last checkpoint seen")
            p.add_argument("--interval", type=float, default=0, help="seconds between rounds; 0 runs once")
            if name == "witness":
                p.add_argument("--key-file", required=True, type=Path, help="this witness's private key")
        check = sub.add_parser("check")
        check.add_argument("--expect", type=Path, help="file of 'index leafhex' lines that must be in the log")
        stress = sub.add_parser("stress")
        stress.add_argument("--count", type=int, default=10**9)
        stress.add_argument("--threads", type=int, default=8)
        stress.add_argument("--tag", default="stress")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, "_" + options["action"])(options)

    def _key(self, options: dict[str, Any]) -> None:
        if options["new_witness"]:
            signer = Signer.generate(options["new_witness"], COSIGNATURE_V1)
            self.stdout.write(f"private (keep secret): {signer.skey}\npublic: {signer.verifier.vkey}")
            return
        self.stdout.write(log_verifier().vkey)

    def _loop(self, options: dict[str, Any], step: Any) -> None:
        client = LogClient(http_fetch(options["url"]), Verifier.parse(options["log_key"]))
        state: Path = options["state"]
        while True:
            seen = View.load(state)
            try:
                view = step(client, seen)
            except Alarm as exc:
                self.stderr.write(f"ALARM: {exc}")
                sys.exit(2)
            view.save(state)
            if not options["interval"]:
                return
            time.sleep(options["interval"])

    def _witness(self, options: dict[str, Any]) -> None:
        signer = Signer.parse(options["key_file"].read_text())
        post = _post(options["url"].rstrip("/") + "/cosign")

        def step(client: LogClient, seen: View) -> View:
            view = witness_step(client, seen, signer, post, int(time.time()))
            self.stdout.write(f"cosigned size {view.size}")
            return view

        self._loop(options, step)

    def _monitor(self, options: dict[str, Any]) -> None:
        def step(client: LogClient, seen: View) -> View:
            view, report = monitor_step(client, seen)
            self.stdout.write(json.dumps({"size": report.size, "new_entries": report.new_entries,
                                          "by_event": report.by_event}))
            return view

        self._loop(options, step)

    def _check(self, options: dict[str, Any]) -> None:
        reports = [check_log(log) for log in Log.objects.order_by("year")]
        expected = missing = 0
        if options["expect"]:
            from opentic.ledger.models import Entry

            for line in options["expect"].read_text().splitlines():
                index, leaf = line.split()
                expected += 1
                if not Entry.objects.filter(index=int(index), leaf_hash=bytes.fromhex(leaf)).exists():
                    missing += 1
        self.stdout.write(json.dumps({
            "logs": [{"origin": r.origin, "size": r.size, "entries": r.entries, "checkpoints": r.checkpoints,
                      "problems": r.problems[:20]} for r in reports],
            "expected": expected, "missing": missing}))
        if missing or any(not r.ok for r in reports):
            raise CommandError("the ledger does not check")

    def _stress(self, options: dict[str, Any]) -> None:
        """Append entries from several threads; print 'ack index leafhex' once each is under a checkpoint."""
        lock = threading.Lock()
        counter = iter(range(options["count"]))

        def worker() -> None:
            while True:
                with lock:
                    n = next(counter, None)
                if n is None:
                    return
                item = entries.Entry("91500116MA5U7K3T2R", entries.commitment("91500116MA5U7K3T2R",
                                     f"{options['tag']}-{n}", "A" * 22), "0" * 64, "issued", "",
                                     timezone.now().replace(microsecond=0))
                result = sequencer.register(item)
                with lock:
                    self.stdout.write(f"ack {result.index} {item.leaf_hash.hex()}")
                    self.stdout.flush()

        threads = [threading.Thread(target=worker, daemon=True) for _ in range(options["threads"])]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
