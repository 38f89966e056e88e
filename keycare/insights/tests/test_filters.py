"""The region (province) and industry filters of the analyses: applied once, in metric_list
(and the neglect list), narrowing every analysis exactly; bad input is a clear message."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from keycare.accounts.tests.factories import AccountFactory, OrderFactory, ProductFactory
from keycare.insights.metrics import metrics_ensure
from keycare.insights.selectors import (
    concentration_analysis,
    insights_account_filters,
    insights_filter_choices,
    neglected_accounts,
    pareto_analysis,
    pyramid_analysis,
    volume_profit,
)

pytestmark = pytest.mark.django_db
PERIOD = {"period_from": "2026-01-01", "period_to": "2026-12-31"}


def _sell(account, revenue, cost):
    product = ProductFactory(list_price=Decimal(revenue), standard_cost=Decimal(cost))
    OrderFactory(account=account, order_date=dt.date(2026, 3, 1),
                 lines=[{"product": product, "quantity": 1}])  # fmt: skip


@pytest.fixture
def book(kam):
    made = {}
    for name, province, industry, revenue, cost in [
        ("苏一", "江苏省", "汽车制造", 50_000, 20_000), ("苏二", "江苏省", "电子", 30_000, 10_000),
        ("粤一", "广东省", "汽车制造", 40_000, 30_000), ("粤二", "广东省", "电子", 20_000, 25_000),
        ("浙一", "浙江省", "汽车制造", 10_000, 5_000),
    ]:  # fmt: skip
        made[name] = AccountFactory(name=name, province=province, industry=industry,
                                    owner=kam if province == "江苏省" else None)  # fmt: skip
        _sell(made[name], revenue, cost)
    metrics_ensure(start=dt.date(2026, 1, 1), end=dt.date(2026, 12, 31))
    return made


def _names(rows):
    return [r["name"] for r in rows]


def test_the_region_narrows_every_analysis_exactly(book, executive):
    guangdong = {**PERIOD, "province": "广东省"}
    pareto = pareto_analysis(actor=executive, filters=guangdong)
    assert pareto["accounts"] == 2
    assert _names(pareto["revenue"]["rows"]) == ["粤一", "粤二"]
    assert [r["share"] for r in pareto["revenue"]["rows"]] == [66.67, 33.33]
    pyramid = pyramid_analysis(actor=executive, filters=guangdong)
    assert {a["name"]: a["tier"] for a in pyramid["accounts"]} == {"粤一": "platinum",
                                                                   "粤二": "lead"}  # fmt: skip
    assert concentration_analysis(actor=executive, filters={**guangdong, "level": "account"}) \
        ["top_1_share"] == 66.67  # fmt: skip
    assert _names(volume_profit(actor=executive, filters=guangdong)["points"]) == ["粤一", "粤二"]
    everyone = pareto_analysis(actor=executive, filters=PERIOD)
    assert everyone["accounts"] == 5


def test_region_and_industry_combine(book, executive):
    both = {**PERIOD, "province": "江苏省", "industry": "电子"}
    assert _names(pareto_analysis(actor=executive, filters=both)["revenue"]["rows"]) == ["苏二"]
    cars = {**PERIOD, "industry": "汽车制造"}
    assert _names(pareto_analysis(actor=executive, filters=cars)["revenue"]["rows"]) == [
        "苏一", "粤一", "浙一"]  # fmt: skip


def test_a_value_no_account_has_matches_nothing(book, executive):
    nowhere = pareto_analysis(actor=executive, filters={**PERIOD, "province": "火星省"})
    assert nowhere["accounts"] == 0 and nowhere["revenue"]["rows"] == []


def test_the_group_level_filters_on_the_group(executive):
    hq = AccountFactory(name="集团", province="上海市")
    plant = AccountFactory(name="工厂", province="安徽省", parent=hq)
    _sell(hq, 10_000, 5_000)
    _sell(plant, 20_000, 5_000)
    metrics_ensure(start=dt.date(2026, 1, 1), end=dt.date(2026, 12, 31))
    groups = {**PERIOD, "level": "group"}
    shanghai = pareto_analysis(actor=executive, filters={**groups, "province": "上海市"})
    assert [(r["name"], r["value"]) for r in shanghai["revenue"]["rows"]] == [("集团", 30000.0)]
    assert pareto_analysis(actor=executive, filters={**groups, "province": "安徽省"})[
        "accounts"] == 0  # fmt: skip


@pytest.mark.parametrize(
    ("bad", "field"),
    [({"province": "省" * 31}, "province"), ({"industry": "x" * 61}, "industry"),
     ({"province": "江苏\x00省"}, "province"), ({"industry": "汽车\n制造"}, "industry")],
)  # fmt: skip
def test_garbage_is_a_clear_message(bad, field):
    with pytest.raises(ValidationError) as raised:
        insights_account_filters(bad)
    assert list(raised.value.message_dict) == [field]
    assert "at most" in raised.value.message_dict[field][0]


def test_bad_filters_are_a_400_through_the_api(book, executive):
    client = APIClient()
    client.force_authenticate(executive)
    for url in ("/api/v1/insights/pareto/", "/api/v1/insights/pyramid/",
                "/api/v1/insights/concentration/", "/api/v1/insights/volume-profit/",
                "/api/v1/insights/neglected/"):  # fmt: skip
        response = client.get(url, {**PERIOD, "province": "省" * 31})
        assert response.status_code == 400, url
        assert response.json()["extra"]["fields"]["province"] == [
            "Choose a region from the list (at most 30 characters)."]  # fmt: skip
    ok = client.get("/api/v1/insights/pareto/", {**PERIOD, "province": "  江苏省 "}).json()
    assert _names(ok["revenue"]["rows"]) == ["苏一", "苏二"]


def test_neglected_accounts_filter_by_region_and_industry(executive):
    AccountFactory(name="苏州无人问", province="江苏省", industry="电子")
    AccountFactory(name="广州无人问", province="广东省", industry="电子")
    AccountFactory(name="广州车企", province="广东省", industry="汽车制造")
    filtered = neglected_accounts(actor=executive, filters={"province": "广东省"})
    assert _names(filtered["accounts"]) == ["广州无人问", "广州车企"]
    both = neglected_accounts(actor=executive, filters={"province": "广东省", "industry": "电子"})
    assert _names(both["accounts"]) == ["广州无人问"]
    with pytest.raises(ValidationError):
        neglected_accounts(actor=executive, filters={"industry": "x" * 61})


def test_the_choices_are_those_of_the_visible_accounts(
    book, executive, kam, django_assert_num_queries
):
    insights_filter_choices(actor=executive)  # the user's roles are read once per request
    with django_assert_num_queries(2):
        choices = insights_filter_choices(actor=executive)
    assert choices == {"province": ["广东省", "江苏省", "浙江省"], "industry": ["汽车制造", "电子"]}
    assert insights_filter_choices(actor=kam) == {"province": ["江苏省"],
                                                  "industry": ["汽车制造", "电子"]}  # fmt: skip
