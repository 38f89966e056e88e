"""Neglected accounts of any tier, and volume without profit, through the API and pages."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from keycare.accounts.tests.factories import AccountFactory, OrderFactory, ProductFactory
from keycare.service.models import Ticket
from keycare.service.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


def _api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_neglected_accounts_of_any_tier(executive):
    today = timezone.localdate()
    product = ProductFactory()
    served = AccountFactory(name="常联系", tier="iron")
    OrderFactory(account=served, order_date=today - dt.timedelta(days=10),
                 lines=[{"product": product, "quantity": 1}])  # fmt: skip
    forgotten = AccountFactory(name="久未联系", tier="platinum")
    OrderFactory(account=forgotten, order_date=today - dt.timedelta(days=200),
                 lines=[{"product": product, "quantity": 1}])  # fmt: skip
    old_ticket = TicketFactory(account=forgotten)
    Ticket.objects.filter(pk=old_ticket.pk).update(
        opened_at=timezone.now() - dt.timedelta(days=120)
    )
    recent_ticket_only = AccountFactory(name="刚报修", tier="lead")
    TicketFactory(account=recent_ticket_only)
    never = AccountFactory(name="从未服务", tier="")
    AccountFactory(name="已流失", status="lost")
    body = _api(executive).get("/api/v1/insights/neglected/").json()
    assert [a["name"] for a in body["accounts"]] == ["从未服务", "久未联系"]
    forgotten_row = body["accounts"][1]
    assert forgotten_row["days_since"] == 120  # the ticket was the last contact
    assert body["by_tier"] == {"": 1, "platinum": 1}
    longer = _api(executive).get("/api/v1/insights/neglected/", {"days": 150}).json()
    assert [a["name"] for a in longer["accounts"]] == ["从未服务"]
    assert _api(executive).get("/api/v1/insights/neglected/", {"days": 0}).status_code == 400
    assert never.pk == body["accounts"][0]["account"]


def test_volume_without_profit(executive, client):
    for name, revenue, cost, service in [("大而不赚", 100_000, 95_000, 0), ("大且赚", 90_000, 50_000, 0),
                                         ("小而赚", 10_000, 4_000, 0), ("小", 8_000, 6_000, 1_000)]:  # fmt: skip
        account = AccountFactory(name=name)
        product = ProductFactory(list_price=Decimal(revenue), standard_cost=Decimal(cost))
        OrderFactory(account=account, order_date=timezone.localdate() - dt.timedelta(days=30),
                     lines=[{"product": product, "quantity": 1}])  # fmt: skip
        if service:
            ticket = TicketFactory(account=account)
            Ticket.objects.filter(pk=ticket.pk).update(labour_cost=service)
    body = _api(executive).get("/api/v1/insights/volume-profit/").json()
    assert [p["name"] for p in body["flagged"]] == ["大而不赚"]
    margins = {p["name"]: p["margin"] for p in body["points"]}
    assert margins == {"大而不赚": 5.0, "大且赚": 44.44, "小而赚": 60.0, "小": 12.5}
    client.force_login(executive)
    page = client.get(reverse("web:insights_volume_profit")).content.decode()
    assert "大而不赚" in page
    assert client.get(reverse("web:insights_neglected")).status_code == 200


def test_for_those_who_see_orders_only(engineer, portal_user, client):
    for user in (engineer, portal_user):
        for url in ("/api/v1/insights/neglected/", "/api/v1/insights/volume-profit/"):
            assert _api(user).get(url).status_code == 403
        client.force_login(user)
        assert client.get(reverse("web:insights_neglected")).status_code == 404


def test_small_accounts_served_below_the_floor(executive, kam, client):
    small = AccountFactory(name="小客户", tier="iron", owner=kam)
    big = AccountFactory(name="大客户", tier="platinum")
    untiered = AccountFactory(name="新客户", tier="")
    for account, states in ((small, ["breached", "met", "met", "met"]), (big, ["breached"]),
                            (untiered, ["met"])):  # fmt: skip
        for state in states:
            ticket = TicketFactory(account=account)
            Ticket.objects.filter(pk=ticket.pk).update(resolution_sla=state)
    old = TicketFactory(account=untiered)  # breached long ago: outside the window
    Ticket.objects.filter(pk=old.pk).update(
        resolution_sla="breached", opened_at=timezone.now() - dt.timedelta(days=200)
    )
    figures = _api(executive).get("/api/v1/insights/neglected/").json()
    assert figures["below_floor"] == [{"account": small.pk, "name": "小客户", "tier": "iron",
                                       "tickets": 4, "breached": 1, "met": 75.0}]  # fmt: skip
    client.force_login(kam)
    page = client.get(reverse("web:insights_neglected"))
    assert [a["name"] for a in page.context["figures"]["below_floor"]] == ["小客户"]
    assert 'data-testid="below-floor"' in page.content.decode()
