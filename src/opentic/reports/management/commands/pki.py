from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives import serialization
from django.core.management.base import BaseCommand, CommandError, CommandParser

from opentic.registry.models import Institution
from opentic.reports import pki


class Command(BaseCommand):
    help = ("The platform's certificate authority: `root` prints the root certificate (to pin in validators), "
            "`issue CREDIT_CODE` issues (or shows) an institution's signing certificate.")

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("root")
        issue = sub.add_parser("issue")
        issue.add_argument("credit_code")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "root":
            credential = pki.root()
        else:
            institution = Institution.objects.filter(credit_code=options["credit_code"]).first()
            if institution is None:
                raise CommandError(f"no institution {options['credit_code']}")
            credential = pki.institution_credential(institution.credit_code, institution.name)
        self.stdout.write(credential.certificate.public_bytes(serialization.Encoding.PEM).decode())
