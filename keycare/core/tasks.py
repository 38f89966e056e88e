"""Celery tasks of the core app: thin wrappers that take ids/names and are idempotent."""

from celery import shared_task

from . import ticks


@shared_task(name="keycare.core.tasks.run_ticks_task")
def run_ticks_task() -> list[str]:
    """Beat runs this every minute; each registered tick becomes its own task."""
    names = sorted(ticks.registered_ticks())
    for name in names:
        run_tick_task.delay(name)
    return names


@shared_task(name="keycare.core.tasks.run_tick_task")
def run_tick_task(name: str) -> bool:
    return ticks.run_tick(name).ok
