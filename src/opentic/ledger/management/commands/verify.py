from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from opentic.ledger.entry import verify_offline
from opentic.ledger.note import NoteError, Verifier


class Command(BaseCommand):
    help = ("Check a report PDF offline, with only its proof file and the ledger's pinned public key: "
            "exit 0 when genuine and unaltered, 1 otherwise.")
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("pdf", type=Path)
        parser.add_argument("--proof", type=Path, help="the proof file (default: the PDF's name + .tlog-proof)")
        parser.add_argument("--key", required=True, help="the ledger's verifier key (name+id+key)")
        parser.add_argument("--witness", action="append", default=[], help="a witness's verifier key")
        parser.add_argument("--quorum", type=int, default=0, help="cosignatures required")

    def handle(self, *args: Any, **options: Any) -> None:
        pdf_path: Path = options["pdf"]
        proof_path: Path = options["proof"] or pdf_path.with_name(pdf_path.name + ".tlog-proof")
        try:
            key = Verifier.parse(options["key"])
            witnesses = tuple(Verifier.parse(w) for w in options["witness"])
        except NoteError as exc:
            self.stderr.write(f"bad key: {exc}")
            sys.exit(2)
        verdict = verify_offline(pdf_path.read_bytes(), proof_path.read_text(), key, witnesses=witnesses,
                                 quorum=options["quorum"])
        self.stdout.write(("GENUINE: " if verdict.genuine else "NOT GENUINE: ") + verdict.reason)
        entry, checkpoint = verdict.entry, verdict.checkpoint
        if entry and checkpoint:
            witnessed = f", cosigned by {', '.join(verdict.witnessed_by)}" if verdict.witnessed_by else ""
            self.stdout.write(f"{entry.institution} {entry.event} {entry.time:%Y-%m-%d %H:%M}Z, entry in "
                              f"{checkpoint.origin} at size {checkpoint.size}{witnessed}")
        sys.exit(0 if verdict.genuine else 1)
