import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from keycare.accounts.tests.factories import ProductFactory
from keycare.core.exceptions import PermissionDeniedError
from keycare.service.models import FieldVisit, StockLevel, StockLocation, Ticket, VisitPart
from keycare.service.tests.factories import TicketFactory
from keycare.service.visits import visit_check_in, visit_complete, visit_plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def stock():
    bearing = ProductFactory(name="主轴轴承", standard_cost=Decimal("3900"))
    van = StockLocation.objects.create(name="刘洋的车", kind="van")
    StockLevel.objects.create(location=van, product=bearing, quantity=Decimal("2"))
    return {"bearing": bearing, "van": van}


def test_visit_with_parts_labour_and_travel_adds_to_the_cost_to_serve(
    admin_user, engineer, stock, settings
):
    settings.KEYCARE_LABOUR_RATE = 200
    ticket = TicketFactory()
    visit = visit_plan(
        actor=admin_user, ticket=ticket, planned_start=timezone.now(), engineers=[engineer]
    )
    visit_check_in(actor=engineer, visit=visit)
    visit_complete(
        actor=engineer, visit=visit, work_done="更换主轴轴承", labour_hours=Decimal("3.5"),
        travel_cost=Decimal("420"), parts=[{"product": stock["bearing"], "location": stock["van"], "quantity": 2}],
        signed_off_by="赵磊",
    )  # fmt: skip
    visit.refresh_from_db()
    assert (visit.status, visit.parts_cost, visit.labour_cost, visit.signed_off_by) == (
        "done", Decimal("7800.00"), Decimal("700.00"), "赵磊")  # fmt: skip
    ticket.refresh_from_db()
    assert (ticket.labour_cost, ticket.parts_cost, ticket.travel_cost) == (
        Decimal("700.00"), Decimal("7800.00"), Decimal("420.00"))  # fmt: skip
    assert ticket.cost_to_serve == Decimal("8920.00")
    assert StockLevel.objects.get().quantity == 0
    # a second visit adds up
    second = visit_plan(actor=admin_user, ticket=ticket, planned_start=timezone.now() + dt.timedelta(days=1),
                        engineers=[engineer])  # fmt: skip
    visit_complete(actor=engineer, visit=second, work_done="复查", labour_hours=Decimal("1"))
    assert Ticket.objects.get(pk=ticket.pk).labour_cost == Decimal("900.00")


def test_not_enough_stock_rejects_the_whole_check_out(admin_user, engineer, stock):
    ticket = TicketFactory()
    visit = visit_plan(
        actor=admin_user, ticket=ticket, planned_start=timezone.now(), engineers=[engineer]
    )
    with pytest.raises(ValidationError, match="Not enough"):
        visit_complete(actor=engineer, visit=visit, work_done="换轴承", labour_hours=Decimal("2"),
                       parts=[{"product": stock["bearing"], "location": stock["van"], "quantity": 3}])  # fmt: skip
    assert StockLevel.objects.get().quantity == 2
    assert FieldVisit.objects.get().status == "planned" and not VisitPart.objects.exists()
    assert Ticket.objects.get(pk=ticket.pk).cost_to_serve == 0


def test_only_the_visit_engineers_or_ticket_workers_complete_it(
    admin_user, engineer, make_user, stock
):
    stranger = make_user("service_engineer", username="eng_x")
    ticket = TicketFactory()
    visit = visit_plan(
        actor=admin_user, ticket=ticket, planned_start=timezone.now(), engineers=[engineer]
    )
    with pytest.raises(PermissionDeniedError):
        visit_complete(actor=stranger, visit=visit, work_done="x", labour_hours=Decimal("1"))
    with pytest.raises(ValidationError):
        visit_plan(actor=admin_user, ticket=ticket, planned_start=timezone.now(), engineers=[])
    assert FieldVisit.objects.get().status == "planned"
