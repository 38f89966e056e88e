"""Field visits (上门服务): planning, check-in, completion with parts, labour and travel, and
the ticket's cost to serve."""

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import DecimalField, F, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from keycare.core.exceptions import ApplicationError
from keycare.core.figures import account_figures_changed
from keycare.core.rates import labour_rate
from keycare.core.services import check_version, require_permission
from keycare.users.models import User

from .choices import TicketEventKind
from .models import FieldVisit, StockLevel, Ticket, VisitPart
from .services import _event

CENT = Decimal("0.01")


def _locked(visit: FieldVisit) -> FieldVisit:
    return (
        FieldVisit.objects.select_for_update(of=("self",)).select_related("ticket").get(pk=visit.pk)
    )


@transaction.atomic
def visit_plan(
    *, actor: User | None, ticket: Ticket, planned_start: dt.datetime, engineers: Iterable[User]
) -> FieldVisit:
    if actor is not None:
        require_permission(actor=actor, action="change", obj=ticket)
    engineers = list(engineers)
    if not engineers:
        raise ValidationError({"engineers": _("Choose at least one engineer.")})
    if any(not e.has_role("service_engineer", "service_manager") for e in engineers):
        raise ValidationError({"engineers": _("Only service engineers and managers go on visits.")})
    visit = FieldVisit.objects.create(
        ticket=ticket,
        planned_start=planned_start,
        labour_rate=labour_rate(timezone.localtime(planned_start).date()),
    )
    visit.engineers.set(engineers)
    _event(
        ticket,
        TicketEventKind.EDITED,
        actor,
        visit=visit.pk,
        planned=timezone.localtime(planned_start).isoformat(),
    )
    return visit


def _may_work(actor: User, visit: FieldVisit) -> None:
    from keycare.core.scoping import user_can

    if not (
        visit.engineers.filter(pk=actor.pk).exists() or user_can(actor, "change", visit.ticket)
    ):
        from keycare.core.exceptions import PermissionDeniedError

        raise PermissionDeniedError(
            _("You do not have permission to do this."), extra={"code": "permission_denied"}
        )


@transaction.atomic
def visit_check_in(
    *, actor: User | None, visit: FieldVisit, at: dt.datetime | None = None
) -> FieldVisit:
    visit = _locked(visit)
    if actor is not None:
        _may_work(actor, visit)
    if visit.status != FieldVisit.Status.PLANNED:
        raise ApplicationError(
            _("Only a planned visit can be checked in."), extra={"code": "visit_state"}
        )
    visit.status, visit.checked_in_at = FieldVisit.Status.ON_SITE, at or timezone.now()
    visit.version += 1
    visit.save()
    return visit


@transaction.atomic
def visit_complete(
    *,
    actor: User | None,
    visit: FieldVisit,
    work_done: str,
    labour_hours: Decimal,
    travel_cost: Decimal = Decimal(0),
    parts: Iterable[dict[str, Any]] = (),
    signed_off_by: str = "",
    expected_version: int | None = None,
    at: dt.datetime | None = None,
) -> FieldVisit:
    """Check out: record the work, take the parts out of stock (all or nothing: a part that
    is not in stock rejects the whole check-out) and add the costs to the ticket."""
    visit = _locked(visit)
    if actor is not None:
        _may_work(actor, visit)
    check_version(instance=visit, expected=expected_version)
    if visit.status not in (FieldVisit.Status.PLANNED, FieldVisit.Status.ON_SITE):
        raise ApplicationError(_("This visit is already closed."), extra={"code": "visit_state"})
    errors = {}
    if not work_done.strip():
        errors["work_done"] = _("Describe the work done.")
    if labour_hours < 0 or labour_hours > 200:
        errors["labour_hours"] = _("Labour hours must be between 0 and 200.")
    if travel_cost < 0:
        errors["travel_cost"] = _("The travel cost cannot be negative.")
    if errors:
        raise ValidationError(errors)
    now = at or timezone.now()
    parts_cost = Decimal(0)
    used = []
    for line in parts:
        quantity = Decimal(line["quantity"])
        if quantity <= 0:
            raise ValidationError({"parts": _("A part's quantity must be positive.")})
        level = (
            StockLevel.objects.select_for_update()
            .filter(location=line["location"], product=line["product"])
            .first()
        )
        if level is None or level.quantity < quantity:
            raise ValidationError({"parts": _("Not enough %(part)s in %(location)s (in stock: %(n)s).") % {
                "part": line["product"].name, "location": line["location"].name,
                "n": level.quantity if level else 0}})  # fmt: skip
        StockLevel.objects.filter(pk=level.pk).update(quantity=F("quantity") - quantity)
        unit_cost = line["product"].standard_cost
        used.append(VisitPart(visit=visit, product=line["product"], location=line["location"],
                              quantity=quantity, unit_cost=unit_cost))  # fmt: skip
        parts_cost += (quantity * unit_cost).quantize(CENT)
    VisitPart.objects.bulk_create(used)
    visit.work_done = work_done.strip()
    visit.labour_hours, visit.travel_cost, visit.parts_cost = labour_hours, travel_cost, parts_cost
    # the engineer-hour rate of the day of the work (administrators keep the rate history)
    visit.labour_rate = labour_rate(timezone.localtime(now).date())
    visit.checked_in_at = visit.checked_in_at or now
    visit.checked_out_at = now
    visit.status = FieldVisit.Status.DONE
    if signed_off_by.strip():
        visit.signed_off_by, visit.signed_off_at = signed_off_by.strip(), now
    visit.version += 1
    visit.save()
    ticket_costs_refresh(ticket_ids=[visit.ticket_id])
    _event(
        visit.ticket,
        TicketEventKind.EDITED,
        actor,
        at=now,
        visit=visit.pk,
        cost=str(visit.total_cost),
    )
    return visit


def ticket_costs_refresh(*, ticket_ids: Iterable[int]) -> int:
    """The ticket's cost to serve from its completed visits, in one UPDATE (and the metrics
    of the tickets' accounts follow)."""
    ticket_ids = list(ticket_ids)
    money = DecimalField(max_digits=12, decimal_places=2)
    done = (
        FieldVisit.objects.filter(ticket=OuterRef("pk"), status=FieldVisit.Status.DONE)
        .order_by()
        .values("ticket")
    )

    def total(expression):
        return Coalesce(Subquery(done.annotate(s=Sum(expression)).values("s")[:1], output_field=money),
                        Value(Decimal(0), output_field=money))  # fmt: skip

    tickets = Ticket.objects.filter(pk__in=ticket_ids)
    updated = tickets.update(
        labour_cost=total(F("labour_hours") * F("labour_rate")),
        parts_cost=total("parts_cost"),
        travel_cost=total("travel_cost"),
    )
    account_figures_changed(
        account_ids=tickets.order_by().values_list("account_id", flat=True).distinct()
    )
    return updated
