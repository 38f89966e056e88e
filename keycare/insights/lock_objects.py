"""Locks for read-modify-write in the insights app: transaction advisory locks on
PostgreSQL; SQLite needs none, as KeyCare opens its transactions IMMEDIATE, so one writer
runs at a time already."""

from django.db import connection

#: The advisory lock keys (any constants: "kc" and a number).
METRICS_LOCK = 0x6B63_0001
SCORES_LOCK = 0x6B63_0002
TIERS_LOCK = 0x6B63_0003


def _advisory_lock(key: int, sub: int | None = None) -> None:
    """Hold the lock until the end of the transaction."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        if sub is None:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
        else:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [key, sub])


def metrics_lock() -> None:
    """Serialise the metric writers (full recompute, incremental refresh): each reads its
    figures after taking the lock, so a writer that read older figures can never write
    last."""
    _advisory_lock(METRICS_LOCK)


def scores_lock(scorecard_id: int) -> None:
    """Serialise the writers of one scorecard version's scores."""
    _advisory_lock(SCORES_LOCK, scorecard_id)


def tiers_lock() -> None:
    """Serialise the tier writers, so an override set while the tiers are applied is never
    overwritten."""
    _advisory_lock(TIERS_LOCK)
