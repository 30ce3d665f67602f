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
        # The ledger sits on a lower floor: it reaches the reports' content and the signature validator
        # through hooks registered here.
        from opentic.ledger import hooks

        from . import public

        hooks.register(content=public.content, signature=_check_signature, issued_by_lims=public.issued_by_lims)
