"""Service contracts and preventive maintenance: usage, renewal reminders and the tick that
opens maintenance tickets ahead of time."""

import datetime as dt
from decimal import Decimal

from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from keycare.accounts.services.equipment import add_months
from keycare.core.ticks import register_tick
from keycare.users.models import User

from .models import FieldVisit, MaintenancePlan, ServiceContract


def contract_usage(contract: ServiceContract) -> dict:
    """Visits and hours used under the contract (completed visits of its tickets)."""
    done = FieldVisit.objects.filter(ticket__contract=contract, status=FieldVisit.Status.DONE)
    totals = done.aggregate(visits=Count("id"), hours=Sum("labour_hours"))
    return {
        "visits_used": totals["visits"] or 0,
        "hours_used": totals["hours"] or Decimal(0),
        "visits_left": None
        if contract.included_visits is None
        else contract.included_visits - (totals["visits"] or 0),
    }


def contract_renewal_reminders(*, today: dt.date | None = None) -> int:
    """Mail the account owner and the service managers once, `renewal_reminder_days` before a
    contract ends."""
    today = today or timezone.localdate()
    sent = 0
    due = ServiceContract.objects.filter(
        reminded_at__isnull=True, ends_on__gte=today
    ).select_related("account__owner")
    for contract in due:
        if contract.ends_on - dt.timedelta(days=contract.renewal_reminder_days) > today:
            continue
        with transaction.atomic():
            locked = ServiceContract.objects.select_for_update(of=("self",)).get(pk=contract.pk)
            if locked.reminded_at is not None:
                continue
            recipients = {
                u.email for u in User.objects.filter(groups__name="service_manager", is_active=True)
            }
            if contract.account.owner and contract.account.owner.email:
                recipients.add(contract.account.owner.email)
            recipients.discard("")
            with translation.override("zh-hans"):
                subject = _("Service contract %(number)s of %(account)s ends on %(date)s") % {
                    "number": contract.number, "account": contract.account.name, "date": contract.ends_on}  # fmt: skip
            if recipients:
                send_mail(subject, subject, None, sorted(recipients))
            locked.reminded_at = timezone.now()
            locked.save(update_fields=["reminded_at"])
            sent += 1
    return sent


def maintenance_tickets_open(*, today: dt.date | None = None) -> int:
    """Open the maintenance tickets that are due within their lead time (idempotent: a plan
    moves its due date on when its ticket is opened)."""
    from .services import ticket_create

    today = today or timezone.localdate()
    opened = 0
    plans = MaintenancePlan.objects.filter(is_active=True).select_related(
        "equipment__account", "equipment__product"
    )
    for plan in plans:
        if plan.next_due - dt.timedelta(days=plan.lead_days) > today:
            continue
        with transaction.atomic():
            locked = MaintenancePlan.objects.select_for_update(of=("self",)).get(pk=plan.pk)
            if locked.next_due != plan.next_due:
                continue  # another run took it
            equipment = plan.equipment
            ticket = ticket_create(
                actor=None, account=equipment.account, equipment=equipment, ticket_type="maintenance",
                priority="P3", channel="api",
                subject=_("Preventive maintenance due %(date)s: %(product)s #%(serial)s") % {
                    "date": plan.next_due, "product": equipment.product.name, "serial": equipment.serial_number},
            )  # fmt: skip
            locked.last_ticket = ticket
            locked.next_due = add_months(plan.next_due, plan.interval_months)
            locked.save(update_fields=["last_ticket", "next_due"])
            opened += 1
    return opened


def overdue_maintenance_plans() -> list[MaintenancePlan]:
    """Plans whose last ticket is still open past its due date (flagged on the lists)."""
    open_statuses = ["new", "assigned", "in_progress", "waiting_on_customer"]
    plans = MaintenancePlan.objects.filter(last_ticket__status__in=open_statuses).select_related(
        "equipment", "last_ticket"
    )
    return [p for p in plans if p.is_overdue]


@register_tick("service.maintenance_and_renewals")
def maintenance_and_renewals_tick() -> str:
    opened = maintenance_tickets_open()
    reminded = contract_renewal_reminders()
    return f"{opened} maintenance tickets opened, {reminded} renewal reminders"
