from __future__ import annotations

import logging
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from huey.consumer import Consumer

from opentic.core import jobs
from opentic.core.queue import huey


class Command(BaseCommand):
    help = ("Run the background worker: report batches, large imports and exports, and every minute the "
            "audit anchors. Start one per machine (or more); killing one loses no work.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--threads", type=int, default=2, help="jobs run at once in this process")

    def handle(self, *args: Any, **options: Any) -> None:
        logging.getLogger("huey").setLevel(logging.WARNING)
        # Jobs whose runner died with the previous worker are taken up at once, not a lease later.
        again = jobs.reap()
        if again:
            self.stdout.write(f"resuming jobs {', '.join(map(str, again))}")
        # An idle consumer polls storage that cannot block (SQLite) at most a second apart, so a job
        # starts within a second of its submission.
        Consumer(huey(), workers=options["threads"], worker_type="thread", periodic=True, max_delay=1.0,
                 check_worker_health=True).run()
