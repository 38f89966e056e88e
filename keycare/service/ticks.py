"""Periodic work of the service app, run every minute by the tick registry."""

from keycare.core.ticks import register_tick


@register_tick("service.sla_sweep")
def sla_sweep() -> str:
    from .services import ticket_sla_sweep

    return f"{ticket_sla_sweep()} tickets changed SLA state"


@register_tick("service.nps_surveys")
def nps_surveys() -> str:
    """Due NPS surveys, in office hours, in batches; idle for the day once none is due."""
    from .surveys import nps_surveys_tick

    return nps_surveys_tick()


from . import contracts  # noqa: E402,F401  (registers the maintenance and renewal tick)
