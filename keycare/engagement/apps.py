from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EngagementConfig(AppConfig):
    name = "keycare.engagement"
    label = "engagement"
    verbose_name = _("Engagement")

    def ready(self) -> None:
        from . import costs, scopes, ticks  # noqa: F401  (scope rules, cost source, ticks)
