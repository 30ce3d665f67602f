from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LimsConfig(AppConfig):
    name = "opentic.lims"
    label = "lims"
    verbose_name = _("Laboratory (LIMS)")
