from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DataioConfig(AppConfig):
    name = "keycare.dataio"
    label = "dataio"
    verbose_name = _("Import and export")

    def ready(self) -> None:
        from . import scopes  # noqa: F401
