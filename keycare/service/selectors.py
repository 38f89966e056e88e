"""Reads of the service app, scoped to the acting user."""

from collections.abc import Mapping
from typing import Any

from django.db.models import Prefetch, QuerySet

from keycare.core.filtering import filter_queryset
from keycare.core.scoping import restrict
from keycare.users.models import User

from .filters import TicketFilterSet
from .models import BusinessCalendar, SlaPolicy, SlaTarget, Ticket, TicketComment, TicketEvent


def ticket_list(*, actor: User, filters: Mapping[str, Any] | None = None) -> QuerySet[Ticket]:
    qs = restrict(Ticket.objects.all(), actor, "view")
    qs = filter_queryset(TicketFilterSet, filters, qs)
    if not (filters or {}).get("ordering"):
        qs = qs.order_by("-opened_at", "-id")
    return qs.select_related("account", "contact", "assignee", "team", "equipment__product")


def ticket_get(*, actor: User, pk: int) -> Ticket:
    """One ticket for its page, with the SLA policy the page names joined in."""
    return ticket_list(actor=actor).select_related("sla_policy").get(pk=pk)


def ticket_comments(*, actor: User, ticket: Ticket) -> QuerySet[TicketComment]:
    return restrict(TicketComment.objects.filter(ticket=ticket), actor, "view").select_related(
        "author"
    )


def ticket_timeline(*, actor: User, ticket: Ticket) -> QuerySet[TicketEvent]:
    return restrict(TicketEvent.objects.filter(ticket=ticket), actor, "view").select_related(
        "actor"
    )


def attachment_list(*, actor: User, ticket: Ticket | None = None) -> QuerySet:
    """The files the actor may see (customers: only those visible to them), oldest first."""
    from .models import TicketAttachment

    qs = restrict(TicketAttachment.objects.all(), actor, "view")
    if ticket is not None:
        qs = qs.filter(ticket=ticket)
    return qs.select_related("uploaded_by").order_by("uploaded_at", "id")


def attachment_get(*, actor: User, pk: int):
    """One file for download; DoesNotExist when the actor may not see it."""
    return attachment_list(actor=actor).get(pk=pk)


def sla_policy_list(
    *, actor: User, filters: Mapping[str, Any] | None = None
) -> QuerySet[SlaPolicy]:
    return (
        restrict(SlaPolicy.objects.all(), actor, "view")
        .prefetch_related(Prefetch("targets", queryset=SlaTarget.objects.order_by("priority")))
        .select_related("calendar")
    )


def calendar_list(
    *, actor: User, filters: Mapping[str, Any] | None = None
) -> QuerySet[BusinessCalendar]:
    return restrict(BusinessCalendar.objects.all(), actor, "view").prefetch_related("days")


def visit_list(*, actor: User, filters: Mapping[str, Any] | None = None) -> QuerySet:
    from .models import FieldVisit, VisitPart

    qs = restrict(FieldVisit.objects.all(), actor, "view")
    if filters and filters.get("ticket"):
        try:
            qs = qs.filter(ticket_id=int(filters["ticket"]))
        except (TypeError, ValueError):
            from django.core.exceptions import ValidationError
            from django.utils.translation import gettext as _

            raise ValidationError({"ticket": [_("Enter a whole number.")]}) from None
    return (
        qs.select_related("ticket")
        .prefetch_related(
            "engineers",
            Prefetch("parts", queryset=VisitPart.objects.select_related("product", "location")),
        )
        .order_by("planned_start", "id")
    )


def stock_for(*, actor: User) -> QuerySet:
    """Parts in stock, for the check-out form."""
    from .models import StockLevel

    return (
        StockLevel.objects.filter(quantity__gt=0)
        .select_related("product", "location")
        .order_by("location__name", "product__code")
    )


def contract_list(*, actor: User, filters: Mapping[str, Any] | None = None) -> QuerySet:
    from .models import ServiceContract

    qs = restrict(ServiceContract.objects.all(), actor, "view")
    if filters and str(filters.get("account", "")).isdigit():
        qs = qs.filter(account_id=int(filters["account"]))
    return (
        qs.select_related("account", "sla_policy")
        .prefetch_related("equipment")
        .order_by("-ends_on", "number")
    )


def maintenance_plan_list(*, actor: User, filters: Mapping[str, Any] | None = None) -> QuerySet:
    from .models import MaintenancePlan

    return (
        restrict(MaintenancePlan.objects.all(), actor, "view")
        .select_related("equipment__account", "equipment__product", "last_ticket")
        .order_by("next_due", "id")
    )


def service_team_list(
    *, actor: User, filters: Mapping[str, Any] | None = None, active_only: bool = True
) -> QuerySet:
    from .models import ServiceTeam, ServiceTeamMember

    qs = ServiceTeam.objects.filter(is_active=True) if active_only else ServiceTeam.objects.all()
    return (
        restrict(qs, actor, "view")
        .order_by("name")
        .prefetch_related(
            Prefetch(
                "memberships",
                queryset=ServiceTeamMember.objects.select_related("user").order_by(
                    "user__username"
                ),
            )
        )
    )


def account_service_summary(*, actor: User, account, months: int = 12) -> dict:
    """The service section of the account 360 page, for the account and its branches (a group
    rolls up its plants: 无差异服务), over the last `months`: open tickets, SLA compliance,
    mean time to resolve, CSAT, NPS and, for those who may see costs, the cost to serve.
    A fixed number of queries."""
    import datetime as dt

    from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, Sum
    from django.utils import timezone

    from keycare.accounts.scopes import may_see_costs

    from .choices import OPEN_STATUSES, SlaState
    from .surveys import nps_summary

    since = timezone.now() - dt.timedelta(days=round(months * 30.44))
    tickets = restrict(Ticket.objects.all(), actor, "view")
    if account.path:
        tickets = tickets.filter(account__path__startswith=account.path)
    else:
        tickets = tickets.filter(account=account)
    duration = ExpressionWrapper(F("resolved_at") - F("opened_at"), output_field=DurationField())
    recent = Q(resolved_at__gte=since)
    # the ratings (one per ticket at most) join the same pass over the tickets
    rated = Q(rating__rated_at__gte=since, rating__score__isnull=False)
    figures = tickets.aggregate(
        open=Count("id", filter=Q(status__in=OPEN_STATUSES)),
        breached=Count(
            "id",
            filter=Q(status__in=OPEN_STATUSES)
            & (Q(response_sla=SlaState.BREACHED) | Q(resolution_sla=SlaState.BREACHED)),
        ),
        resolved=Count("id", filter=recent),
        met=Count("id", filter=recent & Q(resolution_sla=SlaState.MET)),
        mttr=Avg(duration, filter=recent),
        labour=Sum("labour_cost", filter=recent),
        parts=Sum("parts_cost", filter=recent),
        travel=Sum("travel_cost", filter=recent),
        ratings=Count("rating", filter=rated),
        ratings_ok=Count("rating", filter=rated & Q(rating__score__gte=4)),
    )
    nps = nps_summary(actor=actor, account=account, since=since.date())
    costs = None
    if may_see_costs(actor):
        parts = {k: figures[k] or 0 for k in ("labour", "parts", "travel")}
        costs = {**parts, "total": sum(parts.values())}
    mttr = figures["mttr"]
    return {
        "months": months,
        "open": figures["open"],
        "breached": figures["breached"],
        "resolved": figures["resolved"],
        "sla_compliance": round(100 * figures["met"] / figures["resolved"], 1)
        if figures["resolved"]
        else None,
        "mean_time_to_resolve_hours": round(mttr.total_seconds() / 3600, 1) if mttr else None,
        "ratings": figures["ratings"],
        "csat": round(100 * figures["ratings_ok"] / figures["ratings"], 2)
        if figures["ratings"]
        else None,
        "nps": nps["nps"],
        "nps_responses": nps["responses"],
        "cost_to_serve": costs,
    }


def equipment_service_history(*, actor: User, equipment_ids) -> dict[int, dict]:
    """Per piece of equipment: how many tickets it had and the latest one (one query)."""
    from django.db.models import Count, Max

    rows = (
        restrict(Ticket.objects.filter(equipment_id__in=list(equipment_ids)), actor, "view")
        .values("equipment_id")
        .annotate(tickets=Count("id"), last_opened_at=Max("opened_at"))
        .order_by()
    )
    return {r["equipment_id"]: r for r in rows}
