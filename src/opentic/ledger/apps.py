from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LedgerConfig(AppConfig):
    name = "opentic.ledger"
    label = "ledger"
    verbose_name = _("Report ledger")

    def ready(self) -> None:
        from opentic.core import audit

        from .anchors import LedgerAnchors

        # Core's audit trail anchors its chain heads here (core may not import the ledger).
        audit.ANCHOR_LOGS.append(LedgerAnchors())
