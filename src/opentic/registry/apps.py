from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "opentic.registry"
    label = "registry"
    verbose_name = _("Register of institutions")

    def ready(self) -> None:
        from .jobs import register

        register()
