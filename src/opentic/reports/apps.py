from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "opentic.reports"
    label = "reports"
    verbose_name = _("Test reports")

    def ready(self) -> None:
        from .batch import register

        register()
