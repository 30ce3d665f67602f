from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "opentic.reports"
    label = "reports"
    verbose_name = _("Test reports")

    def ready(self) -> None:
        from opentic.lims import hooks
        from opentic.lims.models import Sample

        from .models import Report

        def sample_reports(sample: Sample) -> list[Report]:
            return list(Report.objects.filter(sample=sample).select_related("replaces").order_by("issued_at"))

        hooks.sample_reports = sample_reports
