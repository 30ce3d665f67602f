from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from opentic.core import audit


class Command(BaseCommand):
    help = ("Audit trail: `verify` recomputes every hash chain, checks it against every head the anchor log "
            "signed, and names the first event that disagrees; `anchor` anchors the heads now.")

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser("verify")
        verify.add_argument("--chain", help="one chain only, e.g. institution:12 or platform")
        sub.add_parser("anchor")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "anchor":
            self.stdout.write(f"{audit.anchor_heads()} chain heads anchored")
            return
        broken = 0
        for report in audit.verify(options.get("chain")):
            if report.ok:
                self.stdout.write(f"{report.chain}: ok ({report.events} events, anchored to {report.anchored})")
            elif report.first_broken_seq is None:
                broken += 1
                self.stdout.write(f"{report.chain}: BROKEN: {report.problem}")
            else:
                broken += 1
                self.stdout.write(f"{report.chain}: BROKEN at event {report.first_broken_seq}: {report.problem}")
        for check in audit.ROW_CHECKS:
            problems = check()
            for problem in problems[:50]:
                self.stdout.write(f"ROW DIFFERS FROM ITS TRAIL: {problem}")
            broken += len(problems)
        if broken:
            sys.exit(1)
