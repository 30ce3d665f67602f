from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from opentic.core.models import ApiToken, User
from opentic.core.tokens import issue_token, revoke_token


def _expiry(text: str) -> dt.datetime:
    """`30` (days from now) or a date `2027-06-30` (the token works through that day, local time)."""
    if text.isascii() and text.isdigit():
        return timezone.now() + dt.timedelta(days=int(text))
    try:
        day = dt.date.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"--expires takes a number of days or a date (YYYY-MM-DD), not {text!r}") from exc
    return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time()))


class Command(BaseCommand):
    help = ("Issue an API token for a user (printed once; only its hash is kept), or revoke one by its prefix. "
            "Both are written to the audit trail.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("name", nargs="?", default="", help="what the token is for (when issuing)")
        parser.add_argument("--expires", metavar="DAYS|DATE",
                            help="days from now, or the last day (YYYY-MM-DD) it works; default: until revoked")
        parser.add_argument("--revoke", metavar="PREFIX", help="revoke the user's token that starts so (otk_…)")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"no user {options['username']}")
        if options["revoke"]:
            prefix = options["revoke"][:8]
            found = ApiToken.objects.filter(user=user, prefix=prefix).first()
            if found is None or len(options["revoke"]) < 8:
                raise CommandError(f"{user.get_username()} has no token {options['revoke']}")
            revoke_token(None, found, "command line")
            self.stdout.write(f"revoked {found.prefix}… ({found.name})")
            return
        if not options["name"]:
            raise CommandError("say what the token is for: opentic token USER NAME")
        expires = _expiry(options["expires"]) if options["expires"] else None
        try:
            _, token = issue_token(user, options["name"], expires_at=expires)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(token)
