from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "opentic.core"
    label = "core"
    verbose_name = _("Accounts and audit")

    def ready(self) -> None:
        from opentic.core import checks, lockout  # noqa: F401  (registers the checks and the signal receiver)

        from . import audit, jobs

        # At least every minute the audit chains' heads are anchored (by whichever log is registered).
        jobs.EVERY_MINUTE.append(audit.anchor_heads)
