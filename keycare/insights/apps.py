from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InsightsConfig(AppConfig):
    name = "keycare.insights"
    label = "insights"
    verbose_name = _("Insights")

    def ready(self) -> None:
        from keycare.core.figures import figures_listener

        from . import scopes, ticks  # noqa: F401  (scope rules, periodic ticks)
        from .tasks import refresh_metrics_on_commit

        # the metrics follow every change of orders, ticket costs, ratings, NPS and hierarchy
        figures_listener(refresh_metrics_on_commit)
