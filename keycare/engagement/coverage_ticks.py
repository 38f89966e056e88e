"""The materialised coverage figures (`AccountCoverage`) the coverage report and the
executive overdue report read: refreshed set-based for all key accounts once an hour by
the coverage tick, and for an account after the commit that changed its activities
(`coverage_refresh_on_commit`). The account pages compute one account live."""

import datetime as dt
from collections.abc import Iterable
from functools import partial

from django.db import transaction
from django.utils import timezone

from keycare.accounts.choices import AccountStatus
from keycare.accounts.models import Account
from keycare.core.ticks import ran_this_hour, register_tick

from .coverage import Coverage, coverage_for_accounts, key_person_days
from .models import AccountCoverage

COVERAGE_TICK = "engagement.coverage"
CHUNK = 1000

_FIELDS = [
    "score", "window_days", "engaged", "decision_maker_known", "decision_makers_known",
    "decision_makers_met", "uncovered_count", "uncovered_ids", "single_threaded",
    "none_engaged", "has_coach", "roles_covered", "relationship_by_role", "last_touch_at",
    "executive_every_days", "executive_last_at", "executive_due_on", "computed_at",
]  # fmt: skip


def _row(coverage: Coverage, executive, now: dt.datetime) -> AccountCoverage:
    touches = [p.last_touch_at for p in coverage.people if p.last_touch_at is not None]
    return AccountCoverage(
        account_id=coverage.account_id,
        score=coverage.score,
        window_days=coverage.window_days,
        engaged=coverage.engaged,
        decision_maker_known=coverage.decision_maker_known,
        decision_makers_known=len(coverage.decision_makers),
        decision_makers_met=coverage.decision_makers_met,
        uncovered_count=len(coverage.uncovered_decision_makers),
        uncovered_ids=[p.contact_id for p in coverage.uncovered_decision_makers],
        single_threaded=coverage.single_threaded,
        none_engaged=coverage.engaged == 0,
        has_coach=coverage.has_coach,
        roles_covered=coverage.roles_covered,
        relationship_by_role={
            role: (str(mean) if mean is not None else None)
            for role, mean in coverage.relationship_by_role.items()
        },
        last_touch_at=max(touches, default=None),
        executive_every_days=executive.every_days,
        executive_last_at=executive.last_done_at,
        executive_due_on=executive.due_on if executive.last_done_at else None,
        computed_at=now,
    )


def coverage_refresh(
    account_ids: Iterable[int] | None = None, *, today: dt.date | None = None
) -> int:
    """Recompute the stored coverage of these accounts (None: every key account) and drop
    the rows of accounts no longer key (or lost). Set-based, in chunks of `CHUNK` accounts:
    a fixed number of queries per chunk (coverage, cadences, one bulk upsert). Returns the
    number of rows written."""
    from .sponsors import executive_cadences

    today = today or timezone.localdate()
    now = timezone.now()
    key = Account.objects.filter(key_account__isnull=False).exclude(status=AccountStatus.LOST)
    stale = AccountCoverage.objects.exclude(account_id__in=key.values("pk"))
    if account_ids is not None:
        ids = sorted({int(pk) for pk in account_ids})
        if not ids:
            return 0
        key = key.filter(pk__in=ids)
        stale = stale.filter(account_id__in=ids)
    stale.delete()
    accounts = list(key.only("pk", "account_type", "tier", "owner_id").order_by("pk"))
    if not accounts:
        return 0
    days = key_person_days()
    written = 0
    for start in range(0, len(accounts), CHUNK):
        chunk = accounts[start : start + CHUNK]
        coverage = coverage_for_accounts(account_ids=[a.pk for a in chunk], today=today, days=days)
        executive = executive_cadences(chunk, today)
        rows = [_row(coverage[a.pk], executive[a.pk], now) for a in chunk]
        AccountCoverage.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["account"], update_fields=_FIELDS
        )
        written += len(rows)
    return written


def coverage_refresh_on_commit(account_ids: Iterable[int]) -> None:
    """Refresh these accounts' stored coverage once the current transaction commits."""
    ids = sorted({int(pk) for pk in account_ids if pk})
    if ids:
        transaction.on_commit(partial(coverage_refresh, ids))


@register_tick(COVERAGE_TICK)
def coverage() -> str:
    """The first run of each clock hour recomputes the stored coverage of every key
    account; the other runs make one indexed query."""
    now = timezone.localtime()
    if ran_this_hour(COVERAGE_TICK, now):
        return "ran this hour"
    return f"{coverage_refresh(today=now.date())} key accounts' coverage refreshed"
