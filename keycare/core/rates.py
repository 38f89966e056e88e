"""The activity-based cost rates, as the service app sees them.

The profitability app keeps the rates and their history (an engineer hour = the service
team's cost ÷ its practical capacity hours); a field visit records the engineer-hour rate in
effect on the day of the work, so its labour cost stays what it was when rates change later.
Service cannot import profitability (profitability reads service's tables), so the rates
reach it through this registry, as account figures do through ``core.figures``. Without a
provider, or before the first rate, the ``KEYCARE_LABOUR_RATE`` setting applies.
"""

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

from django.conf import settings

Provider = Callable[[str, dt.date], Decimal | None]
_PROVIDERS: list[Provider] = []

ENGINEER_HOUR = "engineer_hour"


def rate_provider(provider: Provider) -> Provider:
    if provider not in _PROVIDERS:
        _PROVIDERS.append(provider)
    return provider


def labour_rate(day: dt.date) -> Decimal:
    """The engineer-hour rate in effect on `day`."""
    for provider in _PROVIDERS:
        rate = provider(ENGINEER_HOUR, day)
        if rate is not None:
            return rate
    return Decimal(str(settings.KEYCARE_LABOUR_RATE)).quantize(Decimal("0.01"))
