"""The service desk in the browser-less web client: portal request, claim, work, resolve."""

import pytest
from django.urls import reverse

from keycare.accounts.choices import AccountTeamRole
from keycare.accounts.tests.factories import (
    AccountFactory,
    AccountTeamMemberFactory,
    ContactFactory,
)
from keycare.service.defaults import service_defaults_ensure
from keycare.service.models import Ticket
from keycare.service.tests.factories import TicketFactory, busy_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(kam, engineer, portal_user, other_kam):
    service_defaults_ensure()
    mine = AccountFactory(owner=kam, tier="gold", name="华鑫汽车")
    AccountTeamMemberFactory(account=mine, user=engineer, role=AccountTeamRole.SERVICE_LEAD)
    ContactFactory(account=mine, user=portal_user, name="赵磊")
    other = AccountFactory(owner=other_kam, name="远东钢铁")
    return {"mine": mine, "other": other}


def test_full_repair_case(client, setup, portal_user, engineer):
    client.force_login(portal_user)
    form = client.get(reverse("web:ticket_create"))
    assert [a.name for a in form.context["form"].fields["account"].queryset] == ["华鑫汽车"]
    response = client.post(reverse("web:ticket_create"), {
        "account": setup["mine"].pk, "ticket_type": "repair", "priority": "P2", "subject": "主轴异响",
    })  # fmt: skip
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and ticket.channel == "portal"
    page = client.get(reverse("web:ticket_detail", args=[ticket.pk])).content.decode()
    assert 'data-testid="resolution-due"' in page and 'data-testid="claim"' not in page

    client.force_login(engineer)
    url = reverse("web:ticket_detail", args=[ticket.pk])
    client.post(url, {"action": "claim"})
    client.post(url, {"action": "transition", "status": "in_progress"})
    client.post(url, {"action": "comment", "body": "明天上午到现场"})
    client.post(url, {"action": "comment", "body": "备件库存不足", "internal": "on"})
    bad = client.post(url, {"action": "transition", "status": "resolved", "resolution": ""})
    assert bad.status_code == 400
    client.post(
        url,
        {
            "action": "transition",
            "status": "resolved",
            "resolution": "更换轴承",
            "root_cause": "wear",
        },
    )
    ticket.refresh_from_db()
    assert (ticket.status, ticket.assignee, ticket.first_responded_at is not None) == (
        "resolved",
        engineer,
        True,
    )

    client.force_login(portal_user)
    page = client.get(url).content.decode()
    assert "明天上午到现场" in page and "备件库存不足" not in page


def test_customer_cannot_reach_another_accounts_ticket(client, setup, portal_user):
    theirs = TicketFactory(account=setup["other"])
    client.force_login(portal_user)
    assert client.get(reverse("web:ticket_detail", args=[theirs.pk])).status_code == 404
    assert (
        client.post(
            reverse("web:ticket_detail", args=[theirs.pk]), {"action": "comment", "body": "x"}
        ).status_code
        == 404
    )
    response = client.post(reverse("web:ticket_create"), {"account": setup["other"].pk, "subject": "x",
                                                          "ticket_type": "repair", "priority": "P3"})  # fmt: skip
    assert response.status_code == 400
    assert Ticket.objects.count() == 1


def test_forbidden_transition_shows_an_error(client, setup, admin_user):
    ticket = TicketFactory(account=setup["mine"])
    client.force_login(admin_user)
    response = client.post(
        reverse("web:ticket_detail", args=[ticket.pk]), {"action": "transition", "status": "new"}
    )
    assert response.status_code == 400
    assert "cannot go from" in response.content.decode()


def test_ticket_list_filters_and_query_count(
    client, setup, service_manager, django_assert_num_queries
):
    TicketFactory.create_batch(3, account=setup["mine"])
    client.force_login(service_manager)
    url = reverse("web:ticket_list")
    # session, user, roles, count, page
    with django_assert_num_queries(5) as small:
        client.get(url, {"open": "true"})
    TicketFactory.create_batch(20, account=setup["other"], priority="P1")
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(url, {"open": "true"})
    assert response.context["page"].paginator.count == 23
    p1 = client.get(url, {"priority": "P1"})
    assert p1.context["page"].paginator.count == 20


OPEN_BY_DUE = {"status": ["new", "assigned", "in_progress", "waiting_on_customer"],
               "ordering": "resolution_due_at"}  # fmt: skip


@pytest.mark.parametrize("who", ["admin_user", "kam"])
def test_the_open_queue_by_due_time_takes_five_queries(
    client, setup, who, request, django_assert_num_queries
):
    """The benchmark's list (the open statuses, by resolution due time), for an
    administrator and for a key account manager whose accounts limit the rows."""
    user = request.getfixturevalue(who)
    TicketFactory.create_batch(2, account=setup["mine"])
    TicketFactory(account=setup["other"])
    client.force_login(user)
    url = reverse("web:ticket_list")
    # session, user, roles, count, page
    with django_assert_num_queries(5):
        small = client.get(url, OPEN_BY_DUE)
    TicketFactory.create_batch(10, account=setup["mine"], priority="P1")
    TicketFactory.create_batch(10, account=setup["other"], priority="P2")
    with django_assert_num_queries(5):
        large = client.get(url, OPEN_BY_DUE)
    seen = {"admin_user": (3, 23), "kam": (2, 12)}[who]
    assert (small.context["page"].paginator.count, large.context["page"].paginator.count) == seen


def test_the_ticket_page_takes_a_fixed_number_of_queries(
    client, setup, admin_user, engineer, make_user
):
    """Whatever the number of replies, files, visits, engineers and parts: session, user,
    roles, the ticket (with its SLA policy), the engineers, the visits with their engineers
    and parts, the files, the replies, the parts in stock (a visit is still open) and the
    timeline."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(admin_user)
    counts = []
    for n, more in ((1, 0), (6, 3)):
        team = [engineer] + [make_user("service_engineer") for _ in range(more)]
        ticket = busy_ticket(account=setup["mine"], engineers=team, n=n)
        TicketFactory.create_batch(5 * n, account=setup["mine"])
        url = reverse("web:ticket_detail", args=[ticket.pk])
        with CaptureQueriesContext(connection) as captured:
            page = client.get(url)
        assert page.status_code == 200
        assert (len(page.context["comments"]), len(page.context["visits"])) == (n, n + 1)
        counts.append(len(captured))
    assert counts == [12, 12]


def test_visit_with_parts_on_the_ticket_page(client, setup, service_manager, engineer):
    from decimal import Decimal

    from keycare.accounts.tests.factories import ProductFactory
    from keycare.service.models import StockLevel, StockLocation

    part = ProductFactory(name="主轴轴承", standard_cost=Decimal("3900"))
    van = StockLocation.objects.create(name="二号车", kind="van", engineer=engineer)
    level = StockLevel.objects.create(location=van, product=part, quantity=Decimal("5"))
    ticket = TicketFactory(account=setup["mine"], assignee=engineer)
    url = reverse("web:ticket_detail", args=[ticket.pk])
    client.force_login(service_manager)
    client.post(
        url,
        {"action": "plan_visit", "planned_start": "2026-12-01T09:00", "engineers": [engineer.pk]},
    )
    visit = ticket.visits.get()
    assert list(visit.engineers.all()) == [engineer]
    client.force_login(engineer)
    client.post(url, {"action": "check_in", "visit": visit.pk})
    bad = client.post(
        url, {"action": "complete_visit", "visit": visit.pk, "work_done": "", "labour_hours": "2"}
    )
    assert bad.status_code == 400
    client.post(url, {"action": "complete_visit", "visit": visit.pk, "work_done": "更换轴承", "labour_hours": "2",
                      "travel_cost": "300", "stock": level.pk, "quantity": "1", "signed_off_by": "赵磊"})  # fmt: skip
    ticket.refresh_from_db()
    assert ticket.parts_cost == Decimal("3900.00") and ticket.travel_cost == Decimal("300.00")
    assert StockLevel.objects.get(pk=level.pk).quantity == 4
    page = client.get(url).content.decode()
    assert 'data-testid="cost-to-serve"' in page and "更换轴承" in page


def test_customers_see_neither_visits_nor_costs(client, setup, portal_user):
    ticket = TicketFactory(account=setup["mine"])
    client.force_login(portal_user)
    page = client.get(reverse("web:ticket_detail", args=[ticket.pk])).content.decode()
    assert 'data-testid="visits"' not in page and 'data-testid="cost-to-serve"' not in page


def test_dashboard_page_and_api_show_the_same_figures(
    client, setup, service_manager, portal_user, admin_user
):
    from rest_framework.test import APIClient

    from keycare.service import services

    TicketFactory.create_batch(2, account=setup["mine"], priority="P1")
    done = TicketFactory(account=setup["other"])
    services.ticket_transition(actor=admin_user, ticket=done, status="resolved", resolution="好了")
    client.force_login(service_manager)
    page = client.get(reverse("web:ticket_dashboard"))
    assert page.status_code == 200
    api = APIClient()
    api.force_authenticate(service_manager)
    figures = api.get("/api/v1/service/dashboard/").json()
    assert page.context["figures"]["open"] == figures["open"] == 2
    assert figures["by_priority"]["P1"] == 2
    assert figures["sla_compliance"][-1]["resolved"] == 1
    assert page.context["figures"]["sla_compliance"] == figures["sla_compliance"]
    assert api.get("/api/v1/service/dashboard/?priority=P3").json()["open"] == 0
    client.force_login(portal_user)
    assert client.get(reverse("web:ticket_dashboard")).status_code == 404
    api.force_authenticate(portal_user)
    assert api.get("/api/v1/service/dashboard/").status_code == 403
