"""Periodic work of profitability: the daily profit alerts."""

import datetime as dt

from django.utils import timezone

from keycare.core.models import TickRun
from keycare.core.ticks import register_tick


@register_tick("profitability.alerts")
def alerts() -> str:
    """Once a day (the first run after midnight): record and send the margin and concession
    alerts of the trailing twelve months; each is sent once a month per account."""
    today = timezone.localdate()
    start_of_day = dt.datetime.combine(today, dt.time(), tzinfo=timezone.get_current_timezone())
    ran = TickRun.objects.filter(
        name="profitability.alerts", status=TickRun.Status.OK, started_at__gte=start_of_day
    ).exists()
    if ran:
        return "checked today"
    from .alerts import profit_alerts_check

    return f"{profit_alerts_check(today=today)} alerts"
