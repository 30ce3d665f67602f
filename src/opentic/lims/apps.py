from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LimsConfig(AppConfig):
    name = "opentic.lims"
    label = "lims"
    verbose_name = _("Laboratory (LIMS)")

    def ready(self) -> None:
        from opentic.core import audit

        from .integrity import results_match_trail

        audit.ROW_CHECKS.append(results_match_trail)
