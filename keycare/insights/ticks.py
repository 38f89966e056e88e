"""Periodic work of the insights app: keep the default period's metrics and value scores
fresh."""

from keycare.core.ticks import register_tick


@register_tick("insights.refresh")
def refresh() -> str:
    """Compute the trailing twelve months once a day (the period moves on at midnight) and
    drop the earlier days' trailing periods: one indexed existence check when it is done.
    Then the active scorecard's scores of that period, when they are missing or older than
    their figures (a few indexed aggregates when they are fresh). `keycare insights recompute` refreshes at once after a large import."""
    from .metrics import metrics_ensure, metrics_prune_trailing, trailing_twelve_months
    from .models import Scorecard
    from .scorecard import scores_ensure

    start, end = trailing_twelve_months()
    computed = metrics_ensure(start=start, end=end)
    if computed:  # a new day: yesterday's trailing period is replaced by today's
        metrics_prune_trailing()
    scorecard = Scorecard.objects.filter(status=Scorecard.Status.ACTIVE).first()
    scored = scorecard is not None and scores_ensure(scorecard=scorecard, start=start, end=end)
    return "; ".join([
        "metrics computed" if computed else "metrics up to date",
        "scores computed" if scored else "scores up to date",
    ])  # fmt: skip
