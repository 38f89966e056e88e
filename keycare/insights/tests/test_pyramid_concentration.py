"""The customer pyramid (with the reasons for lead accounts) and revenue concentration,
through the API, on known figures."""

import datetime as dt
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from keycare.accounts.tests.factories import AccountFactory, OrderFactory, ProductFactory
from keycare.service.models import Ticket
from keycare.service.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db
PERIOD = {"period_from": "2026-01-01", "period_to": "2026-12-31"}


def _sell(account, revenue, cost):
    product = ProductFactory(list_price=Decimal(revenue), standard_cost=Decimal(cost))
    OrderFactory(account=account, order_date=dt.date(2026, 5, 1),
                 lines=[{"product": product, "quantity": 1}])  # fmt: skip


@pytest.fixture
def book():
    accounts = {}
    for i, (revenue, cost) in enumerate([(30_000, 10_000), (30_000, 12_000), (20_000, 10_000),
                                         (20_000, 15_000)]):  # fmt: skip
        accounts[i] = AccountFactory(name=f"客户{i}")
        _sell(accounts[i], revenue, cost)
    below = AccountFactory(name="亏本客户")
    _sell(below, 1_000, 1_500)
    served = AccountFactory(name="服务费高")
    _sell(served, 2_000, 1_000)
    ticket = TicketFactory(account=served)
    Ticket.objects.filter(pk=ticket.pk).update(labour_cost=1_800)
    return accounts


def _get(user, url, params):
    client = APIClient()
    client.force_authenticate(user)
    return client.get(url, params)


def test_pyramid_tiers_and_lead_reasons(book, executive):
    body = _get(
        executive, "/api/v1/insights/pyramid/", {**PERIOD, "platinum": 25, "gold": 50}
    ).json()
    tiers = {a["name"]: a["tier"] for a in body["accounts"]}
    # profits: 20,000 / 18,000 / 10,000 / 5,000; four profitable → 1 platinum, 1 gold
    assert tiers == {"客户0": "platinum", "客户1": "gold", "客户2": "iron", "客户3": "iron",
                     "亏本客户": "lead", "服务费高": "lead"}  # fmt: skip
    assert body["tiers"]["lead"] == {"accounts": 2, "revenue": 3000.0, "profit": -1300.0}
    reasons = {x["name"]: x["reason"] for x in body["lead"]}
    assert "below cost" in reasons["亏本客户"]
    assert "cost to serve" in reasons["服务费高"]
    bad = _get(executive, "/api/v1/insights/pyramid/", {"platinum": 60, "gold": 30})
    assert bad.status_code == 400


def test_concentration(book, executive):
    body = _get(executive, "/api/v1/insights/concentration/", PERIOD).json()
    # revenue 30k, 30k, 20k, 20k, 1k, 2k of 103k
    shares = [30, 30, 20, 20, 1, 2]
    total = sum(shares)
    assert body["accounts"] == 6
    assert body["top_1_share"] == round(100 * 30 / total, 2)
    assert body["top_5_share"] == round(100 * 102 / total, 2)
    assert body["hhi"] == round(sum((100 * s / total) ** 2 for s in shares), 1)
    assert 0 < body["gini"] < 1


def test_only_for_those_who_see_orders(book, engineer, portal_user):
    for url in ("/api/v1/insights/pyramid/", "/api/v1/insights/concentration/"):
        assert _get(engineer, url, PERIOD).status_code == 403
        assert _get(portal_user, url, PERIOD).status_code == 403


def test_the_pages(client, book, executive, engineer):
    from django.urls import reverse

    client.force_login(executive)
    pyramid = client.get(reverse("web:insights_pyramid"), PERIOD).content.decode()
    assert 'data-testid="tier-lead">2<' in pyramid and "亏本客户" in pyramid
    concentration = client.get(reverse("web:insights_concentration"), PERIOD)
    assert concentration.status_code == 200
    assert concentration.context["figures"]["accounts"] == 6
    bad = client.get(reverse("web:insights_pyramid"), {"platinum": "lots"})
    assert 'data-testid="filter-errors"' in bad.content.decode()
    client.force_login(engineer)
    assert client.get(reverse("web:insights_pyramid")).status_code == 404
    assert client.get(reverse("web:insights_concentration")).status_code == 404
