"""Periodic work of the insights app: keep the default period's metrics fresh."""

from keycare.core.ticks import register_tick


@register_tick("insights.refresh")
def refresh() -> str:
    """Compute the trailing twelve months once a day (the period moves on at midnight): one
    indexed existence check when it is done. `keycare insights recompute` refreshes at once
    after a large import."""
    from .metrics import metrics_ensure, trailing_twelve_months

    start, end = trailing_twelve_months()
    return "metrics computed" if metrics_ensure(start=start, end=end) else "metrics up to date"
