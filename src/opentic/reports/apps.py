from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from opentic.ledger.hooks import SignatureCheck


def _check_signature(pdf: bytes, credit_code: str, certificates: list[str]) -> SignatureCheck:
    from . import validation  # imported on first use: pyHanko's validator is heavy to load

    return validation.check_signature(pdf, credit_code, certificates)


class ReportsConfig(AppConfig):
    name = "opentic.reports"
    label = "reports"
    verbose_name = _("Test reports")

    def ready(self) -> None:
        # Lower floors reach reports through hooks registered here: the ledger for the reports' content
        # and the signature validator, the LIMS for a sample's reports.
        from opentic.ledger import hooks as ledger_hooks
        from opentic.lims import hooks
        from opentic.lims.models import Sample

        from . import public
        from .models import Report

        ledger_hooks.register(content=public.content, signature=_check_signature,
                              issued_by_lims=public.issued_by_lims)

        def sample_reports(sample: Sample) -> list[Report]:
            return list(Report.objects.filter(sample=sample).select_related("replaces").order_by("issued_at"))

        hooks.sample_reports = sample_reports
        from . import checks  # noqa: F401  (registers the deploy check of the public verification address)
        from .batch import register

        register()
