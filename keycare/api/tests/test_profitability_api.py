"""The profitability API: the P&L figures on a hand-built example, the whale curve, the
reports, the cost rates, the policies and thresholds; a permission matrix per endpoint and
role (a denied write changes nothing); invalid input is a 400, never a 500."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from keycare.accounts.choices import AccountTeamRole
from keycare.accounts.tests.factories import (
    AccountFactory,
    AccountTeamMemberFactory,
    ContactFactory,
    OrderFactory,
    ProductFactory,
)
from keycare.profitability.models import (
    Concession,
    ConcessionPolicy,
    CostRate,
    ProfitabilitySettings,
)
from keycare.profitability.rates import cost_rate_create
from keycare.service.models import Ticket
from keycare.service.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db

D = Decimal
YEAR = "period_from=2026-01-01&period_to=2026-12-31"
APRIL_FIRST = dt.datetime(2026, 4, 1, 10, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def api(user=None):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def sell(account, *, list_price, net_price, cost, quantity="1", number=None):
    product = ProductFactory(list_price=D(list_price), standard_cost=D(cost))
    kwargs = {"number": number} if number else {}
    return OrderFactory(
        account=account,
        order_date=dt.date(2026, 3, 15),
        lines=[{"product": product, "quantity": D(quantity), "net_price": D(net_price)}],
        **kwargs,
    )


@pytest.fixture
def world(admin_user, kam, other_kam, engineer, portal_user):
    """Hand-computed, for 2026:
    盈利客户 (kam's): 2 × list 10,000 sold at 9,000 (cost 6,000) → list 20,000, discounts
      2,000, revenue 18,000, COGS 12,000, gross profit 6,000 (33.33 %); a ticket (no
      coverage) with labour 300, parts 200, travel 100 and its handling at 50 → service
      labour 350, parts 200, travel 100: cost to serve 650, contribution 5,350 (29.72 %).
    亏本客户 (other_kam's): 1 × 5,000 at cost 6,000 → gross profit and contribution −1,000
      (−20 %), sold below cost.
    Together: revenue 23,000, contribution 4,350; the whale curve peaks at 5,350 (122.99 %)
    with the first account."""
    cost_rate_create(
        actor=admin_user, driver="ticket", valid_from=dt.date(2026, 1, 1), rate=D("50")
    )
    mine = AccountFactory(name="盈利客户", owner=kam)
    AccountTeamMemberFactory(account=mine, user=engineer, role=AccountTeamRole.SERVICE_ENGINEER)
    ContactFactory(account=mine, user=portal_user)
    sell(mine, list_price="10000", net_price="9000", cost="6000", quantity="2")
    ticket = TicketFactory(account=mine, opened_at=APRIL_FIRST)
    Ticket.objects.filter(pk=ticket.pk).update(
        coverage="unknown", labour_cost=D("300"), parts_cost=D("200"), travel_cost=D("100")
    )
    theirs = AccountFactory(name="亏本客户", owner=other_kam)
    sell(theirs, list_price="5000", net_price="5000", cost="6000", number="SO-LOSS-1")
    return {"mine": mine, "theirs": theirs}


MINE = {
    "list_value": "20000.00", "discounts": "2000.00", "rebates": "0.00", "revenue": "18000.00",
    "cost_of_goods": "12000.00", "gross_profit": "6000.00", "gross_margin": "33.33",
    "cost_to_serve": "650.00",
    "drivers": {"service_labour": "350.00", "parts": "200.00", "travel": "100.00",
                "field_visits": "0.00", "warranty": "0.00", "engagement": "0.00",
                "concessions": "0.00"},
    "contribution": "5350.00", "contribution_margin": "29.72",
    "orders": 1, "tickets": 1, "visits": 0,
}  # fmt: skip
BELOW_COST = [
    {"code": "below_cost", "label": "Sold below cost", "value": "-1000.00", "share": None}
]


# --- the P&L ---------------------------------------------------------------------------------


def test_pnl_figures_by_driver_on_a_hand_built_example(world, executive):
    body = api(executive).get(f"/api/v1/profitability/?{YEAR}").json()
    assert (body["start"], body["end"], body["group_by"]) == ("2026-01-01", "2026-12-31", "account")
    assert body["count"] == 2 and body["loss_makers"] == 1
    first, second = body["results"]
    assert {k: first[k] for k in MINE} == MINE
    assert (first["key"], first["account_id"], first["label"], first["accounts"]) == (
        world["mine"].pk, world["mine"].pk, "盈利客户", 1,
    )  # fmt: skip
    assert first["reasons"] == []
    assert (second["label"], second["contribution"], second["contribution_margin"]) == (
        "亏本客户", "-1000.00", "-20.00",
    )  # fmt: skip
    assert second["reasons"] == BELOW_COST
    total = body["total"]
    assert (total["revenue"], total["cost_to_serve"], total["contribution"]) == (
        "23000.00", "650.00", "4350.00",
    )  # fmt: skip


def test_pnl_is_paginated_over_the_rows_and_ordered(world, executive):
    client = api(executive)
    page = client.get(f"/api/v1/profitability/?{YEAR}&page_size=1").json()
    assert page["count"] == 2 and len(page["results"]) == 1
    assert page["next"] is not None and page["previous"] is None
    assert page["results"][0]["label"] == "盈利客户"
    assert page["total"]["contribution"] == "4350.00"  # the total is over every row
    second = client.get(f"/api/v1/profitability/?{YEAR}&page_size=1&page=2").json()
    assert [r["label"] for r in second["results"]] == ["亏本客户"]
    losers_first = client.get(f"/api/v1/profitability/?{YEAR}&order=asc").json()
    assert [r["label"] for r in losers_first["results"]] == ["亏本客户", "盈利客户"]
    assert client.get(f"/api/v1/profitability/?{YEAR}&page=9").status_code == 404


def test_pnl_grouped_by_key_account_manager(world, executive, kam, other_kam):
    body = api(executive).get(f"/api/v1/profitability/?{YEAR}&group_by=owner").json()
    assert [
        (r["key"], r["label"], r["contribution"], r["account_id"]) for r in body["results"]
    ] == [
        (kam.pk, str(kam), "5350.00", None),
        (other_kam.pk, str(other_kam), "-1000.00", None),
    ]


def test_kam_sees_the_pnl_of_their_own_accounts_only(world, kam, other_kam):
    mine = api(kam).get(f"/api/v1/profitability/?{YEAR}").json()
    assert [r["label"] for r in mine["results"]] == ["盈利客户"]
    assert mine["total"]["contribution"] == "5350.00"
    theirs = api(other_kam).get(f"/api/v1/profitability/?{YEAR}").json()
    assert [r["label"] for r in theirs["results"]] == ["亏本客户"]


def test_account_pnl_own_and_group(world, kam):
    branch = AccountFactory(name="盈利客户分公司", owner=kam, parent=world["mine"])
    sell(branch, list_price="1000", net_price="1000", cost="400")
    body = api(kam).get(f"/api/v1/profitability/accounts/{world['mine'].pk}/?{YEAR}").json()
    assert (body["account"], body["name"], body["has_branches"]) == (
        world["mine"].pk,
        "盈利客户",
        True,
    )
    assert {k: body["own"][k] for k in MINE} == MINE
    assert (body["group"]["revenue"], body["group"]["contribution"]) == ("19000.00", "5950.00")
    assert body["reasons"] == []


def test_account_pnl_of_a_loss_maker_gives_the_reasons(world, other_kam):
    body = api(other_kam).get(f"/api/v1/profitability/accounts/{world['theirs'].pk}/?{YEAR}").json()
    assert body["own"]["contribution"] == "-1000.00" and body["reasons"] == BELOW_COST


def test_account_pnl_of_another_team_is_404(world, kam):
    response = api(kam).get(f"/api/v1/profitability/accounts/{world['theirs'].pk}/")
    assert response.status_code == 404
    assert set(response.json()) == {"message", "extra"}
    assert api(kam).get("/api/v1/profitability/accounts/999999/").status_code == 404


def test_whale_curve(world, executive):
    body = api(executive).get(f"/api/v1/profitability/whale-curve/?{YEAR}").json()
    assert (body["accounts"], body["loss_makers"], body["level"]) == (2, 1, "account")
    assert (body["total"], body["peak"], body["peak_pct"], body["peak_rank"]) == (
        "4350.00", "5350.00", "122.99", 1,
    )  # fmt: skip
    assert body["destroyed"] == "1000.00" and body["all_points"] == 2
    assert [(p["rank"], p["name"], p["contribution"], p["cumulative"], p["cumulative_pct"])
            for p in body["points"]] == [
        (1, "盈利客户", "5350.00", "5350.00", "122.99"),
        (2, "亏本客户", "-1000.00", "4350.00", "100.00"),
    ]  # fmt: skip
    [loser] = body["loss_making_accounts"]
    assert (loser["account_id"], loser["reasons"]) == (world["theirs"].pk, BELOW_COST)


def test_whale_curve_is_downsampled_keeping_the_peak(executive, make_user):
    accounts = [AccountFactory(name=f"客户{i:02d}") for i in range(30)]
    for i, account in enumerate(accounts):
        sell(account, list_price=str(1000 + i * 100), net_price=str(1000 + i * 100), cost="1200")
    body = api(executive).get(f"/api/v1/profitability/whale-curve/?{YEAR}&points=10").json()
    assert body["all_points"] == 30 and body["accounts"] == 30
    ranks = [p["rank"] for p in body["points"]]
    assert body["peak_rank"] in ranks and ranks[-1] == 30 and len(ranks) <= 12


@pytest.mark.parametrize(
    "group_by", ["account", "group", "tier", "account_type", "province", "owner"]
)
def test_every_grouping_answers_with_the_same_total(world, executive, group_by):
    body = api(executive).get(f"/api/v1/profitability/?{YEAR}&group_by={group_by}").json()
    assert body["group_by"] == group_by
    assert body["total"]["contribution"] == "4350.00"
    assert sum(D(r["contribution"]) for r in body["results"]) == D("4350.00")
    assert all(isinstance(r["label"], str) and r["label"] for r in body["results"])


def test_whale_curve_of_groups(world, executive):
    body = api(executive).get(f"/api/v1/profitability/whale-curve/?{YEAR}&level=group").json()
    assert (body["level"], body["accounts"], body["total"]) == ("group", 2, "4350.00")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("period_from=2026-13-01", "period_from"),
        ("period_from=yesterday", "period_from"),
        ("period_from=2026-06-01&period_to=2026-01-01", "period_to"),
        ("period_from=1900-01-01", "period_from"),
        ("group_by=colour", "group_by"),
        ("order=sideways", "order"),
        ("province=" + "x" * 31, "province"),
    ],
)
def test_bad_pnl_query_is_a_400_with_the_field(world, executive, query, field):
    response = api(executive).get(f"/api/v1/profitability/?{query}")
    assert response.status_code == 400
    assert response.json()["extra"]["code"] == "invalid"
    assert list(response.json()["extra"]["fields"]) == [field]


@pytest.mark.parametrize(
    ("query", "field"),
    [("points=5", "points"), ("points=2001", "points"), ("points=many", "points"),
     ("level=region", "level"), ("period_to=2026-02-30", "period_to")],
)  # fmt: skip
def test_bad_whale_curve_query_is_a_400(world, executive, query, field):
    response = api(executive).get(f"/api/v1/profitability/whale-curve/?{query}")
    assert response.status_code == 400
    assert list(response.json()["extra"]["fields"]) == [field]


def test_pnl_list_query_count_is_fixed(executive, django_assert_num_queries):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=executive).key}")
    sell(AccountFactory(), list_price="1000", net_price="1000", cost="500")
    # token + user, roles, the accounts, orders, rates, tickets, visits, concessions, and the
    # engagement costs (activities, gifts, event shares)
    with django_assert_num_queries(11):
        assert client.get(f"/api/v1/profitability/?{YEAR}").json()["count"] == 1
    for _ in range(4):
        account = AccountFactory()
        sell(account, list_price="1000", net_price="1000", cost="500")
        TicketFactory(account=account, opened_at=APRIL_FIRST)
    with django_assert_num_queries(11):
        assert client.get(f"/api/v1/profitability/?{YEAR}").json()["count"] == 5


# --- reports ---------------------------------------------------------------------------------


def _granted(account, kind, amount, requester, **fields):
    return Concession.objects.create(
        number=f"T-{Concession.objects.count() + 1}", account=account, kind=kind,
        status="granted", requested_by=requester, effective_date=dt.date(2026, 6, 1),
        reason="测试", amount=D(amount), **fields,
    )  # fmt: skip


def test_concessions_report_by_kind_and_account(world, executive, kam):
    _granted(world["mine"], "goodwill_parts", "12000", kam)
    _granted(world["mine"], "gift", "300", kam, contact=ContactFactory(account=world["mine"]))
    client = api(executive)
    by_kind = client.get(f"/api/v1/profitability/reports/concessions/?{YEAR}&by=kind").json()
    assert by_kind["by"] == "kind"
    assert [(r["key"], r["label"], r["count"], r["amount"]) for r in by_kind["rows"]] == [
        ("goodwill_parts", "Goodwill parts", 1, "12000.00"),
        ("gift", "Gift", 1, "300.00"),
    ]
    assert by_kind["total"] == {"count": 2, "amount": "12300.00"}
    by_account = client.get(f"/api/v1/profitability/reports/concessions/?{YEAR}").json()
    assert [(r["key"], r["amount"]) for r in by_account["rows"]] == [(world["mine"].pk, "12300.00")]
    bad = client.get("/api/v1/profitability/reports/concessions/?by=colour")
    assert bad.status_code == 400 and list(bad.json()["extra"]["fields"]) == ["by"]


def test_over_policy_report(world, executive, kam, other_kam):
    _granted(world["mine"], "goodwill_parts", "12000", kam)
    body = api(executive).get(f"/api/v1/profitability/reports/over-policy/?{YEAR}").json()
    [row] = body["rows"]
    assert (row["account_id"], row["policy"], row["total"]) == (
        world["mine"].pk, "默认政策 Default policy", "12000.00",
    )  # fmt: skip
    assert [(e["code"], e["limit"], e["value"]) for e in row["exceeded"]] == [
        ("max_goodwill_parts_value", "10000.00", "12000.00")
    ]
    assert "above the limit" in row["exceeded"][0]["message"]
    assert body["gifts"] == []
    # the other account's manager does not see it
    assert (
        api(other_kam).get(f"/api/v1/profitability/reports/over-policy/?{YEAR}").json()["rows"]
        == []
    )


def test_below_floor_report(world, executive, kam):
    body = api(executive).get(f"/api/v1/profitability/reports/below-floor/?{YEAR}").json()
    [row] = body["rows"]
    assert (row["name"], row["revenue"], row["gross_margin"], row["contribution_margin"]) == (
        "亏本客户", "5000.00", "-20.00", "-20.00",
    )  # fmt: skip
    assert [(b["code"], b["limit"], b["value"]) for b in row["below"]] == [
        ("min_period_margin_pct", "20.00", "-20.00"),
        ("min_contribution_margin_pct", "5.00", "-20.00"),
    ]
    assert api(kam).get(f"/api/v1/profitability/reports/below-floor/?{YEAR}").json()["rows"] == []


def test_flagged_lines_report(world, executive, kam):
    body = api(executive).get(f"/api/v1/profitability/reports/flagged-lines/?{YEAR}").json()
    [line] = body["rows"]
    assert (line["order_number"], line["account"], line["account_name"]) == (
        "SO-LOSS-1", world["theirs"].pk, "亏本客户",
    )  # fmt: skip
    assert (line["net_amount"], line["cost_amount"], line["discount_pct"], line["margin_pct"]) == (
        "5000.00", "6000.00", "0.00", "-20.00",
    )  # fmt: skip
    assert body["more"] is False
    one = api(executive).get(
        f"/api/v1/profitability/reports/flagged-lines/?{YEAR}&account={world['mine'].pk}"
    )
    assert one.json()["rows"] == []
    # the kam does not see the other account's lines, nor may ask for them
    assert api(kam).get(f"/api/v1/profitability/reports/flagged-lines/?{YEAR}").json()["rows"] == []
    hidden = api(kam).get(
        f"/api/v1/profitability/reports/flagged-lines/?account={world['theirs'].pk}"
    )
    assert hidden.status_code == 404
    for raw in ("x", "1.5", "0", "99999999999999999999"):
        bad = api(kam).get(f"/api/v1/profitability/reports/flagged-lines/?account={raw}")
        assert bad.status_code == 400 and list(bad.json()["extra"]["fields"]) == ["account"], raw


# --- the permission matrix of the reads ------------------------------------------------------

READS = [
    "/api/v1/profitability/",
    "/api/v1/profitability/accounts/{mine}/",
    "/api/v1/profitability/whale-curve/",
    "/api/v1/profitability/reports/concessions/",
    "/api/v1/profitability/reports/over-policy/",
    "/api/v1/profitability/reports/below-floor/",
    "/api/v1/profitability/reports/flagged-lines/",
    "/api/v1/cost-rates/",
    "/api/v1/cost-rates/{rate}/",
    "/api/v1/concession-policies/",
    "/api/v1/concession-policies/{policy}/",
    "/api/v1/concession-policies/thresholds/",
]
ROLES = {
    None: (401, 403),
    "portal_user": (403,),
    "engineer": (403,),
    "kam": (200,),
    "service_manager": (200,),
    "executive": (200,),
    "admin_user": (200,),
}


@pytest.mark.parametrize("url", READS)
@pytest.mark.parametrize("role", list(ROLES))
def test_read_permission_matrix(request, world, url, role):
    user = request.getfixturevalue(role) if role else None
    url = url.format(mine=world["mine"].pk, rate=CostRate.objects.get().pk,
                     policy=ConcessionPolicy.objects.first().pk)  # fmt: skip
    response = api(user).get(url)
    assert response.status_code in ROLES[role], (role, url, response.content)
    if response.status_code != 200:
        assert set(response.json()) == {"message", "extra"}
        code = "not_authenticated" if role is None else "permission_denied"
        assert response.json()["extra"]["code"] == code


# --- cost rates ------------------------------------------------------------------------------


def test_admin_adds_a_rate_from_the_pool_and_its_capacity(admin_user):
    day = timezone.localdate() + dt.timedelta(days=10)
    response = api(admin_user).post("/api/v1/cost-rates/", {
        "driver": "engineer_hour", "valid_from": day.isoformat(), "pool_cost": "240000",
        "capacity": "8500", "note": "服务团队 ÷ 实际可用工时"}, format="json")  # fmt: skip
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["driver"], body["rate"], body["pool_cost"], body["capacity"]) == (
        "engineer_hour", "28.24", "240000.00", "8500.00",
    )  # fmt: skip
    assert (body["created_by"], body["withdrawable"]) == (admin_user.pk, True)
    listed = api(admin_user).get("/api/v1/cost-rates/?driver=engineer_hour").json()
    assert [r["id"] for r in listed["results"]] == [body["id"]]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"driver": "coffee", "valid_from": "2027-01-01", "rate": "10"}, "driver"),
        ({"driver": "ticket", "valid_from": "2027-01-01", "rate": "abc"}, "rate"),
        ({"driver": "ticket", "valid_from": "someday", "rate": "10"}, "valid_from"),
        ({"driver": "ticket", "valid_from": "2027-01-01"}, "rate"),
        ({"driver": "ticket", "valid_from": "2027-01-01", "rate": "-1"}, "rate"),
        ({"driver": "ticket", "valid_from": "2027-01-01", "pool_cost": "1000"}, "capacity"),
        ({"driver": "ticket", "valid_from": "2027-01-01", "pool_cost": "1000",
          "capacity": "100", "rate": "11"}, "rate"),
        ({"driver": "ticket", "valid_from": "2025-06-01", "rate": "10"}, "valid_from"),
    ],
)  # fmt: skip
def test_bad_rate_is_a_400_and_adds_nothing(world, admin_user, data, field):
    before = CostRate.objects.count()
    response = api(admin_user).post("/api/v1/cost-rates/", data, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["extra"]["fields"]
    assert CostRate.objects.count() == before


@pytest.mark.parametrize("role", ["kam", "service_manager", "executive", "engineer", "portal_user"])
def test_only_administrators_add_or_withdraw_rates(request, admin_user, role):
    future = cost_rate_create(actor=admin_user, driver="ticket",
                              valid_from=timezone.localdate() + dt.timedelta(days=30), rate=D("60"))  # fmt: skip
    client = api(request.getfixturevalue(role))
    # refused before the input is read (a 403 even for bad input)
    assert client.post("/api/v1/cost-rates/", {"driver": "x"}, format="json").status_code == 403
    denied = client.post("/api/v1/cost-rates/", {"driver": "ticket", "valid_from": "2027-06-01",
                                                 "rate": "70"}, format="json")  # fmt: skip
    assert denied.status_code == 403
    assert client.delete(f"/api/v1/cost-rates/{future.pk}/").status_code == 403
    assert list(CostRate.objects.values_list("pk", flat=True)) == [future.pk]


def test_a_future_rate_is_withdrawn_one_in_effect_stays(world, admin_user):
    in_effect = CostRate.objects.get()
    future = cost_rate_create(actor=admin_user, driver="ticket",
                              valid_from=timezone.localdate() + dt.timedelta(days=30), rate=D("60"))  # fmt: skip
    client = api(admin_user)
    refused = client.delete(f"/api/v1/cost-rates/{in_effect.pk}/")
    assert refused.status_code == 400 and refused.json()["extra"]["code"] == "rate_in_effect"
    assert client.delete(f"/api/v1/cost-rates/{future.pk}/").status_code == 204
    assert list(CostRate.objects.values_list("pk", flat=True)) == [in_effect.pk]
    assert client.delete(f"/api/v1/cost-rates/{future.pk}/").status_code == 404


# --- concession policies and thresholds -------------------------------------------------------


def test_policies_are_listed_for_those_who_see_orders(kam):
    body = api(kam).get("/api/v1/concession-policies/").json()
    assert body["count"] == 4
    assert [p["tier"] for p in body["results"]] == ["", "gold", "lead", "platinum"]
    default = body["results"][0]
    assert (default["max_discount_pct"], default["max_free_visits"], default["lock_version"]) == (
        "15.00", 4, 1,
    )  # fmt: skip


def test_admin_creates_changes_and_deletes_a_policy(admin_user):
    client = api(admin_user)
    created = client.post("/api/v1/concession-policies/", {
        "name": "铁牌客户", "tier": "iron", "max_discount_pct": "8", "min_line_margin_pct": "-5",
        "max_free_visits": 2, "gift_limit_per_contact": None}, format="json")  # fmt: skip
    assert created.status_code == 201, created.json()
    policy = created.json()
    assert (policy["tier"], policy["max_discount_pct"], policy["min_line_margin_pct"]) == (
        "iron", "8.00", "-5.00",
    )  # fmt: skip
    assert policy["gift_limit_per_contact"] is None and policy["is_active"] is True
    url = f"/api/v1/concession-policies/{policy['id']}/"
    changed = client.patch(url, {"max_discount_pct": "10", "lock_version": 1}, format="json")
    assert changed.status_code == 200
    assert (changed.json()["max_discount_pct"], changed.json()["lock_version"]) == ("10.00", 2)
    stale = client.patch(url, {"max_discount_pct": "12", "lock_version": 1}, format="json")
    assert stale.status_code == 409 and stale.json()["extra"]["code"] == "stale_version"
    assert ConcessionPolicy.objects.get(pk=policy["id"]).max_discount_pct == D("10")
    assert client.delete(url).status_code == 204
    assert not ConcessionPolicy.objects.filter(pk=policy["id"]).exists()
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "重复", "tier": "gold"}, "__all__"),  # the model's one-policy-per-key check
        ({"name": "过大", "tier": "iron", "max_discount_pct": "150"}, "max_discount_pct"),
        ({"name": "非数", "tier": "iron", "max_discount_pct": "a lot"}, "max_discount_pct"),
        ({"name": "未知", "tier": "diamond"}, "tier"),
        ({"tier": "iron"}, "name"),
    ],
)
def test_bad_policy_is_a_400_and_adds_nothing(admin_user, data, field):
    response = api(admin_user).post("/api/v1/concession-policies/", data, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["extra"]["fields"]
    assert ConcessionPolicy.objects.count() == 4


def test_the_default_policy_is_neither_removed_nor_deactivated(admin_user):
    default = ConcessionPolicy.objects.get(tier="", account_type="")
    url = f"/api/v1/concession-policies/{default.pk}/"
    client = api(admin_user)
    removed = client.delete(url)
    assert removed.status_code == 400 and list(removed.json()["extra"]["fields"]) == ["tier"]
    off = client.patch(url, {"is_active": False, "lock_version": 1}, format="json")
    assert off.status_code == 400 and list(off.json()["extra"]["fields"]) == ["is_active"]
    default.refresh_from_db()
    assert (default.is_active, default.lock_version) == (True, 1)


def test_policy_patch_needs_the_lock_version_and_valid_values(admin_user):
    policy = ConcessionPolicy.objects.get(tier="gold")
    url = f"/api/v1/concession-policies/{policy.pk}/"
    client = api(admin_user)
    missing = client.patch(url, {"max_discount_pct": "30"}, format="json")
    assert missing.status_code == 400 and "lock_version" in missing.json()["extra"]["fields"]
    bad = client.patch(url, {"max_discount_pct": "101", "lock_version": 1}, format="json")
    assert bad.status_code == 400 and "max_discount_pct" in bad.json()["extra"]["fields"]
    policy.refresh_from_db()
    assert (policy.max_discount_pct, policy.lock_version) == (D("20"), 1)


@pytest.mark.parametrize("role", ["kam", "service_manager", "executive", "engineer", "portal_user"])
def test_only_administrators_write_policies_and_thresholds(request, role):
    client = api(request.getfixturevalue(role))
    policy = ConcessionPolicy.objects.get(tier="gold")
    assert client.post("/api/v1/concession-policies/", {"name": "新", "tier": "iron"},
                       format="json").status_code == 403  # fmt: skip
    patch = client.patch(f"/api/v1/concession-policies/{policy.pk}/",
                         {"max_discount_pct": "99", "lock_version": 1}, format="json")  # fmt: skip
    assert patch.status_code == 403
    assert client.delete(f"/api/v1/concession-policies/{policy.pk}/").status_code == 403
    thresholds = client.patch("/api/v1/concession-policies/thresholds/",
                              {"executive_above": "1", "lock_version": 1}, format="json")  # fmt: skip
    assert thresholds.status_code == 403
    assert ConcessionPolicy.objects.count() == 4
    policy.refresh_from_db()
    assert (policy.max_discount_pct, policy.lock_version) == (D("20"), 1)
    row = ProfitabilitySettings.current()
    assert (row.executive_above, row.lock_version) == (D("20000"), 1)


def test_thresholds_read_and_changed_by_an_administrator(kam, admin_user):
    body = api(kam).get("/api/v1/concession-policies/thresholds/").json()
    assert body == {"service_manager_above": "5000.00", "executive_above": "20000.00",
                    "service_manager_share": "10.00", "executive_share": "25.00", "lock_version": 1}  # fmt: skip
    client = api(admin_user)
    url = "/api/v1/concession-policies/thresholds/"
    changed = client.patch(url, {"executive_above": "30000", "lock_version": 1}, format="json")
    assert changed.status_code == 200
    assert (changed.json()["executive_above"], changed.json()["lock_version"]) == ("30000.00", 2)
    stale = client.patch(url, {"executive_above": "40000", "lock_version": 1}, format="json")
    assert stale.status_code == 409
    inverted = client.patch(url, {"executive_above": "100", "lock_version": 2}, format="json")
    assert inverted.status_code == 400 and "executive_above" in inverted.json()["extra"]["fields"]
    emptied = client.patch(url, {"executive_above": None, "lock_version": 2}, format="json")
    assert emptied.status_code == 400 and "executive_above" in emptied.json()["extra"]["fields"]
    row = ProfitabilitySettings.current()
    assert (row.executive_above, row.lock_version) == (D("30000"), 2)


def test_schema_documents_the_profitability_endpoints(kam):
    paths = api(kam).get("/api/v1/schema/?format=json").json()["paths"]
    for path in ("/api/v1/profitability/", "/api/v1/profitability/whale-curve/",
                 "/api/v1/cost-rates/", "/api/v1/concession-policies/thresholds/",
                 "/api/v1/concessions/", "/api/v1/concessions/{id}/approve/"):  # fmt: skip
        assert path in paths
    params = {p["name"] for p in paths["/api/v1/profitability/"]["get"]["parameters"]}
    assert {"period_from", "period_to", "group_by", "order", "province", "industry", "tier",
            "account_type", "page", "page_size"} <= params  # fmt: skip


# --- the responses match the schema ---------------------------------------------------------


def _nullable(node):
    """OpenAPI 3.0's `nullable` as JSON Schema: the node, or null."""
    if isinstance(node, list):
        return [_nullable(n) for n in node]
    if not isinstance(node, dict):
        return node
    node = {k: _nullable(v) for k, v in node.items()}
    if node.pop("nullable", False):
        return {"anyOf": [node, {"type": "null"}]}
    return node


def _matches(schema, path, body, method="get", status="200"):
    import jsonschema

    response = schema["paths"][path][method]["responses"][status]["content"]["application/json"]
    root = {"components": _nullable(schema["components"]), **_nullable(response["schema"])}
    jsonschema.Draft202012Validator(root).validate(body)


def test_real_responses_match_the_documented_schema(world, admin_user, kam):
    """The default policy's empty tier and type, an event without a level, the names of
    missing rows (no contact, ticket, equipment, decider; a rate nobody added) are
    documented as they are answered."""
    client = api(kam)
    schema = client.get("/api/v1/schema/?format=json").json()
    props = schema["components"]["schemas"]
    assert "" in props["BlankEnum"]["enum"]
    assert {"$ref": "#/components/schemas/BlankEnum"} in props["ConcessionPolicy"]["properties"][
        "tier"]["oneOf"]  # fmt: skip
    assert props["ConcessionDetail"]["properties"]["contact_name"]["nullable"] is True
    policies = client.get("/api/v1/concession-policies/")
    assert policies.json()["results"][0]["tier"] == ""
    _matches(schema, "/api/v1/concession-policies/", policies.json())
    rates = client.get("/api/v1/cost-rates/")
    rate = cost_rate_create(actor=None, driver="engineer_hour", valid_from=dt.date(2026, 1, 1),
                            rate=D("30"))  # fmt: skip
    rates = client.get("/api/v1/cost-rates/").json()
    assert [r["created_by_name"] for r in rates["results"] if r["id"] == rate.pk] == [None]
    _matches(schema, "/api/v1/cost-rates/", rates)
    created = client.post("/api/v1/concessions/", {
        "account": world["mine"].pk, "kind": "goodwill_parts", "amount": "15000",
        "reason": "停机两天",
    }, format="json")  # fmt: skip
    assert created.status_code == 201, created.json()
    _matches(schema, "/api/v1/concessions/", created.json(), method="post", status="201")
    detail = client.get(f"/api/v1/concessions/{created.json()['id']}/").json()
    assert [e["level"] for e in detail["events"]] == [""]
    assert (detail["contact_name"], detail["ticket_number"], detail["equipment_name"]) == (
        None, None, None)  # fmt: skip
    assert [s["decided_by_name"] for s in detail["steps"]] == [None, None]
    _matches(schema, "/api/v1/concessions/{id}/", detail)
    _matches(schema, "/api/v1/concessions/", client.get("/api/v1/concessions/").json())
    granted = client.post("/api/v1/concessions/", {
        "account": world["mine"].pk, "kind": "goodwill_parts", "amount": "100", "reason": "小",
    }, format="json").json()  # fmt: skip
    assert granted["policy_name"] == "默认政策 Default policy"
    _matches(schema, "/api/v1/concessions/{id}/", granted)
