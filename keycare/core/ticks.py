"""The periodic tick registry.

Features register a function with ``@register_tick("name")``; every minute the whole
registry runs, in production from Celery beat (``run_ticks_task``) and in the embedded
mode from ``keycare tick --loop`` (started by ``make demo``). Each tick must be idempotent
and cheap when there is nothing to do; one failing tick does not stop the others.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from .models import TickRun

logger = logging.getLogger(__name__)
TickFunc = Callable[[], str | None]
_TICKS: dict[str, TickFunc] = {}


@dataclass(frozen=True)
class TickResult:
    name: str
    ok: bool
    detail: str


def register_tick(name: str) -> Callable[[TickFunc], TickFunc]:
    def decorator(func: TickFunc) -> TickFunc:
        _TICKS[name] = func
        return func

    return decorator


def last_ok_run(name: str):
    """When the tick `name` last started a run that succeeded (None: never)."""
    return (
        TickRun.objects.filter(name=name, status=TickRun.Status.OK)
        .order_by("-started_at")
        .values_list("started_at", flat=True)
        .first()
    )


def ran_this_hour(name: str, now=None) -> bool:
    """Whether the tick `name` already succeeded in this clock hour (for ticks that do their
    work once an hour although the registry runs every minute): one indexed query."""
    now = timezone.localtime(now)
    last = last_ok_run(name)
    return last is not None and last >= now.replace(minute=0, second=0, microsecond=0)


def registered_ticks() -> dict[str, TickFunc]:
    return dict(_TICKS)


def run_tick(name: str) -> TickResult:
    func = _TICKS[name]
    started = timezone.now()
    try:
        with transaction.atomic():
            detail = func() or ""
        ok = True
    except Exception as exc:  # one bad tick must not stop the rest
        logger.exception("tick %s failed", name)
        detail, ok = f"{type(exc).__name__}: {exc}", False
    TickRun.objects.create(
        name=name,
        started_at=started,
        finished_at=timezone.now(),
        status=TickRun.Status.OK if ok else TickRun.Status.FAILED,
        detail=detail[:2000],
    )
    return TickResult(name=name, ok=ok, detail=detail)


def run_ticks() -> list[TickResult]:
    return [run_tick(name) for name in sorted(_TICKS)]


def run_forever(every_seconds: int, *, max_runs: int | None = None) -> None:
    """Embedded-mode scheduler: run the registry every `every_seconds`, aligned to the clock."""
    runs = 0
    while max_runs is None or runs < max_runs:
        started = time.monotonic()
        run_ticks()
        runs += 1
        if max_runs is not None and runs >= max_runs:
            break
        time.sleep(max(0.0, every_seconds - (time.monotonic() - started)))


@register_tick("core.prune_tick_runs")
def prune_tick_runs() -> str:
    """Keep the tick history short: a week of runs."""
    cutoff = timezone.now() - timezone.timedelta(days=7)
    deleted, _ = TickRun.objects.filter(started_at__lt=cutoff).delete()
    return f"pruned {deleted}"
