from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from opentic.core import audit


class Command(BaseCommand):
    help = "Audit trail: `verify` recomputes every hash chain and names the first broken event."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser("verify")
        verify.add_argument("--chain", help="one chain only, e.g. institution:12 or platform")

    def handle(self, *args: Any, **options: Any) -> None:
        broken = 0
        for report in audit.verify(options.get("chain")):
            if report.ok:
                self.stdout.write(f"{report.chain}: ok ({report.events} events)")
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
