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
    return qs.select_related("account", "contact", "assignee", "equipment__product")


def ticket_get(*, actor: User, pk: int) -> Ticket:
    return ticket_list(actor=actor).get(pk=pk)


def ticket_comments(*, actor: User, ticket: Ticket) -> QuerySet[TicketComment]:
    return restrict(TicketComment.objects.filter(ticket=ticket), actor, "view").select_related(
        "author"
    )


def ticket_timeline(*, actor: User, ticket: Ticket) -> QuerySet[TicketEvent]:
    return restrict(TicketEvent.objects.filter(ticket=ticket), actor, "view").select_related(
        "actor"
    )


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


def service_team_list(*, actor: User) -> QuerySet:
    from .models import ServiceTeam

    return restrict(ServiceTeam.objects.filter(is_active=True), actor, "view").order_by("name")
