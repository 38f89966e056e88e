"""Service dashboard figures, computed set-based on the tickets the actor may see. The web
page and the API read the same function, so they always show the same figures.

Filters are the ticket list's (priority, team, assignee, tier, account, …) plus a period
(`period_from`, `period_to`, ISO dates; default the last six calendar months): open-ticket
figures are as of now, the others (SLA compliance, time to resolve, first-time fix, CSAT,
NPS, the roll-ups by engineer and team) count what was resolved, rated or answered in the
period."""

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone

from keycare.core.filtering import PERIOD_KEYS, period_from_filters
from keycare.users.models import User

from .calculations import NPS_DETRACTOR_MAX, NPS_PROMOTER_MIN, nps_from_counts
from .choices import OPEN_STATUSES, Priority, SlaState
from .models import FieldVisit, ServiceTeam, TicketRating
from .selectors import ticket_list
from .surveys import nps_survey_list

AGE_BUCKETS = [(0, 1), (1, 3), (3, 7), (7, 30), (30, None)]  # days
EMPTY = {"resolved": 0, "sla_compliance": None, "mean_time_to_resolve_hours": None,
         "ratings": 0, "csat": None}  # fmt: skip


def dashboard_period(filters: Mapping[str, Any] | None) -> tuple[dt.date, dt.date]:
    """The period asked for (default: the last six calendar months), validated."""
    today = timezone.localdate()
    first = today.replace(day=1)
    for _i in range(5):
        first = (first - dt.timedelta(days=1)).replace(day=1)
    return period_from_filters(filters, default=(first, today))


def _month(value) -> str:
    if isinstance(value, dt.datetime):
        return (
            timezone.localtime(value).strftime("%Y-%m")
            if timezone.is_aware(value)
            else (value.strftime("%Y-%m"))
        )
    return str(value)[:7]


def _pct(part: int, whole: int, digits: int = 1) -> float | None:
    return round(100 * part / whole, digits) if whole else None


def _values(filters: Mapping[str, Any], key: str):
    """A filter's value(s), from a QueryDict (several values) or a plain dict."""
    return filters.getlist(key) if hasattr(filters, "getlist") else filters[key]


def _range(field: str, start: dt.date, end: dt.date) -> Q:
    return Q(**{f"{field}__date__gte": start, f"{field}__date__lte": end})


def _rollup(resolved, ratings, key: str) -> dict:
    """Resolved tickets, SLA met %, mean hours to resolve and CSAT grouped by `key`
    (assignee or team): two grouped queries, whatever the number of tickets."""
    duration = ExpressionWrapper(F("resolved_at") - F("opened_at"), output_field=DurationField())
    rows = {
        r[key]: r
        for r in resolved.values(key).annotate(
            resolved=Count("id"),
            met=Count("id", filter=Q(resolution_sla=SlaState.MET)),
            mttr=Avg(duration),
        )
    }
    rated = {
        r[f"ticket__{key}"]: r
        for r in ratings.values(f"ticket__{key}").annotate(
            rated=Count("id"), satisfied=Count("id", filter=Q(score__gte=4))
        )
    }
    out = {}
    for k in set(rows) | set(rated):
        if k is None:
            continue
        row, rate = rows.get(k, {}), rated.get(k, {})
        mttr = row.get("mttr")
        out[k] = {
            "resolved": row.get("resolved", 0),
            "sla_compliance": _pct(row.get("met", 0), row.get("resolved", 0)),
            "mean_time_to_resolve_hours": round(mttr.total_seconds() / 3600, 1) if mttr else None,
            "ratings": rate.get("rated", 0),
            "csat": _pct(rate.get("satisfied", 0), rate.get("rated", 0), 2),
        }
    return out


def service_dashboard(*, actor: User, filters: Mapping[str, Any] | None = None) -> dict:
    now = timezone.now()
    start, end = dashboard_period(filters)
    ticket_filters = {k: _values(filters, k) for k in (filters or {}) if k not in PERIOD_KEYS}
    tickets = ticket_list(actor=actor, filters=ticket_filters).order_by()
    open_tickets = tickets.filter(status__in=OPEN_STATUSES)

    by_status = dict(open_tickets.values_list("status").annotate(n=Count("id")))
    by_priority = dict(open_tickets.values_list("priority").annotate(n=Count("id")))

    resolved = tickets.filter(_range("resolved_at", start, end))
    monthly = (
        resolved.annotate(month=TruncMonth("resolved_at"))
        .values("month")
        .annotate(total=Count("id"), met=Count("id", filter=Q(resolution_sla=SlaState.MET)))
        .order_by("month")
    )
    compliance = [
        {"month": _month(r["month"]), "resolved": r["total"], "compliance": _pct(r["met"], r["total"])}
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
    fix = with_visits.aggregate(
        visited=Count("id"), first_time=Count("id", filter=Q(done_visits=1))
    )

    ratings = TicketRating.objects.filter(
        _range("rated_at", start, end), ticket__in=tickets.values("pk"), score__isnull=False
    )
    csat_total = ratings.aggregate(n=Count("id"), ok=Count("id", filter=Q(score__gte=4)))
    csat_trend = [
        {"month": _month(r["month"]), "ratings": r["n"], "csat": _pct(r["ok"], r["n"], 2)}
        for r in ratings.annotate(month=TruncMonth("rated_at"))
        .values("month")
        .annotate(n=Count("id"), ok=Count("id", filter=Q(score__gte=4)))
        .order_by("month")
    ]

    # NPS is asked of accounts, not of tickets: only the account filters (tier, account) apply,
    # through the survey list's own FilterSet
    account_filters = {
        k: _values(filters, k) for k in ("tier", "account") if (filters or {}).get(k)
    }
    surveys = (
        nps_survey_list(actor=actor, filters=account_filters)
        .filter(_range("responded_at", start, end), score__isnull=False)
        .order_by()
    )
    nps_counts = {"n": Count("id"), "pro": Count("id", filter=Q(score__gte=NPS_PROMOTER_MIN)),
                  "det": Count("id", filter=Q(score__lte=NPS_DETRACTOR_MAX))}  # fmt: skip
    nps_total = surveys.aggregate(**nps_counts)
    nps_trend = [
        {"month": _month(r["month"]), "responses": r["n"],
         "nps": nps_from_counts(promoters=r["pro"], detractors=r["det"], total=r["n"])}
        for r in surveys.annotate(month=TruncMonth("responded_at"))
        .values("month").annotate(**nps_counts).order_by("month")
    ]  # fmt: skip

    open_by_assignee = dict(
        open_tickets.filter(assignee__isnull=False).values_list("assignee").annotate(n=Count("id"))
    )
    engineers = _rollup(resolved, ratings, "assignee")
    names = {
        pk: display or username
        for pk, username, display in User.objects.filter(
            pk__in=set(engineers) | set(open_by_assignee)
        ).values_list("pk", "username", "display_name")
    }
    open_by_team = dict(
        open_tickets.filter(team__isnull=False).values_list("team").annotate(n=Count("id"))
    )
    teams = _rollup(resolved, ratings, "team")
    team_names = dict(
        ServiceTeam.objects.filter(pk__in=set(teams) | set(open_by_team)).values_list("pk", "name")
    )

    return {
        "period": {"from": start.isoformat(), "to": end.isoformat()},
        "open": open_tickets.count(),
        "by_status": {s: by_status.get(s, 0) for s in OPEN_STATUSES},
        "by_priority": {p: by_priority.get(p, 0) for p in Priority.values},
        "at_risk": open_tickets.filter(
            Q(response_sla=SlaState.AT_RISK) | Q(resolution_sla=SlaState.AT_RISK)
        ).count(),
        "breached": open_tickets.filter(
            Q(response_sla=SlaState.BREACHED) | Q(resolution_sla=SlaState.BREACHED)
        ).count(),
        "resolved": sum(c["resolved"] for c in compliance),
        "sla_compliance": compliance,
        "backlog_age": ages,
        "mean_time_to_resolve_hours": round(mttr.total_seconds() / 3600, 1) if mttr else None,
        "first_time_fix_rate": _pct(fix["first_time"], fix["visited"]),
        "csat": _pct(csat_total["ok"], csat_total["n"], 2),
        "ratings": csat_total["n"],
        "csat_trend": csat_trend,
        "nps": nps_from_counts(
            promoters=nps_total["pro"], detractors=nps_total["det"], total=nps_total["n"]
        ),
        "nps_responses": nps_total["n"],
        "nps_trend": nps_trend,
        "by_engineer": sorted(
            (
                {
                    "id": pk,
                    "name": name,
                    "open": open_by_assignee.get(pk, 0),
                    **engineers.get(pk, EMPTY),
                }
                for pk, name in names.items()
            ),
            key=lambda r: (-r["resolved"], r["name"]),
        ),
        "by_team": sorted(
            (
                {"id": pk, "name": name, "open": open_by_team.get(pk, 0), **teams.get(pk, EMPTY)}
                for pk, name in team_names.items()
            ),
            key=lambda r: (-r["resolved"], r["name"]),
        ),
    }
