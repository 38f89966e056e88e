"""Service dashboard figures, computed set-based on the tickets the actor may see. The web
page and the API read the same function, so they always show the same figures."""

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone

from keycare.users.models import User

from .calculations import csat
from .choices import OPEN_STATUSES, Priority, SlaState
from .models import FieldVisit, TicketRating
from .selectors import ticket_list

AGE_BUCKETS = [(0, 1), (1, 3), (3, 7), (7, 30), (30, None)]  # days


def service_dashboard(
    *, actor: User, filters: Mapping[str, Any] | None = None, months: int = 6
) -> dict:
    now = timezone.now()
    since = (timezone.localdate().replace(day=1) - dt.timedelta(days=31 * (months - 1))).replace(
        day=1
    )
    tickets = ticket_list(actor=actor, filters=filters).order_by()
    open_tickets = tickets.filter(status__in=OPEN_STATUSES)

    by_status = dict(
        open_tickets.values_list("status").annotate(n=Count("id")).values_list("status", "n")
    )
    by_priority = dict(
        open_tickets.values_list("priority").annotate(n=Count("id")).values_list("priority", "n")
    )

    resolved = tickets.filter(resolved_at__isnull=False, resolved_at__date__gte=since)
    monthly = (
        resolved.annotate(month=TruncMonth("resolved_at"))
        .values("month")
        .annotate(total=Count("id"), met=Count("id", filter=Q(resolution_sla=SlaState.MET)))
        .order_by("month")
    )
    compliance = [
        {"month": timezone.localtime(r["month"]).strftime("%Y-%m") if isinstance(r["month"], dt.datetime)
         else str(r["month"])[:7], "resolved": r["total"],
         "compliance": round(100 * r["met"] / r["total"], 1) if r["total"] else None}
        for r in monthly
    ]  # fmt: skip

    ages = []
    for low, high in AGE_BUCKETS:
        q = Q(opened_at__lte=now - dt.timedelta(days=low))
        if high is not None:
            q &= Q(opened_at__gt=now - dt.timedelta(days=high))
        ages.append({"from_days": low, "to_days": high, "count": open_tickets.filter(q).count()})

    duration = ExpressionWrapper(F("resolved_at") - F("opened_at"), output_field=DurationField())
    mttr = resolved.aggregate(avg=Avg(duration))["avg"]

    with_visits = resolved.annotate(
        done_visits=Count("visits", filter=Q(visits__status=FieldVisit.Status.DONE))
    ).filter(done_visits__gte=1)
    visited = with_visits.count()
    first_time = with_visits.filter(done_visits=1).count()

    ratings = TicketRating.objects.filter(ticket__in=tickets.values("pk"), score__isnull=False)
    scores = list(ratings.values_list("score", flat=True))

    return {
        "open": open_tickets.count(),
        "by_status": {s: by_status.get(s, 0) for s in OPEN_STATUSES},
        "by_priority": {p: by_priority.get(p, 0) for p in Priority.values},
        "at_risk": open_tickets.filter(
            Q(response_sla=SlaState.AT_RISK) | Q(resolution_sla=SlaState.AT_RISK)
        ).count(),
        "breached": open_tickets.filter(
            Q(response_sla=SlaState.BREACHED) | Q(resolution_sla=SlaState.BREACHED)
        ).count(),
        "sla_compliance": compliance,
        "backlog_age": ages,
        "mean_time_to_resolve_hours": round(mttr.total_seconds() / 3600, 1) if mttr else None,
        "first_time_fix_rate": round(100 * first_time / visited, 1) if visited else None,
        "csat": csat(scores),
        "ratings": len(scores),
    }
