"""Celery tasks of the insights app: thin wrappers that take ids and are idempotent."""

from collections.abc import Sequence

from celery import shared_task

from keycare.core.background import enqueue_on_commit

from .metrics import REFRESH_LIMIT, metrics_refresh


@shared_task(name="keycare.insights.tasks.refresh_metrics_task", acks_late=True)
def refresh_metrics_task(account_ids: list[int] | None) -> int:
    """Bring the stored metric periods up to date for these accounts (None: all of them)."""
    return metrics_refresh(account_ids=account_ids)


def refresh_metrics_on_commit(account_ids: Sequence[int]) -> None:
    """The listener of keycare.core.figures (registered in InsightsConfig.ready): refresh the
    accounts' metrics once the change commits. A set too large for a refresh is sent as None
    (recompute every stored period) rather than as a message of that many ids."""
    ids = list(account_ids) if len(account_ids) <= REFRESH_LIMIT else None
    enqueue_on_commit(refresh_metrics_task, ids)


@shared_task(name="keycare.insights.tasks.refresh_scores_task", acks_late=True)
def refresh_scores_task(scorecard_id: int, start: str, end: str, scope: str = "own") -> int:
    """Recompute a version's scores of a period when they are still stale (idempotent)."""
    import datetime as dt

    from .models import Scorecard
    from .scorecard import scores_compute

    scorecard = Scorecard.objects.filter(pk=scorecard_id).first()
    if scorecard is None:
        return 0
    return scores_compute(scorecard=scorecard, start=dt.date.fromisoformat(start),
                          end=dt.date.fromisoformat(end), only_if_stale=True, scope=scope)  # fmt: skip


@shared_task(name="keycare.insights.tasks.refresh_current_scores_task", acks_late=True)
def refresh_current_scores_task() -> int:
    """After the judgements changed: recompute the active version's current scores."""
    from .scorecard import scores_refresh_current

    return scores_refresh_current()
