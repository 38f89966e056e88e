"""Periodic work of the service app, run every minute by the tick registry."""

from keycare.core.ticks import register_tick


@register_tick("service.sla_sweep")
def sla_sweep() -> str:
    from .services import ticket_sla_sweep

    return f"{ticket_sla_sweep()} tickets changed SLA state"


from . import contracts  # noqa: E402,F401  (registers the maintenance and renewal tick)
