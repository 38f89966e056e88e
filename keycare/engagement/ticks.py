"""The engagement ticks (registered with keycare.core.ticks): the reminders, once an hour,
and the key persons' tickets (the service link), every run since the last one."""

from django.utils import timezone

from keycare.core.ticks import last_ok_run, ran_this_hour, register_tick

REMINDERS_TICK = "engagement.reminders"
TICKETS_TICK = "engagement.key_person_tickets"


@register_tick(REMINDERS_TICK)
def reminders() -> str:
    """The first run of each clock hour records the reminders due (each once) and enqueues
    again those whose delivery failed; the other runs make one indexed query."""
    now = timezone.localtime()
    if ran_this_hour(REMINDERS_TICK, now):
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

    created = key_person_tickets_check(since=last_ok_run(TICKETS_TICK))
    return f"{created} key-person ticket reminders"
