from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from opentic.core.models import User
from opentic.lims.models import Sample
from opentic.reports.batch import launch, run_batch, start_batch


class Command(BaseCommand):
    help = ("Reports in bulk: `batch --signatory USER --password P` approves every verified sample of the "
            "signatory's institution with one electronic signature and issues them on all cores (with "
            "`--queue`, hands the batch to the worker instead); `run-batch ID` runs a batch's pending samples.")

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        batch = sub.add_parser("batch")
        batch.add_argument("--signatory", required=True)
        batch.add_argument("--password", required=True)
        batch.add_argument("--workers", type=int, default=0, help="processes; default one per core")
        batch.add_argument("--queue", action="store_true", help="leave the batch to the worker (opentic worker)")
        run = sub.add_parser("run-batch")
        run.add_argument("batch_id", type=int)
        run.add_argument("--workers", type=int, default=0)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "batch":
            user = User.objects.filter(username=options["signatory"]).first()
            if user is None or user.institution_id is None:
                raise CommandError("no such signatory")
            samples = list(Sample.objects.filter(institution_id=user.institution_id, state="verified"))
            started = start_batch(user, samples, options["password"])
            if options["queue"]:
                job = launch(started)
                self.stdout.write(f"batch {started.pk}: queued as job {job.pk}")
                return
            batch_id = started.pk
        else:
            batch_id = options["batch_id"]
        batch = run_batch(batch_id, options["workers"] or None)
        self.stdout.write(f"batch {batch.pk}: {batch.done}/{batch.total} issued, {batch.failed} failed")
        for error in batch.errors:
            self.stdout.write(f"  {error}")
