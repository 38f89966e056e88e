"""Account metrics: one period's figures per account, own and rolled up over branches, the
previous period's growth, service cost and satisfaction, the recompute command, and scope."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from keycare.accounts.tests.factories import AccountFactory, OrderFactory, ProductFactory
from keycare.core.scoping import restrict
from keycare.insights.metrics import metrics_recompute, trailing_twelve_months
from keycare.insights.models import AccountMetric
from keycare.service.models import Ticket
from keycare.service.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db
START, END = dt.date(2026, 1, 1), dt.date(2026, 12, 31)


def _order(account, day, price, quantity=1):
    product = ProductFactory(
        list_price=Decimal(price), standard_cost=Decimal(price) * Decimal("0.6")
    )
    return OrderFactory(
        account=account, order_date=day, lines=[{"product": product, "quantity": quantity}]
    )


@pytest.fixture
def group():
    hq = AccountFactory(name="集团")
    plant = AccountFactory(name="工厂", parent=hq)
    other = AccountFactory(name="别家")
    _order(hq, dt.date(2026, 2, 1), 10_000)
    _order(plant, dt.date(2026, 5, 1), 30_000)
    _order(plant, dt.date(2026, 6, 1), 20_000)
    _order(plant, dt.date(2025, 6, 1), 25_000)  # the previous period
    _order(hq, dt.date(2024, 1, 10), 1_000)  # first order, long ago
    ticket = TicketFactory(account=plant)
    Ticket.objects.filter(pk=ticket.pk).update(labour_cost=300, parts_cost=200, travel_cost=100)
    return {"hq": hq, "plant": plant, "other": other}


def test_own_and_group_figures(group):
    rows = metrics_recompute(start=START, end=END)
    assert rows == 6  # three accounts × own and group
    m = {(r.account.name, r.scope): r for r in AccountMetric.objects.select_related("account")}
    plant = m[("工厂", "own")]
    assert (plant.revenue, plant.gross_profit, plant.orders) == (
        Decimal("50000"),
        Decimal("20000"),
        2,
    )
    assert (plant.largest_order, plant.average_order) == (Decimal("30000"), Decimal("25000"))
    assert (plant.previous_revenue, plant.growth) == (Decimal("25000"), Decimal("100.00"))
    assert (plant.cost_to_serve, plant.tickets) == (Decimal("600"), 1)
    # counted up to the end of the period, or up to today when the period ends later
    last = plant.last_order
    assert (plant.first_order, plant.recency_days) == (
        dt.date(2025, 6, 1), (min(END, timezone.localdate()) - last).days)  # fmt: skip
    hq_own, hq_group = m[("集团", "own")], m[("集团", "group")]
    assert (hq_own.revenue, hq_own.tenure_days) == (
        Decimal("10000"),
        (min(END, timezone.localdate()) - dt.date(2024, 1, 10)).days,
    )
    assert (hq_group.revenue, hq_group.orders, hq_group.largest_order) == (
        Decimal("60000"),
        3,
        Decimal("30000"),
    )
    assert (hq_group.first_order, hq_group.last_order) == (
        dt.date(2024, 1, 10),
        dt.date(2026, 6, 1),
    )
    assert hq_group.cost_to_serve == Decimal("600")
    assert (m[("别家", "own")].revenue, m[("别家", "own")].growth) == (Decimal("0"), None)
    assert m[("工厂", "own")].order_frequency == Decimal(
        "0.167"
    )  # 2 orders in 365 days (11.99 months)


def test_recompute_replaces_the_period_and_keeps_others(group):
    metrics_recompute(start=START, end=END)
    metrics_recompute(start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31))
    _order(group["other"], dt.date(2026, 7, 1), 5_000)
    assert metrics_recompute(start=START, end=END) == 6
    assert AccountMetric.objects.count() == 12
    other = AccountMetric.objects.get(account=group["other"], scope="own", period_start=START)
    assert other.revenue == Decimal("5000")


def test_the_command_and_its_errors(group):
    out = io.StringIO()
    call_command("insights", "recompute", "--period", "2026", "--no-progress", stdout=out)
    assert "6 metric rows for 2026-01-01 to 2026-12-31" in out.getvalue()
    call_command("insights", "recompute", "--period", "2026-03-01:2026-05-31", "--no-progress",
                 stdout=io.StringIO())  # fmt: skip
    assert AccountMetric.objects.filter(period_start=dt.date(2026, 3, 1)).count() == 6
    before = AccountMetric.objects.count()
    for bad in ("last-year", "2026-05-01:2026-01-01", "2026-13-01:2026-12-01"):
        with pytest.raises(CommandError):
            call_command("insights", "recompute", "--period", bad, "--no-progress")
    assert AccountMetric.objects.count() == before


def test_trailing_twelve_months():
    assert trailing_twelve_months(dt.date(2026, 12, 2)) == (
        dt.date(2025, 12, 3),
        dt.date(2026, 12, 2),
    )
    assert trailing_twelve_months(dt.date(2028, 2, 29)) == (
        dt.date(2027, 3, 1),
        dt.date(2028, 2, 29),
    )


@pytest.mark.parametrize(
    ("role", "sees"),
    [("admin_user", 6), ("executive", 6), ("kam", 2), ("engineer", 0), ("portal_user", 0)],
)
def test_only_those_who_see_orders_see_metrics(request, group, role, sees):
    from keycare.accounts.tests.factories import ContactFactory

    user = request.getfixturevalue(role)
    group["other"].owner = request.getfixturevalue("kam")
    group["other"].save(update_fields=["owner"])
    ContactFactory(account=group["other"], user=request.getfixturevalue("portal_user"))
    metrics_recompute(start=START, end=END)
    assert restrict(AccountMetric.objects.all(), user).count() == sees


def test_earlier_trailing_periods_are_pruned(group, admin_user):
    from django.utils import timezone

    from keycare.insights.metrics import metric_periods, metrics_prune_trailing
    from keycare.insights.models import AccountScore
    from keycare.insights.scorecard import scorecard_active, scores_compute
    from keycare.insights.ticks import refresh

    today = timezone.localdate()
    yesterday = trailing_twelve_months(today - dt.timedelta(days=1))
    keep = [
        (dt.date(2025, 1, 1), dt.date(2025, 12, 31)),
        (dt.date(2026, 3, 1), dt.date(2026, 5, 31)),
    ]
    for start, end in [yesterday, *keep]:
        metrics_recompute(start=start, end=end)
    scores_compute(scorecard=scorecard_active(), start=yesterday[0], end=yesterday[1])
    first = refresh()
    # a new day: tiers applied from the tier source (each change recorded), CLV refitted
    from keycare.insights.models import TierChange

    changed = TierChange.objects.count()
    assert first == f"metrics computed; scores computed; {changed} tiers changed; CLV fitted"
    assert changed > 0
    assert metric_periods() == sorted([*keep, trailing_twelve_months(today)])
    assert not AccountScore.objects.filter(period_end=yesterday[1]).exists()
    assert refresh() == "metrics up to date; scores up to date"
    assert metrics_prune_trailing() == []


def test_growth_from_a_tiny_previous_revenue_does_not_overflow():
    from keycare.insights.metrics import GROWTH_LIMIT, _growth

    assert _growth(Decimal("1000000"), Decimal("0.01")) == GROWTH_LIMIT
    assert _growth(Decimal("150"), Decimal("100")) == Decimal("50.00")
    assert _growth(Decimal("150"), Decimal("0")) is None


def test_an_order_dated_after_today_counts_as_recent():
    today = timezone.localdate()
    account = AccountFactory(name="预约客户")
    product = ProductFactory(list_price=Decimal(1000), standard_cost=Decimal(500))
    OrderFactory(account=account, order_date=today + dt.timedelta(days=10),
                 lines=[{"product": product, "quantity": 1}])  # fmt: skip
    metrics_recompute(start=today - dt.timedelta(days=30), end=today + dt.timedelta(days=30))
    row = AccountMetric.objects.get(account=account, scope="own")
    assert (row.orders, row.recency_days, row.tenure_days) == (1, 0, 0)


def test_only_the_latest_asked_for_ranges_stay_stored(monkeypatch):
    from keycare.insights import metrics
    from keycare.insights.metrics import metric_periods, metrics_ensure

    monkeypatch.setattr(metrics, "ADHOC_PERIODS_KEPT", 2)
    OrderFactory(account=AccountFactory(), order_date=dt.date(2025, 5, 1),
                 lines=[{"product": ProductFactory(), "quantity": 1}])  # fmt: skip
    year = (dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    ranges = [(dt.date(2026, m, 1), dt.date(2026, m, 28)) for m in (1, 2, 3)]
    metrics_ensure(start=year[0], end=year[1])
    for start, end in ranges:
        metrics_ensure(start=start, end=end)
    # the calendar year stays; of the three ranges the two computed last
    assert metric_periods() == sorted([year, *ranges[1:]])


@pytest.mark.parametrize(
    ("start", "end"), [("0001-01-01", "0001-12-31"), ("1989-12-31", "1990-06-30"),
                       ("2026-01-01", "2099-12-31")],
)  # fmt: skip
def test_periods_outside_any_business_history_are_refused(start, end):
    from django.core.exceptions import ValidationError

    from keycare.insights.selectors import insights_period

    with pytest.raises(ValidationError) as error:
        insights_period({"period_from": start, "period_to": end})
    assert "Choose dates from 1990-01-01 to" in str(error.value)


def test_calendar_years_outside_the_order_history_are_not_kept_for_good(monkeypatch):
    from keycare.insights import metrics
    from keycare.insights.metrics import metric_periods, metrics_ensure

    monkeypatch.setattr(metrics, "ADHOC_PERIODS_KEPT", 1)
    account = AccountFactory()
    product = ProductFactory()
    OrderFactory(account=account, order_date=dt.date(2024, 3, 1),
                 lines=[{"product": product, "quantity": 1}])  # fmt: skip
    for year in (1995, 1996, 2024, 2025):
        metrics_ensure(start=dt.date(year, 1, 1), end=dt.date(year, 12, 31))
    # the years of the order history stay; of the years before it only the latest asked for
    assert [p[0].year for p in metric_periods()] == [1996, 2024, 2025]


def test_growth_year_over_year_compares_the_same_dates_a_year_before():
    account = AccountFactory(name="季度客户")
    product = ProductFactory(list_price=Decimal(1000), standard_cost=Decimal(500))
    for day, quantity in ((dt.date(2025, 2, 10), 2), (dt.date(2025, 11, 5), 8),
                          (dt.date(2026, 2, 12), 3)):  # fmt: skip
        OrderFactory(account=account, order_date=day,
                     lines=[{"product": product, "quantity": quantity}])  # fmt: skip
    metrics_recompute(start=dt.date(2026, 1, 1), end=dt.date(2026, 3, 31))
    row = AccountMetric.objects.get(account=account, scope="own")
    # against the quarter before (Q4 2025: 8,000) and against Q1 2025 (2,000)
    assert (row.revenue, row.previous_revenue, row.growth) == (
        Decimal("3000.00"), Decimal("8000.00"), Decimal("-62.50"))  # fmt: skip
    assert (row.year_ago_revenue, row.growth_yoy) == (Decimal("2000.00"), Decimal("50.00"))
