"""The engagement ticks (registered with keycare.core.ticks): the reminders, once an hour,
and the key persons' tickets (the service link), every run since the last one."""

import datetime as dt

from django.utils import timezone

from keycare.core.models import TickRun
from keycare.core.ticks import register_tick

REMINDERS_TICK = "engagement.reminders"
TICKETS_TICK = "engagement.key_person_tickets"


def _last_ok_run(name: str) -> dt.datetime | None:
    return (
        TickRun.objects.filter(name=name, status=TickRun.Status.OK)
        .order_by("-started_at")
        .values_list("started_at", flat=True)
        .first()
    )


@register_tick(REMINDERS_TICK)
def reminders() -> str:
    """The first run of each clock hour records the reminders due (each once) and enqueues
    again those whose delivery failed; the other runs make one indexed query."""
    now = timezone.localtime()
    last = _last_ok_run(REMINDERS_TICK)
    if last is not None and last >= now.replace(minute=0, second=0, microsecond=0):
        return "ran this hour"
    from .reminders import reminders_generate, reminders_retry

    created = reminders_generate(today=now.date())
    retried = reminders_retry(now=now)
    return f"{created} reminders, {retried} retried"


@register_tick(TICKETS_TICK)
def key_person_tickets() -> str:
    """The tickets of key persons opened or changed since the last run (a few minutes of
    overlap; two days at most): the account team is told once per ticket and reason."""
    from .service_link import key_person_tickets_check

    created = key_person_tickets_check(since=_last_ok_run(TICKETS_TICK))
    return f"{created} key-person ticket reminders"
