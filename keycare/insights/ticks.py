"""Periodic work of the insights app: keep the default period's metrics fresh."""

from keycare.core.ticks import register_tick


@register_tick("insights.refresh")
def refresh() -> str:
    """Compute the trailing twelve months once a day (the period moves on at midnight): one
    indexed existence check when it is done. `keycare insights recompute` refreshes at once
    after a large import."""
    from .metrics import metrics_recompute, trailing_twelve_months
    from .models import AccountMetric

    start, end = trailing_twelve_months()
    if AccountMetric.objects.filter(period_start=start, period_end=end).exists():
        return "metrics up to date"
    return f"{metrics_recompute(start=start, end=end)} metric rows computed"
