from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InsightsConfig(AppConfig):
    name = "keycare.insights"
    label = "insights"
    verbose_name = _("Insights")

    def ready(self) -> None:
        from . import scopes, ticks  # noqa: F401  (scope rules, periodic ticks)
