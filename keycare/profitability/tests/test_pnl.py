"""The account P&L on a hand-computed example with every cost driver, the rate history, the
roll-ups and the whale curve on a vector whose peak was computed by hand."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from keycare.accounts.choices import AccountTeamRole, AccountTier
from keycare.accounts.models import Order
from keycare.accounts.tests.factories import (
    AccountFactory,
    AccountTeamMemberFactory,
    OrderFactory,
    ProductFactory,
)
from keycare.core.exceptions import PermissionDeniedError
from keycare.profitability import pnl as pnl_module
from keycare.profitability.calculations import Pnl, whale_curve
from keycare.profitability.models import Concession, CostRate
from keycare.profitability.pnl import (
    account_pnl,
    cost_source,
    pnl_compute,
    pnl_report,
    whale_curve_report,
)
from keycare.profitability.rates import cost_rate_create, rate_from_pool
from keycare.service.models import FieldVisit, Ticket
from keycare.service.tests.factories import TicketFactory
from keycare.service.visits import visit_complete, visit_plan

D = Decimal
YEAR = {"period_from": "2026-01-01", "period_to": "2026-12-31"}
START, END = dt.date(2026, 1, 1), dt.date(2026, 12, 31)


def at(day: str, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.fromisoformat(day).replace(hour=hour))


def sell(account, *, day="2026-03-15", list_price="10000", net_price="9000", cost="6000",
         quantity="2", rebate=None, number=None):  # fmt: skip
    product = ProductFactory(list_price=D(list_price), standard_cost=D(cost))
    lines = [{"product": product, "quantity": D(quantity), "net_price": D(net_price)}]
    if rebate:
        lines.append({"line_type": "rebate", "description": "年度返利", "quantity": D(1),
                      "list_price": D(rebate), "net_price": D(rebate), "unit_cost": D(0)})  # fmt: skip
    kwargs = {"number": number} if number else {}
    return OrderFactory(
        account=account, order_date=dt.date.fromisoformat(day), lines=lines, **kwargs
    )


def ticket(account, day, coverage="unknown", **costs):
    t = TicketFactory(account=account, opened_at=at(day))
    Ticket.objects.filter(pk=t.pk).update(coverage=coverage, **costs)
    return t


def done_visit(t, engineer, day, hours="0", travel="0"):
    visit = visit_plan(actor=None, ticket=t, planned_start=at(day, 9), engineers=[engineer])
    return visit_complete(actor=None, visit=visit, work_done="更换主轴轴承", labour_hours=D(hours),
                          travel_cost=D(travel), at=at(day, 16))  # fmt: skip


def grant(account, kind, amount, day, **fields):
    from keycare.users.models import User

    requester = User.objects.filter(username="kam1").first() or User.objects.first()
    return Concession.objects.create(
        number=f"T-{Concession.objects.count() + 1}", account=account, kind=kind, status=fields.pop("status", "granted"),
        requested_by=requester, effective_date=dt.date.fromisoformat(day), reason="测试", amount=D(amount), **fields,
    )  # fmt: skip


@pytest.fixture
def rates(admin_user):
    hour = cost_rate_create(actor=admin_user, driver="engineer_hour", valid_from=START,
                            pool_cost=D("240000"), capacity=D("8500"), note="服务团队 ÷ 实际可用工时")  # fmt: skip
    cost_rate_create(actor=admin_user, driver="ticket", valid_from=START, rate=D("50"))
    cost_rate_create(actor=admin_user, driver="field_visit", valid_from=START, rate=D("120"))
    # a rate history: the change of 1 September was entered before that day (the service
    # refuses a change back-dated today, see test_a_change_of_rate_cannot_be_back_dated)
    CostRate.objects.create(driver="ticket", valid_from=dt.date(2026, 9, 1), rate=D("80"))
    return hour


def test_the_engineer_hour_rate_is_the_pool_cost_over_practical_capacity(rates):
    assert rate_from_pool(pool_cost=D("240000"), capacity=D("8500")) == D("28.24")
    assert rates.rate == D("28.24")


@pytest.mark.django_db
def test_pnl_with_every_cost_driver_computed_by_hand(rates, engineer, kam):
    """Hand-computed:
    order: 2 × list 10,000 sold at 9,000 (cost 6,000) and a 1,000 rebate →
      list 20,000 − discounts 2,000 − rebates 1,000 = revenue 17,000; COGS 12,000; GP 5,000.
    T1 (no coverage, 2026-04-01): a visit of 10 h at 28.24 = 282.40 labour, 300 travel,
      500 parts (recorded); handling 50; the visit 120.
    T2 (warranty, 2026-05-01): labour 400 + parts 600 + handling 50 + a visit 120 = warranty 1,170.
    T3 (billable, 2026-06-01): labour 1,000, parts 200, travel 100 and its visit are billed:
      only its handling 50 counts.
    T5 (2026-10-01, after the new handling rate): handling 80.
    T4 (2025-12-20): outside the period.
    concessions granted in 2026: goodwill 800 + gift 200 = 1,000 (the 1,000 discount reaches
      revenue with its order; a pending 5,000 and one of 2025 do not count).
    engagement: 250 from a registered cost source.
    service labour 282.40 + 50 + 50 + 80 = 462.40; parts 500; travel 300; field visits 120;
    warranty 1,170; engagement 250; concessions 1,000 → cost to serve 3,802.40;
    contribution 5,000 − 3,802.40 = 1,197.60 (7.04 % of revenue; gross margin 29.41 %)."""
    account = AccountFactory(owner=kam)
    sell(account, rebate="1000")
    t1 = ticket(account, "2026-04-01")
    done_visit(t1, engineer, "2026-04-02", hours="10", travel="300")
    Ticket.objects.filter(pk=t1.pk).update(parts_cost=D("500"))
    t2 = ticket(
        account, "2026-05-01", coverage="warranty", labour_cost=D("400"), parts_cost=D("600")
    )
    FieldVisit.objects.create(ticket=t2, planned_start=at("2026-05-02"), status="done",
                              checked_out_at=at("2026-05-02", 15))  # fmt: skip
    t3 = ticket(account, "2026-06-01", coverage="billable", labour_cost=D("1000"),
                parts_cost=D("200"), travel_cost=D("100"))  # fmt: skip
    FieldVisit.objects.create(ticket=t3, planned_start=at("2026-06-02"), status="done",
                              checked_out_at=at("2026-06-02", 15))  # fmt: skip
    ticket(account, "2026-10-01")
    ticket(account, "2025-12-20", labour_cost=D("9999"))
    grant(account, "goodwill_parts", "800", "2026-07-01")
    grant(account, "gift", "200", "2026-08-01")
    grant(account, "discount", "1000", "2026-08-01", list_amount=D("10000"), discount_pct=D("10"))
    grant(account, "goodwill_parts", "5000", "2026-08-01", status="pending")
    grant(account, "goodwill_parts", "700", "2025-12-31")

    @cost_source("engagement")
    def events(start, end, accounts):
        return {account.pk: D("250")}

    try:
        p = pnl_compute(start=START, end=END, accounts=[account.pk])[account.pk]
    finally:
        pnl_module._COST_SOURCES["engagement"].remove(events)
    assert t1.visits.get().labour_rate == D("28.24")  # the rate of the day of the work
    assert (p.list_value, p.discounts, p.rebates, p.revenue) == (
        D("20000"),
        D("2000"),
        D("1000"),
        D("17000"),
    )
    assert (p.cost_of_goods, p.gross_profit) == (D("12000"), D("5000"))
    assert p.drivers == {
        "service_labour": D("462.40"), "parts": D("500"), "travel": D("300"),
        "field_visits": D("120"), "warranty": D("1170"), "engagement": D("250"),
        "concessions": D("1000"),
    }  # fmt: skip
    assert p.cost_to_serve == D("3802.40")
    assert p.contribution == D("1197.60")
    assert (p.gross_margin, p.contribution_margin) == (D("29.41"), D("7.04"))
    assert (p.orders, p.tickets, p.visits) == (1, 4, 3)


@pytest.mark.django_db
def test_a_change_of_rate_cannot_be_back_dated(rates, admin_user):
    """A past period stays as it was costed: a change of rate before the latest, or on a day
    that has begun, is refused; one from tomorrow costs only what comes."""
    account = AccountFactory()
    today = timezone.localdate()
    ticket(account, (today - dt.timedelta(days=2)).isoformat())
    before = pnl_compute(start=START, end=today, accounts=[account.pk])[account.pk]
    assert before.drivers["service_labour"] == D("80")
    for day in (dt.date(2026, 2, 1), today - dt.timedelta(days=5), today):
        with pytest.raises(ValidationError) as error:
            cost_rate_create(actor=admin_user, driver="ticket", valid_from=day, rate=D("99"))
        assert "valid_from" in error.value.message_dict
    tomorrow = today + dt.timedelta(days=1)
    cost_rate_create(actor=admin_user, driver="ticket", valid_from=tomorrow, rate=D("99"))
    after = pnl_compute(start=START, end=today, accounts=[account.pk])[account.pk]
    assert after.drivers["service_labour"] == D("80")


@pytest.mark.django_db
def test_rate_input_is_validated_and_only_administrators_add_rates(kam, admin_user):
    with pytest.raises(PermissionDeniedError):
        cost_rate_create(actor=kam, driver="ticket", valid_from=START, rate=D("1"))
    with pytest.raises(ValidationError) as error:
        cost_rate_create(actor=admin_user, driver="ticket", valid_from=START, pool_cost=D("100"))
    assert "capacity" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        cost_rate_create(actor=admin_user, driver="ticket", valid_from=START, pool_cost=D("100"),
                         capacity=D("3"), rate=D("30"))  # fmt: skip
    assert "33.33" in str(error.value.message_dict["rate"])
    with pytest.raises(ValidationError):
        cost_rate_create(actor=admin_user, driver="nonsense", valid_from=START, rate=D("1"))
    from keycare.profitability.models import CostRate

    assert not CostRate.objects.exists()


@pytest.mark.django_db
def test_rollups_by_group_tier_and_owner(kam, other_kam, executive):
    hq = AccountFactory(name="华东集团", owner=kam, tier=AccountTier.GOLD)
    plant = AccountFactory(
        name="华东集团苏州工厂", parent=hq, owner=other_kam, tier=AccountTier.IRON
    )
    other = AccountFactory(name="西部机械", owner=other_kam, tier=AccountTier.IRON)
    sell(hq, net_price="9000")  # GP 6,000
    sell(plant, net_price="8000")  # GP 4,000
    sell(other, net_price="5000", cost="6000")  # GP −2,000: sold below cost
    ticket(plant, "2026-02-01", labour_cost=D("1000"))
    by_group = pnl_report(actor=executive, filters={**YEAR, "group_by": "group"})
    rows = {r["label"]: r for r in by_group["rows"]}
    assert rows["华东集团"]["contribution"] == D("9000") and rows["华东集团"]["accounts"] == 2
    assert rows["西部机械"]["contribution"] == D("-2000")
    assert rows["西部机械"]["reasons"][0]["code"] == "below_cost"
    by_tier = {
        r["key"]: r["contribution"]
        for r in pnl_report(actor=executive, filters={**YEAR, "group_by": "tier"})["rows"]
    }
    assert by_tier == {"gold": D("6000"), "iron": D("1000")}
    by_owner = {
        r["key"]: r["contribution"]
        for r in pnl_report(actor=executive, filters={**YEAR, "group_by": "owner"})["rows"]
    }
    assert by_owner == {kam.pk: D("6000"), other_kam.pk: D("1000")}
    report = pnl_report(actor=executive, filters={**YEAR, "order": "asc"})
    assert [r["label"] for r in report["rows"]] == ["西部机械", "华东集团苏州工厂", "华东集团"]
    assert report["total"]["contribution"] == D("7000") and report["loss_makers"] == 1


@pytest.mark.django_db
def test_a_key_account_manager_sees_only_their_accounts_and_engineers_none(
    kam, other_kam, engineer
):
    mine = AccountFactory(owner=kam)
    AccountTeamMemberFactory(
        account=AccountFactory(), user=kam, role=AccountTeamRole.KEY_ACCOUNT_MANAGER
    )
    theirs = AccountFactory(owner=other_kam)
    sell(mine)
    sell(theirs)
    ids = {r["key"] for r in pnl_report(actor=kam, filters=YEAR)["rows"]}
    assert ids == {mine.pk}
    with pytest.raises(PermissionDeniedError):
        pnl_report(actor=engineer, filters=YEAR)
    with pytest.raises(PermissionDeniedError):
        account_pnl(actor=engineer, account=mine)


@pytest.mark.django_db
def test_bad_filters_are_errors(executive):
    for bad in ({"group_by": "colour"}, {"period_from": "2026-13-01"}, {"tier": "x" * 50}):
        with pytest.raises(ValidationError):
            pnl_report(actor=executive, filters=bad)


def test_whale_curve_on_a_hand_computed_vector():
    """Contributions 500, 300, 200, 100, −50, −250 (total 800). Ranked, the running sums are
    500, 800, 1,000, 1,100, 1,050, 800: 62.5 %, 100 %, 125 %, 137.5 %, 131.25 %, 100 %.
    The peak is 1,100 = 137.5 % of the total, reached with the fourth account; the two
    loss-makers destroy 300."""
    curve = whale_curve(
        [(6, D(-250)), (1, D(500)), (4, D(100)), (2, D(300)), (5, D(-50)), (3, D(200))]
    )
    assert [p["account_id"] for p in curve["points"]] == [1, 2, 3, 4, 5, 6]
    assert [p["cumulative_pct"] for p in curve["points"]] == [
        D("62.50"), D("100.00"), D("125.00"), D("137.50"), D("131.25"), D("100.00")]  # fmt: skip
    assert (curve["peak"], curve["peak_pct"], curve["peak_rank"]) == (D(1100), D("137.50"), 4)
    assert (curve["total"], curve["loss_makers"], curve["destroyed"]) == (D(800), 2, D(300))


def test_whale_curve_when_the_accounts_lose_money_in_total():
    curve = whale_curve([(1, D(100)), (2, D(-300))])
    assert curve["total"] == D(-200) and curve["peak_pct"] is None
    assert curve["points"][0]["cumulative_pct"] is None and curve["peak_rank"] == 1


@pytest.mark.django_db
def test_whale_curve_report_names_the_profit_destroyers_and_why(executive, engineer):
    good = AccountFactory(name="盈利客户")
    bad = AccountFactory(name="服务吃掉利润")
    sell(good, net_price="9000")  # GP 6,000
    sell(bad, net_price="7000")  # GP 2,000
    ticket(bad, "2026-04-01", coverage="warranty", labour_cost=D("2500"), parts_cost=D("1500"))
    ticket(bad, "2026-04-05", travel_cost=D("500"))
    report = whale_curve_report(actor=executive, filters=YEAR)
    assert (report["peak"], report["peak_rank"], report["total"]) == (D(6000), 1, D(3500))
    assert report["peak_pct"] == D("171.43")
    loser = report["loss_making_accounts"][0]
    assert loser["label"] == "服务吃掉利润" and loser["contribution"] == D("-2500")
    assert [(r["code"], r["share"]) for r in loser["reasons"]] == [
        ("warranty", D("88.89")),
        ("travel", D("11.11")),
    ]


def test_pnl_arithmetic_adds_up():
    p = Pnl(list_value=D(100), discounts=D(10), rebates=D(5), revenue=D(85), cost_of_goods=D(50))
    p.drivers["travel"] = D(20)
    assert (p.gross_profit, p.cost_to_serve, p.contribution) == (D(35), D(20), D(15))
    empty = Pnl()
    assert empty.gross_margin is None and not empty.active


@pytest.mark.django_db
def test_order_totals_keep_rebates_apart():
    order = sell(AccountFactory(), rebate="1000")
    order = Order.objects.get(pk=order.pk)
    assert (order.total_list, order.total_net, order.total_discount, order.total_rebate) == (
        D("19000"), D("17000"), D("2000"), D("1000"))  # fmt: skip


@pytest.mark.django_db
def test_the_value_metrics_hold_the_full_cost_to_serve(
    rates, kam, django_capture_on_commit_callbacks
):
    """The pyramid, volume vs profit and the scorecard read the metrics: their cost to serve
    is the P&L's (service at the activity rates, warranty, concessions), kept up to date
    when a concession is granted."""
    from keycare.insights.metrics import metrics_recompute
    from keycare.insights.models import AccountMetric
    from keycare.profitability.concessions import concession_submit

    account = AccountFactory(owner=kam)
    sell(account, day=timezone.localdate().isoformat())
    ticket(account, timezone.localdate().isoformat(), labour_cost=D("300"))
    start, end = pnl_module.trailing_twelve_months()
    metrics_recompute(start=start, end=end)
    metric = AccountMetric.objects.get(
        account=account, scope="own", period_start=start, period_end=end
    )
    assert metric.cost_to_serve == D("380")  # 300 labour + 80 handling (the rate since 1 September)
    with django_capture_on_commit_callbacks(execute=True):
        concession_submit(
            actor=kam, account=account, kind="goodwill_parts", reason="补偿", data={"amount": "500"}
        )
    metric.refresh_from_db()
    assert metric.cost_to_serve == D("880")
