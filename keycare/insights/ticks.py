"""Periodic work of the insights app: keep the default period's metrics and value scores
fresh."""

from keycare.core.ticks import register_tick


@register_tick("insights.refresh")
def refresh() -> str:
    """Compute the trailing twelve months once a day (the period moves on at midnight) and
    drop the earlier days' trailing periods: one indexed existence check when it is done.
    Then the active scorecard's scores of that period, when they are missing or older than
    their figures (a few indexed aggregates when they are fresh). Once a day, with the new
    period, the tiers are applied from the tier source (so a change in value changes the
    SLA policy, each change recorded with its reason) and the CLV models are refitted. `keycare insights recompute` refreshes at once after a large import."""
    from .metrics import metrics_ensure, metrics_prune_trailing, trailing_twelve_months
    from .models import Scorecard
    from .scorecard import scores_ensure

    start, end = trailing_twelve_months()
    computed = metrics_ensure(start=start, end=end)
    if computed:  # a new day: yesterday's trailing period is replaced by today's
        metrics_prune_trailing()
    scorecard = Scorecard.objects.filter(status=Scorecard.Status.ACTIVE).first()
    scored = scorecard is not None and scores_ensure(scorecard=scorecard, start=start, end=end)
    notes = [
        "metrics computed" if computed else "metrics up to date",
        "scores computed" if scored else "scores up to date",
    ]
    if computed:  # once a day: value changes the service level, and CLV is refitted
        from keycare.core.exceptions import ApplicationError

        from .selectors import clv_fitted
        from .tiers import tiers_apply

        counts = tiers_apply(actor=None, start=start, end=end)
        notes.append(f"{counts['changed']} tiers changed")
        try:
            clv_fitted()
            notes.append("CLV fitted")
        except ApplicationError:
            notes.append("CLV: not enough repeat purchases")
    return "; ".join(notes)
