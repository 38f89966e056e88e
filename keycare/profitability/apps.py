from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProfitabilityConfig(AppConfig):
    name = "keycare.profitability"
    label = "profitability"
    verbose_name = _("Profitability")

    def ready(self) -> None:
        from keycare.core.rates import rate_provider

        from . import scopes, ticks  # noqa: F401  (scope rules, periodic ticks)
        from .rates import rate_on

        # field visits record the engineer-hour rate in effect on the day of the work
        rate_provider(rate_on)
