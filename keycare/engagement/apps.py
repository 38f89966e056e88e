from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EngagementConfig(AppConfig):
    name = "keycare.engagement"
    label = "engagement"
    verbose_name = _("Engagement")

    def ready(self) -> None:
        # scope rules, the P&L cost source, the ticks, the personal-data eraser
        from . import costs, coverage_ticks, reminders, scopes, ticks  # noqa: F401
        from .services import gifts  # noqa: F401  (the gift source of the concession limit)
