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


# --- set-based ranking (SQL) against the reference arithmetic ------------------------------


@pytest.fixture
def metrics_book(executive):
    """45 accounts with ties, zeros and losses, stored metrics only (no orders)."""
    import random

    from keycare.insights.models import AccountMetric, MetricScope

    rng = random.Random(8)
    made = []
    for i in range(45):
        account = AccountFactory(name=f"排名{i:02d}")
        revenue = Decimal(rng.choice([0, -300, 1000, 1000, 2500, 12_345.67, 40_000]))
        gross = Decimal(rng.choice([-500, 0, 100, 400, 400, 9_000.5]))
        made.append(AccountMetric(account=account, scope=MetricScope.OWN,
                                  period_start=dt.date(2026, 1, 1), period_end=dt.date(2026, 12, 31),
                                  revenue=revenue, gross_profit=gross))  # fmt: skip
    AccountMetric.objects.bulk_create(made)
    return {m.account_id: m for m in made}


def test_the_sql_ranking_matches_the_reference_arithmetic(metrics_book, executive):
    from keycare.insights import calculations as calc
    from keycare.insights.selectors import pareto_analysis

    result = pareto_analysis(actor=executive, filters=PERIOD)
    assert result["accounts"] == 45
    for measure in ("revenue", "gross_profit"):
        values = {pk: getattr(m, measure) for pk, m in metrics_book.items()}
        reference = calc.pareto(values, cutoffs=(70.0, 90.0))
        got = result[measure]["rows"]
        # by rank: the same values, shares, cumulative shares and classes (ties by account)
        assert [(r["value"], r["share"], r["cumulative"], r["abc"]) for r in got] == [
            (round(r.value, 2), round(r.share, 2), round(r.cumulative, 2), r.abc) for r in reference
        ]
        assert [r["account"] for r in got] == sorted(values, key=lambda k: (-values[k], k))
        for abc in "ABC":
            members = [r for r in reference if r.abc == abc]
            assert result[measure]["classes"][abc] == {
                "accounts": len(members),
                "share_of_accounts": round(100 * len(members) / 45, 1),
                "share": round(sum(r.share for r in members), 2),
                "value": round(sum(r.value for r in members), 2),
            }
        top = calc.top_share([r.value for r in reference], 0.2)
        assert result[measure]["top_20_share"] == round(top, 2)
        assert result[measure]["total"] == round(sum(r.value for r in reference if r.value > 0), 2)


def test_the_page_reads_the_table_rows_and_a_downsampled_curve(metrics_book, executive):
    from keycare.insights.selectors import pareto_analysis

    everything = pareto_analysis(actor=executive, filters=PERIOD)
    for abc in (None, "A", "B", "C"):
        page = pareto_analysis(actor=executive, filters=PERIOD, rows=4, abc=abc, curve=10)
        for measure in ("revenue", "gross_profit"):
            full = everything[measure]["rows"]
            assert page[measure]["classes"] == everything[measure]["classes"]
            assert page[measure]["rows"] == [r for r in full if abc in (None, r["abc"])][:4]
            points = page[measure]["curve_points"]
            ranks = [p["rank"] for p in points]
            a = everything[measure]["classes"]["A"]["accounts"]
            b = a + everything[measure]["classes"]["B"]["accounts"]
            assert set(ranks) == {*range(5, 46, 5), a, b, 45} - {0}
            assert [p["cumulative"] for p in points] == [full[i - 1]["cumulative"] for i in ranks]
            assert [p["account"] for p in points] == [full[i - 1]["account"] for i in ranks]


def test_the_sql_concentration_figures_match_the_reference_arithmetic(metrics_book, executive):
    """The concentration figures (one aggregate query) against calculations' top-n share,
    HHI and Gini on the same 45 revenues, with ties, zeros and losses."""
    from keycare.insights import calculations as calc
    from keycare.insights.selectors import _concentration_figures, rounded

    values = [m.revenue for m in metrics_book.values()]
    figures = _concentration_figures(actor=executive, start=dt.date(2026, 1, 1),
                                     end=dt.date(2026, 12, 31), level="account", filters=None)  # fmt: skip
    assert figures == {
        "accounts": 45,
        "top_1_share": rounded(calc.top_n_share(values, 1)),
        "top_5_share": rounded(calc.top_n_share(values, 5)),
        "top_10_share": rounded(calc.top_n_share(values, 10)),
        "hhi": rounded(calc.hhi(values), 1),
        "gini": rounded(calc.gini(values), 4),
    }
