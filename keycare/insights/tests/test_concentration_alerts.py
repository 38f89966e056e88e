"""Concentration alerts (each threshold of the settings that is exceeded) and the trend over
the last five calendar years, read from the stored metrics of each year; through the
selector, the API and the pages (with the alert summary on the Pareto page)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from keycare.accounts.tests.factories import AccountFactory, OrderFactory, ProductFactory
from keycare.insights.metrics import metrics_ensure
from keycare.insights.models import AccountMetric
from keycare.insights.selectors import concentration_analysis, concentration_periods
from keycare.insights.settings import insights_settings_update

pytestmark = pytest.mark.django_db
PERIOD = {"period_from": "2026-01-01", "period_to": "2026-12-31"}


def _sell(account, revenue, year):
    product = ProductFactory(list_price=Decimal(revenue), standard_cost=Decimal(revenue // 2))
    OrderFactory(account=account, order_date=dt.date(year, 5, 1),
                 lines=[{"product": product, "quantity": 1}])  # fmt: skip


@pytest.fixture
def book():
    """Four groups: 2024 sells 30/30/20/20, 2025 50/50/0/0, 2026 40/30/20/10 (thousands);
    2022 and 2023 sell nothing."""
    accounts = [AccountFactory(name=f"集团{i}") for i in range(4)]
    for year, revenues in ((2024, (30_000, 30_000, 20_000, 20_000)),
                           (2025, (50_000, 50_000, 0, 0)),
                           (2026, (40_000, 30_000, 20_000, 10_000))):  # fmt: skip
        for account, revenue in zip(accounts, revenues, strict=True):
            if revenue:
                _sell(account, revenue, year)
    return accounts


def _ensure(filters):
    for start, end in concentration_periods(filters):
        metrics_ensure(start=start, end=end)


def _api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_periods_are_the_selected_one_and_five_calendar_years():
    assert concentration_periods(PERIOD) == [
        (dt.date(2026, 1, 1), dt.date(2026, 12, 31)), (dt.date(2022, 1, 1), dt.date(2022, 12, 31)),
        (dt.date(2023, 1, 1), dt.date(2023, 12, 31)), (dt.date(2024, 1, 1), dt.date(2024, 12, 31)),
        (dt.date(2025, 1, 1), dt.date(2025, 12, 31)),
    ]  # fmt: skip
    half = concentration_periods({"period_from": "2025-07-01", "period_to": "2026-06-30"})
    assert half[0] == (dt.date(2025, 7, 1), dt.date(2026, 6, 30))
    assert [p[0].year for p in half[1:]] == [2022, 2023, 2024, 2025, 2026]


def test_alerts_exact_on_shares_30_30_20_20(book, executive, admin_user):
    filters = {"period_from": "2024-01-01", "period_to": "2024-12-31"}
    _ensure(filters)
    body = concentration_analysis(actor=executive, filters=filters)
    assert (body["top_1_share"], body["top_5_share"], body["hhi"]) == (30.0, 100.0, 2600.0)
    assert body["thresholds"] == {"top_1_share": 20.0, "top_5_share": 50.0, "hhi": 1500.0}
    assert body["alerts"] == [
        {"figure": "top_1_share", "value": 30.0, "threshold": 20.0,
         "message": "The largest account brings 30% of the revenue, more than the alert "
                    "threshold of 20%."},
        {"figure": "top_5_share", "value": 100.0, "threshold": 50.0,
         "message": "The five largest accounts bring 100% of the revenue, more than the alert "
                    "threshold of 50%."},
        {"figure": "hhi", "value": 2600.0, "threshold": 1500.0,
         "message": "The Herfindahl–Hirschman index is 2600, above the alert threshold of 1500."},
    ]  # fmt: skip
    # at the threshold is no alert; the thresholds come from the settings
    insights_settings_update(
        actor=admin_user, lock_version=1,
        data={"alert_top_1": Decimal("30"), "alert_top_5": Decimal("100"), "alert_hhi": 2599},
    )  # fmt: skip
    body = concentration_analysis(actor=executive, filters=filters)
    assert [(a["figure"], a["threshold"]) for a in body["alerts"]] == [("hhi", 2599.0)]


def test_the_trend_per_year_exact(book, executive):
    _ensure(PERIOD)
    with_trend = concentration_analysis(actor=executive, filters=PERIOD)
    trend = {r["label"]: r for r in with_trend["trend"]}
    assert list(trend) == ["2022", "2023", "2024", "2025", "2026"]
    figures = ("accounts", "top_1_share", "top_5_share", "top_10_share", "hhi", "gini")
    assert {k: trend["2022"][k] for k in figures} == {
        "accounts": 4, "top_1_share": None, "top_5_share": None, "top_10_share": None,
        "hhi": None, "gini": None}  # fmt: skip
    assert trend["2023"]["exceeded"] == [] and trend["2023"]["hhi"] is None
    assert {k: trend["2024"][k] for k in figures} == {
        "accounts": 4, "top_1_share": 30.0, "top_5_share": 100.0, "top_10_share": 100.0,
        "hhi": 2600.0, "gini": 0.1}  # fmt: skip
    assert {k: trend["2025"][k] for k in figures} == {
        "accounts": 4, "top_1_share": 50.0, "top_5_share": 100.0, "top_10_share": 100.0,
        "hhi": 5000.0, "gini": 0.5}  # fmt: skip
    assert {k: trend["2026"][k] for k in figures} == {
        "accounts": 4, "top_1_share": 40.0, "top_5_share": 100.0, "top_10_share": 100.0,
        "hhi": 3000.0, "gini": 0.25}  # fmt: skip
    assert trend["2024"]["exceeded"] == ["top_1_share", "top_5_share", "hhi"]
    # the period asked for is 2026: that year is marked, not repeated
    assert [r["selected"] for r in with_trend["trend"]] == [False, False, False, False, True]
    assert (trend["2026"]["from"], trend["2026"]["to"]) == ("2026-01-01", "2026-12-31")


def test_a_period_that_is_not_a_calendar_year_comes_last(book, executive):
    filters = {"period_from": "2025-01-01", "period_to": "2026-12-31"}
    _ensure(filters)
    trend = concentration_analysis(actor=executive, filters=filters)["trend"]
    assert [r["label"] for r in trend] == ["2022", "2023", "2024", "2025", "2026",
                                           "2025-01-01 – 2026-12-31"]  # fmt: skip
    last = trend[-1]
    # two years: 90/80/20/10 of 200 → 45, 40, 10, 5
    assert (last["selected"], last["top_1_share"], last["hhi"]) == (True, 45.0, 3750.0)


def test_a_fixed_number_of_queries_per_year(book, executive, django_assert_num_queries):
    _ensure(PERIOD)
    concentration_analysis(actor=executive, filters=PERIOD)  # the user's roles, once
    # settings, then one query per period: the selected one (2026) and the four other years
    with django_assert_num_queries(6):
        concentration_analysis(actor=executive, filters=PERIOD)
    for i in range(10):
        _sell(AccountFactory(name=f"新{i}"), 1_000, 2025)
    from keycare.insights.metrics import metrics_recompute

    metrics_recompute(start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31))
    concentration_analysis(actor=executive, filters=PERIOD)  # the user's roles, read again
    with django_assert_num_queries(6):
        concentration_analysis(actor=executive, filters=PERIOD)


def test_the_api_computes_the_years_and_returns_alerts_and_trend(book, executive, kam, engineer):
    assert not AccountMetric.objects.filter(period_start=dt.date(2022, 1, 1)).exists()
    body = _api(executive).get("/api/v1/insights/concentration/", PERIOD).json()
    assert [r["label"] for r in body["trend"]] == ["2022", "2023", "2024", "2025", "2026"]
    assert body["trend"][2]["hhi"] == 2600.0
    assert [a["figure"] for a in body["alerts"]] == ["top_1_share", "top_5_share", "hhi"]
    # the years with no orders are stored too (empty rows)
    assert AccountMetric.objects.filter(period_start=dt.date(2022, 1, 1)).count() == 8
    # a key account manager sees only their accounts: none here
    mine = _api(kam).get("/api/v1/insights/concentration/", PERIOD).json()
    assert (mine["accounts"], mine["alerts"], mine["trend"][2]["accounts"]) == (0, [], 0)
    assert _api(engineer).get("/api/v1/insights/concentration/", PERIOD).status_code == 403


def test_the_page_shows_the_alerts_and_the_trend(client, book, service_manager, engineer):
    client.force_login(service_manager)
    page = client.get(reverse("web:insights_concentration"), PERIOD)
    html = page.content.decode()
    assert page.status_code == 200
    for figure in ("top_1_share", "top_5_share", "hhi"):
        assert f'data-testid="concentration-alert-{figure}"' in html
    assert "The largest account brings 40% of the revenue" in html
    assert html.count('data-testid="trend-row"') == 5
    chart = page.context["trend_chart"]
    assert chart["labels"] == ["2022", "2023", "2024", "2025", "2026"]
    assert [s["values"] for s in chart["series"]][3] == [None, None, 2600.0, 5000.0, 3000.0]
    assert 'data-chart="trend"' in html
    client.force_login(engineer)
    assert client.get(reverse("web:insights_concentration"), PERIOD).status_code == 404


def test_the_export_has_the_trend(client, book, executive):
    import io

    from openpyxl import load_workbook

    client.force_login(executive)
    response = client.get(reverse("web:insights_concentration"), {**PERIOD, "export": "xlsx"})
    book_ = load_workbook(io.BytesIO(b"".join(response.streaming_content)
                                      if response.streaming else response.content))  # fmt: skip
    assert "Trend" in book_.sheetnames


def test_the_pareto_page_sums_up_the_alerts(client, book, service_manager):
    client.force_login(service_manager)
    html = client.get(reverse("web:insights_pareto"), PERIOD).content.decode()
    assert 'data-testid="alert-concentration"' in html
    assert "3 concentration alerts" in html
    # every account last ordered in 2026-05 at the latest: more than 90 days before today
    assert 'data-testid="alert-neglected"' in html
    assert "4 accounts without contact for 90 days" in html
