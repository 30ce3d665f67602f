"""The settings as tools that only inspect the code see them (mypy's Django plugin imports the settings).

The real settings refuse to start without secrets (docs/decisions/0018); a type
checker needs none, so it gets placeholders that no running platform ever uses.
"""

import os

os.environ.setdefault("OPENTIC_SECRET_KEY", "typecheck-only-placeholder-never-used-by-a-running-platform")
os.environ.setdefault("OPENTIC_ID_HASH_KEY", "typecheck-only-placeholder-for-the-id-hash-key")

from opentic.settings import *  # noqa: F403
