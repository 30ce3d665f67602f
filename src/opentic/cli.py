"""`opentic …`: Django's management commands under the project's name (opentic demo-data, opentic audit …)."""

from __future__ import annotations

import os
import sys

# Commands a reader runs on their own machine, on files alone: no database, no secret, so no keys needed.
OFFLINE_COMMANDS = {"verify"}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opentic.settings")
    if len(sys.argv) > 1 and sys.argv[1] in OFFLINE_COMMANDS and not os.environ.get("OPENTIC_SECRET_KEY"):
        # The settings refuse to start without secrets (decision 0018); these commands use none, so
        # they get throwaway ones, fresh on every run.
        import secrets

        os.environ["OPENTIC_SECRET_KEY"] = secrets.token_urlsafe(50)
        os.environ.setdefault("OPENTIC_ID_HASH_KEY", secrets.token_urlsafe(50))
    from django.core.management import execute_from_command_line

    execute_from_command_line([sys.argv[0], *sys.argv[1:]])


if __name__ == "__main__":
    main()
