from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from opentic.lims.demo import seed
from opentic.quality.demo import seed as seed_pt
from opentic.registry import demo
from opentic.registry.models import Institution
from opentic.registry.validity import expire_certificates
from opentic.reports.demo import issue_demo_reports


class Command(BaseCommand):
    help = "Generate the deterministic demo data set (a realistic Chongqing, or a national-scale register)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scale", choices=sorted(demo.SCALES), default="chongqing")
        parser.add_argument("--seed", type=int, default=2023)
        parser.add_argument("--institutions", type=int, help="override the number of institutions")
        parser.add_argument("--if-empty", action="store_true", help="do nothing when the register has data")
        parser.add_argument("--no-reports", action="store_true", help="leave the verified samples unreported")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["if_empty"] and Institution.objects.exists():
            self.stdout.write("register already has data; demo data not generated")
            return
        started = time.perf_counter()
        try:
            summary = demo.generate(options["scale"], options["seed"], institutions=options["institutions"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        expired = expire_certificates()  # as the daily job would: ended certificates recorded as 过期
        self.stdout.write(f"{len(expired)} institutions whose certificate has ended recorded as expired")
        samples = seed()
        self.stdout.write(f"{samples} samples in the demo labs' LIMS, in every state (sign in as lab1-analyst …)")
        reports = 0 if options["no_reports"] else issue_demo_reports()
        self.stdout.write(f"{reports} signed reports issued for the verified samples (lab1-signatory); "
                          "var/demo-reports/README.md names the samples to verify (genuine, altered, amended, "
                          "withdrawn, issued while 失信)")
        pt_results = seed_pt()
        self.stdout.write(f"{pt_results} results in a published proficiency testing round, and an open round "
                          "(sign in as regulator or lab1-admin)")
        demo.analyze()
        self.stdout.write(
            f"{summary.institutions} institutions, {summary.scope_lines} scope lines, {summary.staff} staff, "
            f"{summary.instruments} instruments in {time.perf_counter() - started:.1f} s; "
            f"sign in as admin / regulator / lab1-admin … with password {demo.DEMO_PASSWORD}"
        )
