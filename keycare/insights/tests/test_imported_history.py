"""An order history imported from the ERP flows through the insights: the stored metrics are
refreshed by the import itself, the Pareto classes and the scorecard rank the imported
accounts, and the tiers they earn select the SLA policy of their next tickets."""

import csv
import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from keycare.accounts.models import Account
from keycare.accounts.tests.factories import AccountFactory, ProductFactory
from keycare.insights.metrics import metrics_ensure, trailing_twelve_months
from keycare.insights.models import AccountMetric, TierChange
from keycare.service.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db

#: name, orders per quarter over two years, net price per order
BOOK = [
    ("远航机床有限公司", 2, 300_000),
    ("恒通精密有限公司", 1, 150_000),
    ("宏达重工有限公司", 1, 60_000),
    ("小型五金有限公司", 1, 12_000),
]


def _history(path, today):
    rows = [["订单号", "行号", "订单日期", "客户", "产品编码", "数量", "成交价", "行类型"]]
    number = 0
    for name, per_quarter, price in BOOK:
        for quarter in range(8):
            for k in range(per_quarter):
                number += 1
                day = today - dt.timedelta(days=20 + 91 * quarter + 7 * k)
                rows.append([f"SO-{number:04d}", "1", day.isoformat(), name, "CNC-100", "1",
                             str(price), ""])  # fmt: skip
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return number


@pytest.fixture
def imported(tmp_path, django_capture_on_commit_callbacks):
    today = timezone.localdate()
    for name, _per_quarter, _price in BOOK:
        AccountFactory(name=name, tier="iron")
    ProductFactory(code="CNC-100", list_price=Decimal("320000"), standard_cost=Decimal("9000"))
    start, end = trailing_twelve_months(today)
    metrics_ensure(start=start, end=end)  # the period is stored before the import: all zero
    assert not AccountMetric.objects.filter(revenue__gt=0).exists()
    path = tmp_path / "orders.csv"
    lines = _history(path, today)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("import", "orders", str(path), "--no-progress")
    return lines


def _api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_an_imported_history_is_analysed(imported, admin_user, executive):
    assert imported == 40
    own = {m.account.name: m for m in AccountMetric.objects.filter(scope="own", revenue__gt=0)}
    # the import refreshed the stored trailing year: four quarters of orders each
    assert {n: (m.orders, m.revenue) for n, m in own.items()} == {
        "远航机床有限公司": (8, Decimal("2400000.00")),
        "恒通精密有限公司": (4, Decimal("600000.00")),
        "宏达重工有限公司": (4, Decimal("240000.00")),
        "小型五金有限公司": (4, Decimal("48000.00")),
    }
    assert own["小型五金有限公司"].gross_profit == Decimal("12000.00")  # 4 × (12,000 − 9,000)
    pareto = _api(executive).get("/api/v1/insights/pareto/").json()
    classes = {r["name"]: r["abc"] for r in pareto["revenue"]["rows"]}
    # of 3.288M: 2.4M is 73% (A); 3.0M is 91%, crossing 80%: still A; 3.24M is 98.5%,
    # crossing 95%: still B; the rest is C
    assert classes == {"远航机床有限公司": "A", "恒通精密有限公司": "A", "宏达重工有限公司": "B",
                       "小型五金有限公司": "C"}  # fmt: skip
    ranking = _api(executive).get("/api/v1/insights/scorecard/").json()
    assert [r["name"] for r in ranking["rows"]][:2] == ["远航机床有限公司", "恒通精密有限公司"]
    assert all(len(r["breakdown"]) == len(ranking["criteria"]) for r in ranking["rows"])
    clv = _api(executive).get("/api/v1/insights/clv/").json()
    assert {a["name"] for a in clv["accounts"]} >= {name for name, *_rest in BOOK}
    # every account always pays the same per order: too uniform for the spend model (q ≤ 1);
    # the purchase predictions stand, the revenue is unknown rather than a crash
    assert "q" in clv["at_bound"]
    assert all(a["expected_revenue_12m"] is None and a["p_alive"] is not None
               for a in clv["accounts"])  # fmt: skip
    applied = _api(admin_user).post("/api/v1/insights/tiers/apply/", {}, format="json").json()
    assert applied["changed"] >= 1
    tiers = dict(Account.objects.values_list("name", "tier"))
    assert tiers["远航机床有限公司"] == "platinum"
    change = TierChange.objects.get(account__name="远航机床有限公司")
    assert change.from_tier == "iron" and "Customer pyramid" in change.reason
    ticket = TicketFactory(account=Account.objects.get(name="远航机床有限公司"))
    assert ticket.sla_policy.tier == "platinum"
