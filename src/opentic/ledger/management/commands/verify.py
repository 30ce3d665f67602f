from __future__ import annotations

import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlencode

from django.core.management.base import BaseCommand, CommandParser

from opentic.ledger.entry import EntryError, ProofFile, verify_offline
from opentic.ledger.note import NoteError, Verifier

# Exit codes (docs/ledger-entry.md): a script can tell each outcome apart.
GENUINE, NOT_GENUINE, USAGE, SUPERSEDED, WITHDRAWN = 0, 1, 2, 3, 4
EXIT = {"genuine": GENUINE, "superseded": SUPERSEDED, "withdrawn": WITHDRAWN}
LABEL = {"genuine": "GENUINE", "superseded": "SUPERSEDED", "withdrawn": "WITHDRAWN"}


class Command(BaseCommand):
    help = ("Check a report PDF with its proof file and the ledger's pinned public key. Exit 0: genuine, "
            "unaltered and current as of the proof's checkpoint; 1: not genuine (altered, forged, or the proof "
            "does not verify); 2: a file or key could not be read, or --refresh failed; 3: superseded by an "
            "amended report; 4: withdrawn.")
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("pdf", type=Path)
        parser.add_argument("--proof", type=Path, help="the proof file (default: the PDF's name + .tlog-proof)")
        parser.add_argument("--key", required=True, help="the ledger's verifier key (name+id+key)")
        parser.add_argument("--witness", action="append", default=[], help="a witness's verifier key")
        parser.add_argument("--quorum", type=int, default=0, help="cosignatures required")
        parser.add_argument("--refresh", metavar="URL",
                            help="the platform's address: fetch a fresh proof (with any later withdrawal or "
                                 "amendment) instead of trusting the proof file's checkpoint")

    def _fail(self, message: str) -> NoReturn:
        self.stderr.write(message)
        sys.exit(USAGE)

    def _fresh(self, base: str, proof_text: str) -> str:
        try:
            old = ProofFile.decode(proof_text)
        except EntryError as exc:
            self._fail(f"the proof file is not valid: {exc}")
        query = urlencode({"i": old.entry.institution, "n": old.number, "c": old.code})
        url = f"{base.rstrip('/')}/api/public/verify/proof?{query}"
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                return str(response.read().decode("utf-8"))
        except (urllib.error.URLError, OSError, UnicodeDecodeError, ValueError) as exc:
            self._fail(f"cannot refresh the proof from {base}: {getattr(exc, 'reason', exc)}")

    def handle(self, *args: Any, **options: Any) -> None:
        pdf_path: Path = options["pdf"]
        proof_path: Path = options["proof"] or pdf_path.with_name(pdf_path.name + ".tlog-proof")
        try:
            key = Verifier.parse(options["key"])
            witnesses = tuple(Verifier.parse(w) for w in options["witness"])
        except NoteError as exc:
            self._fail(f"bad key: {exc}")
        try:
            pdf = pdf_path.read_bytes()
        except OSError as exc:
            self._fail(f"cannot read the report {pdf_path}: {exc.strerror or exc}")
        try:
            proof_text = proof_path.read_text()
        except (OSError, UnicodeDecodeError) as exc:
            self._fail(f"cannot read the proof file {proof_path}: {getattr(exc, 'strerror', None) or exc} "
                       "(download it from the verification page, or give it with --proof)")
        if options["refresh"]:
            proof_text = self._fresh(options["refresh"], proof_text)
        verdict = verify_offline(pdf, proof_text, key, witnesses=witnesses, quorum=options["quorum"])
        self.stdout.write(f"{LABEL.get(verdict.status, 'NOT GENUINE')}: {verdict.reason}")
        entry, checkpoint = verdict.entry, verdict.checkpoint
        if entry and checkpoint:
            witnessed = f", cosigned by {', '.join(verdict.witnessed_by)}" if verdict.witnessed_by else ""
            source = "fresh from the platform" if options["refresh"] else "as of the proof file's checkpoint"
            self.stdout.write(f"{entry.institution} {entry.event} {entry.time:%Y-%m-%d %H:%M}Z, entry in "
                              f"{checkpoint.origin} at size {checkpoint.size}{witnessed} ({source})")
            if verdict.event is not None:
                self.stdout.write(f"{verdict.event.event} {verdict.event.time:%Y-%m-%d %H:%M}Z")
        sys.exit(EXIT.get(verdict.status, NOT_GENUINE))
