import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from keycare.accounts.tests.factories import AccountFactory, EquipmentFactory
from keycare.service.contracts import (
    contract_renewal_reminders,
    contract_usage,
    maintenance_tickets_open,
    overdue_maintenance_plans,
)
from keycare.service.models import MaintenancePlan, ServiceContract, SlaPolicy, Ticket
from keycare.service.tests.factories import TicketFactory
from keycare.service.visits import visit_complete, visit_plan

pytestmark = pytest.mark.django_db


def contract(account, days_left=200, **kwargs):
    today = timezone.localdate()
    return ServiceContract.objects.create(
        number=kwargs.pop("number", "SC-1"), account=account, starts_on=today - dt.timedelta(days=100),
        ends_on=today + dt.timedelta(days=days_left), **kwargs,
    )  # fmt: skip


def test_coverage_warranty_then_contract_then_billable_and_sla_override():
    account = AccountFactory(tier="")
    old_unit = EquipmentFactory(account=account, install_date=dt.date(2015, 1, 1))
    new_unit = EquipmentFactory(account=account, install_date=timezone.localdate())
    assert TicketFactory(account=account, equipment=old_unit).coverage == "billable"
    platinum = SlaPolicy.objects.get(tier="platinum")
    sc = contract(account, sla_policy=platinum)
    sc.equipment.add(old_unit)
    covered = TicketFactory(account=account, equipment=old_unit)
    assert (covered.coverage, covered.contract, covered.sla_policy) == ("contract", sc, platinum)
    assert TicketFactory(account=account, equipment=new_unit).coverage == "warranty"


def test_contract_usage_counts_completed_visits(admin_user, engineer):
    account = AccountFactory()
    sc = contract(account, included_visits=4)
    ticket = TicketFactory(account=account)  # account-wide contract (no equipment listed)
    assert ticket.contract == sc
    visit = visit_plan(
        actor=admin_user, ticket=ticket, planned_start=timezone.now(), engineers=[engineer]
    )
    visit_complete(actor=engineer, visit=visit, work_done="保养", labour_hours=Decimal("3"))
    assert contract_usage(sc) == {"visits_used": 1, "hours_used": Decimal("3.00"), "visits_left": 3}


def test_renewal_reminder_is_sent_once(kam, service_manager):
    account = AccountFactory(owner=kam)
    contract(account, days_left=30, renewal_reminder_days=60)
    contract(account, number="SC-2", days_left=300)
    assert contract_renewal_reminders() == 1
    assert contract_renewal_reminders() == 0
    assert len(mail.outbox) == 1
    assert sorted(mail.outbox[0].to) == sorted([kam.email, service_manager.email])


def test_maintenance_tickets_are_opened_ahead_once_and_the_plan_moves_on():
    unit = EquipmentFactory()
    today = timezone.localdate()
    plan = MaintenancePlan.objects.create(equipment=unit, interval_months=3, next_due=today + dt.timedelta(days=10),
                                          lead_days=14)  # fmt: skip
    far = MaintenancePlan.objects.create(
        equipment=unit, interval_months=6, next_due=today + dt.timedelta(days=90)
    )
    assert maintenance_tickets_open() == 1
    assert maintenance_tickets_open() == 0
    plan.refresh_from_db()
    ticket = Ticket.objects.get()
    assert (ticket.ticket_type, ticket.equipment, plan.last_ticket) == ("maintenance", unit, ticket)
    assert plan.next_due > today + dt.timedelta(days=80)
    far.refresh_from_db()
    assert far.last_ticket is None
    Ticket.objects.filter(pk=ticket.pk).update(opened_at=timezone.now() - dt.timedelta(days=30))
    assert [p.pk for p in overdue_maintenance_plans()] == [plan.pk]
