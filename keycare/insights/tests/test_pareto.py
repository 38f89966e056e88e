"""Pareto / ABC through the selector, the API and the page, on the reference vector, with
per-role scope and bad input."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from keycare.accounts.tests.factories import AccountFactory, OrderFactory, ProductFactory

pytestmark = pytest.mark.django_db
VALUES = [27_000, 24_000, 18_000, 16_000, 6_000, 5_000, 4_000]
PERIOD = {"period_from": "2026-01-01", "period_to": "2026-12-31", "cutoff_a": 70, "cutoff_b": 90}


@pytest.fixture
def accounts(kam, other_kam):
    made = []
    product = ProductFactory(list_price=Decimal("1000"), standard_cost=Decimal("600"))
    for i, value in enumerate(VALUES):
        account = AccountFactory(name=f"客户{i + 1}", owner=kam if i % 2 == 0 else other_kam)
        OrderFactory(account=account, order_date=dt.date(2026, 4, 1),
                     lines=[{"product": product, "quantity": value // 1000}])  # fmt: skip
        made.append(account)
    return made


def _api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_reference_vector_through_the_api(accounts, executive):
    body = _api(executive).get("/api/v1/insights/pareto/", PERIOD).json()
    revenue = body["revenue"]
    assert [r["abc"] for r in revenue["rows"]] == ["A", "A", "A", "A", "B", "C", "C"]
    assert [r["value"] for r in revenue["rows"]] == [float(v) for v in VALUES]
    assert revenue["classes"]["A"] == {"accounts": 4, "share_of_accounts": 57.1, "share": 85.0,
                                       "value": 85000.0}  # fmt: skip
    assert revenue["total"] == 100000.0
    assert revenue["top_20_share"] == 27.0  # 20% of 7 accounts rounds to the largest one
    # gross profit is 40% of each: the same ranking
    assert [r["abc"] for r in body["gross_profit"]["rows"]] == ["A", "A", "A", "A", "B", "C", "C"]


def test_scope_per_role(accounts, kam, engineer, portal_user, admin_user):
    mine = _api(kam).get("/api/v1/insights/pareto/", PERIOD).json()
    assert [r["name"] for r in mine["revenue"]["rows"]] == ["客户1", "客户3", "客户5", "客户7"]
    assert mine["revenue"]["rows"][0]["abc"] == "A"
    for user in (engineer, portal_user):
        assert _api(user).get("/api/v1/insights/pareto/").status_code == 403
    assert APIClient().get("/api/v1/insights/pareto/").status_code in (401, 403)
    assert _api(admin_user).get("/api/v1/insights/pareto/", PERIOD).json()["accounts"] == 7


@pytest.mark.parametrize(
    "bad",
    [{"period_from": "2026-02-30"}, {"period_from": "2026-06-01", "period_to": "2026-01-01"},
     {"cutoff_a": 96, "cutoff_b": 90}, {"cutoff_a": "many"}, {"level": "planet"}],
)  # fmt: skip
def test_bad_input_is_a_400(accounts, executive, bad):
    response = _api(executive).get("/api/v1/insights/pareto/", bad)
    assert response.status_code == 400
    assert response.json()["message"]


def test_the_page(client, accounts, executive, engineer):
    client.force_login(executive)
    page = client.get(reverse("web:insights_pareto"), PERIOD)
    assert page.status_code == 200
    body = page.content.decode()
    assert 'data-testid="class-revenue-A">4<' in body and "客户5" in body
    wrong = client.get(reverse("web:insights_pareto"), {"cutoff_a": "x"})
    assert wrong.status_code == 200 and 'data-testid="filter-errors"' in wrong.content.decode()
    client.force_login(engineer)
    assert client.get(reverse("web:insights_pareto")).status_code == 404
