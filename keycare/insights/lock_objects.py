"""Locks for read-modify-write in the insights app."""

from django.db import connection

#: The advisory lock key of the metrics writers (any constant; "kc" and 1).
METRICS_LOCK = 0x6B63_0001


def metrics_lock() -> None:
    """Serialise the metric writers (full recompute, incremental refresh) until the end of the
    transaction: each reads its figures after taking the lock, so a writer that read older
    figures can never write last. PostgreSQL: a transaction advisory lock. SQLite needs none:
    KeyCare opens its transactions IMMEDIATE, so one writer runs at a time already."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [METRICS_LOCK])


#: The advisory lock class of the scorecard writers (the second key is the version's id).
SCORES_LOCK = 0x6B63_0002


def scores_lock(scorecard_id: int) -> None:
    """Serialise the writers of one scorecard version's scores until the end of the
    transaction (PostgreSQL: a transaction advisory lock; SQLite writes one at a time)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [SCORES_LOCK, scorecard_id])


#: The advisory lock of the tier writers (applying the tiers, overrides).
TIERS_LOCK = 0x6B63_0003


def tiers_lock() -> None:
    """Serialise the tier writers until the end of the transaction, so an override set while
    the tiers are applied is never overwritten (PostgreSQL; SQLite writes one at a time)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [TIERS_LOCK])
