from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = ("Record 过期 for every institution whose CMA certificate has ended (run daily; running it again "
            "changes nothing). Pages derive the status from the date meanwhile.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", help="the day to judge by, YYYY-MM-DD (default: today in Chongqing)")

    def handle(self, *args: Any, **options: Any) -> None:
        from opentic.registry.validity import expire_certificates

        try:
            day = dt.date.fromisoformat(options["date"]) if options["date"] else None
        except ValueError as exc:
            raise CommandError(f"--date: {options['date']!r} is not a date (YYYY-MM-DD)") from exc
        changed = expire_certificates(day)
        for institution in changed:
            self.stdout.write(f"{institution.cma_number} {institution.name}: 过期 "
                              f"(certificate ended {institution.cma_valid_until.isoformat()})")
        self.stdout.write(f"{len(changed)} institutions expired")
