"""The insights pages: region and industry filters with their selects, drill-down to the
accounts, the Excel export of every table (the page's rows, for the page's people, formulas
neutralised) and the CLV page, with a fixed number of queries."""

import datetime as dt
import io
import json
import random
from decimal import Decimal

import openpyxl
import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from keycare.accounts.models import Order
from keycare.accounts.tests.factories import AccountFactory, OrderFactory, ProductFactory

pytestmark = pytest.mark.django_db
PERIOD = {"period_from": "2026-01-01", "period_to": "2026-12-31"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAGES = ("insights_pareto", "insights_pyramid", "insights_concentration",
         "insights_volume_profit", "insights_neglected")  # fmt: skip


def _sell(account, revenue, cost, day=dt.date(2026, 3, 1)):
    product = ProductFactory(list_price=Decimal(revenue), standard_cost=Decimal(cost))
    OrderFactory(account=account, order_date=day, lines=[{"product": product, "quantity": 1}])


@pytest.fixture
def book(kam, other_kam):
    """Revenue 50k / 40k / 30k / 20k; 粤二 sells below cost (lead)."""
    made = {}
    for name, province, industry, owner, revenue, cost in [
        ("苏一", "江苏省", "汽车制造", kam, 50_000, 20_000),
        ("粤一", "广东省", "汽车制造", other_kam, 40_000, 30_000),
        ("苏二", "江苏省", "电子", kam, 30_000, 10_000),
        ("粤二", "广东省", "电子", other_kam, 20_000, 25_000),
    ]:  # fmt: skip
        made[name] = AccountFactory(name=name, province=province, industry=industry, owner=owner)
        _sell(made[name], revenue, cost)
    return made


@pytest.fixture
def cold(kam, other_kam):
    """Two accounts nobody has ever served (neglected)."""
    return [AccountFactory(name="苏冷", province="江苏省", industry="电子", owner=kam),
            AccountFactory(name="粤冷", province="广东省", industry="电子", owner=other_kam)]  # fmt: skip


@pytest.fixture
def login(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user


def _workbook(response) -> dict[str, list[list]]:
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    content = b"".join(response.streaming_content)
    workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    sheets = {}
    for sheet in workbook:
        # the caption row, the headers, the rows: each cut or padded to its own width
        caption, headers, *rows = [list(row) for row in sheet.iter_rows(values_only=True)]
        caption = caption[: max(i + 1 for i, v in enumerate(caption) if v is not None)]
        headers = headers[: max(i + 1 for i, v in enumerate(headers) if v is not None)]
        width = len(headers)
        rows = [(row + [None] * width)[:width] for row in rows]
        sheets[sheet.title] = [caption, headers, *rows]
    return sheets


def _export(client, name, params=None, **headers):
    return client.get(reverse(f"web:{name}"), {**(params or {}), "export": "xlsx"}, **headers)


# --- filters -------------------------------------------------------------------------------


def test_the_region_narrows_the_page_and_the_selects_offer_the_visible_values(
    login, book, cold, executive, kam
):
    client = login(executive)
    page = client.get(reverse("web:insights_pareto"), {**PERIOD, "province": "广东省"})
    rows = {m: table for m, _data, table in page.context["measures"]}
    assert [r["name"] for r in rows["revenue"]] == ["粤一", "粤二", "粤冷"]  # 粤冷: no sales
    assert page.context["choices"] == {"province": ["广东省", "江苏省"],
                                       "industry": ["汽车制造", "电子"]}  # fmt: skip
    body = page.content.decode()
    assert '<option value="广东省" selected>广东省</option>' in body
    assert '<option value="江苏省">江苏省</option>' in body
    for name in PAGES[1:]:  # the shared filter form and the neglect form carry the selects
        other = client.get(reverse(f"web:{name}"), {**PERIOD, "industry": "电子"})
        assert 'data-testid="filter-province"' in other.content.decode()
        assert '<option value="电子" selected>电子</option>' in other.content.decode()
    neglected = client.get(reverse("web:insights_neglected"), {"province": "广东省", "days": 3650})
    assert [a["name"] for a in neglected.context["figures"]["accounts"]] == ["粤冷"]
    # a key account manager is offered the regions of his own accounts only
    mine = login(kam).get(reverse("web:insights_pareto"), PERIOD)
    assert mine.context["choices"]["province"] == ["江苏省"]


def test_the_level_selector_only_where_it_applies(login, book, executive):
    client = login(executive)
    assert 'name="level"' in client.get(reverse("web:insights_pyramid")).content.decode()
    assert 'name="level"' not in client.get(reverse("web:insights_neglected")).content.decode()


def test_a_bad_filter_is_said_on_the_page_and_never_exported(login, book, executive):
    client = login(executive)
    for name in PAGES:
        page = client.get(reverse(f"web:{name}"), {**PERIOD, "province": "省" * 31})
        body = page.content.decode()
        assert page.status_code == 200
        assert 'data-testid="filter-errors"' in body, name
        assert "Choose a region from the list (at most 30 characters)." in body
        assert page.context["chosen"] == {}
        refused = _export(client, name, {**PERIOD, "industry": "x\x01y"})
        assert refused["Content-Type"].startswith("text/html"), name
        assert "Choose an industry from the list (at most 60 characters)." in (
            refused.content.decode())  # fmt: skip
    assert client.get(reverse("web:insights_pareto"), {"export": "pdf"}).status_code == 404


# --- drill-down ----------------------------------------------------------------------------


def test_a_pareto_class_narrows_the_tables_and_every_account_links_to_its_page(
    login, book, executive
):
    client = login(executive)
    page = client.get(reverse("web:insights_pareto"), PERIOD)
    body = page.content.decode()
    for account in book.values():
        assert f'href="{reverse("web:account_detail", args=[account.pk])}"' in body
    assert 'href="?period_from=2026-01-01&amp;period_to=2026-12-31&amp;abc=B"' in body
    script = body.split('<script id="chart-revenue" type="application/json">')[1]
    chart = json.loads(script.split("</script>")[0])
    assert chart["links"] == [reverse("web:account_detail", args=[book[n].pk])
                              for n in ("苏一", "粤一", "苏二", "粤二")]  # fmt: skip
    only_b = client.get(reverse("web:insights_pareto"), {**PERIOD, "abc": "B"})
    tables = {m: table for m, _data, table in only_b.context["measures"]}
    assert [(r["rank"], r["name"], r["abc"]) for r in tables["revenue"]] == [(4, "粤二", "B")]
    assert 'data-testid="drill-down"' in only_b.content.decode()
    # the class counts above the table still count every class
    assert only_b.context["measures"][0][1]["classes"]["A"]["accounts"] == 3
    wrong = client.get(reverse("web:insights_pareto"), {**PERIOD, "abc": "Z"})
    assert "Choose class A, B or C." in wrong.content.decode()
    assert len({m: t for m, _d, t in wrong.context["measures"]}["revenue"]) == 4


def test_a_pyramid_tier_narrows_the_accounts_and_the_chart_leads_there(login, book, executive):
    client = login(executive)
    page = client.get(reverse("web:insights_pyramid"), PERIOD)
    assert (
        page.context["chart"]["links"][3]
        == "?period_from=2026-01-01&period_to=2026-12-31&tier=lead"
    )
    assert page.context["chart"]["values"] == [1, 0, 2, 1]
    lead = client.get(reverse("web:insights_pyramid"), {**PERIOD, "tier": "lead"})
    assert [(a["name"], a["tier"]) for a in lead.context["accounts"]] == [("粤二", "lead")]
    sheets = _workbook(_export(client, "insights_pyramid", {**PERIOD, "tier": "lead"}))
    assert sheets["Accounts"][2:] == [["粤二", "Lead", None, -5000]]
    assert "Choose a tier of the pyramid." in client.get(
        reverse("web:insights_pyramid"), {"tier": "diamond"}).content.decode()  # fmt: skip


def test_a_scatter_point_opens_its_account(login, book, executive):
    page = login(executive).get(reverse("web:insights_volume_profit"), PERIOD)
    chart = page.context["chart"]
    names = [p[2] for p in chart["points"]] + [p[2] for p in chart["flagged"]]
    links = chart["links"][0] + chart["links"][1]
    assert links == [reverse("web:account_detail", args=[book[n].pk]) for n in names]


# --- export --------------------------------------------------------------------------------


def test_the_pareto_export_holds_the_page_rows(login, book, executive):
    client = login(executive)
    page = client.get(reverse("web:insights_pareto"), PERIOD)
    response = _export(client, "insights_pareto", PERIOD)
    assert response["Content-Disposition"] == (
        'attachment; filename="keycare-pareto-2026-01-01-2026-12-31.xlsx"')  # fmt: skip
    sheets = _workbook(response)
    assert list(sheets) == ["Revenue", "Gross profit"]
    caption = ["Period: 2026-01-01 – 2026-12-31", "Level: Accounts", "Region: all",
               "Industry: all", "Class A up to 80%, class B up to 95%"]  # fmt: skip
    for measure, title in (("revenue", "Revenue"), ("gross_profit", "Gross profit")):
        rows = sheets[title]
        assert rows[0] == caption
        assert rows[1] == ["#", "Account", "Value", "Share (%)", "Cumulative (%)", "Class"]
        table = {m: t for m, _d, t in page.context["measures"]}[measure]
        assert rows[2:] == [[r["rank"], r["name"], r["value"], r["share"], r["cumulative"],
                             r["abc"]] for r in table]  # fmt: skip
    assert sheets["Revenue"][2] == [1, "苏一", 50000, 35.71, 35.71, "A"]
    # the button asks for the same filters
    assert ('href="?period_from=2026-01-01&amp;period_to=2026-12-31&amp;export=xlsx" '
            'data-testid="export-xlsx"') in page.content.decode()  # fmt: skip
    assert sheets["Revenue"][5] == [4, "粤二", 20000, 14.29, 100, "B"]
    narrowed = _workbook(_export(client, "insights_pareto", {**PERIOD, "province": "广东省",
                                                               "abc": "A"}))  # fmt: skip
    assert narrowed["Revenue"][0][2:] == ["Region: 广东省", "Industry: all",
                                          "Class A up to 80%, class B up to 95%",
                                          "Class A only"]  # fmt: skip
    assert [r[1] for r in narrowed["Revenue"][2:]] == ["粤一", "粤二"]  # 粤二 crosses 80%


def test_the_headers_are_in_the_users_language(login, book, executive):
    sheets = _workbook(_export(login(executive), "insights_pareto", PERIOD,
                               HTTP_ACCEPT_LANGUAGE="zh-hans"))  # fmt: skip
    assert list(sheets) == ["收入", "毛利"]
    assert sheets["收入"][1][1] == "客户" and sheets["收入"][1][5] == "类别"


def test_every_other_page_exports_its_tables(login, book, cold, executive):
    client = login(executive)
    pyramid = client.get(reverse("web:insights_pyramid"), PERIOD).context
    sheets = _workbook(_export(client, "insights_pyramid", PERIOD))
    labels = {"platinum": "Platinum", "gold": "Gold", "iron": "Iron", "lead": "Lead", "": None}
    assert sheets["Accounts"][0][-1] == "Platinum the top 10%, gold up to the top 30%"
    assert sheets["Accounts"][1] == [
        "Account",
        "Tier",
        "Current tier",
        "Profit after cost to serve",
    ]
    assert sheets["Accounts"][2:] == [[a["name"], labels[a["tier"]], labels[a["current_tier"]],
                                       a["profit"]] for a in pyramid["accounts"]]  # fmt: skip
    assert sheets["Accounts"][2] == ["苏一", "Platinum", None, 30000]
    assert sheets["Lead accounts"][2:] == [
        ["粤二", -5000, "sold below cost (gross profit -5000.00)"]
    ]

    concentration = client.get(reverse("web:insights_concentration"), PERIOD).context["figures"]
    response = _export(client, "insights_concentration", PERIOD)
    assert "keycare-concentration-2026-01-01-2026-12-31.xlsx" in response["Content-Disposition"]
    rows = _workbook(response)["Concentration"]  # the two accounts without sales count too
    assert rows[0][1] == "Level: Groups with their branches"
    assert rows[2:] == [["Accounts", 6], ["Largest account (% of revenue)", 35.71],
                        ["Top 5 (% of revenue)", 100], ["Top 10 (% of revenue)", 100],
                        ["HHI", concentration["hhi"]], ["Gini", concentration["gini"]]]  # fmt: skip

    volume = client.get(reverse("web:insights_volume_profit"), PERIOD).context["figures"]
    sheets = _workbook(_export(client, "insights_volume_profit", PERIOD))
    assert sheets["Volume without profit"][2:] == [
        [p["name"], p["revenue"], p["gross_profit"], p["contribution"], p["margin"]]
        for p in volume["flagged"]]  # fmt: skip
    assert sheets["All accounts"][2] == ["苏一", 50000, 30000, 30000, 60, "No"]
    assert [r[0] for r in sheets["All accounts"][2:]] == ["苏一", "粤一", "苏二", "粤二"]

    neglected = client.get(reverse("web:insights_neglected"), {"days": 3650}).context["figures"]
    response = _export(client, "insights_neglected", {"days": 3650})
    today = timezone.localdate().isoformat()
    assert f"keycare-neglected-{today}.xlsx" in response["Content-Disposition"]
    rows = _workbook(response)["Neglected accounts"]
    assert rows[0][0] == "Days without contact: 3650"
    assert rows[1] == ["Account", "Tier", "Last order", "Last ticket", "Last visit", "Days since"]
    assert (
        [r[0] for r in rows[2:]] == [a["name"] for a in neglected["accounts"]] == ["粤冷", "苏冷"]
    )
    assert rows[2][1:] == [None, None, None, None, None]


def test_a_key_account_manager_exports_only_his_accounts(login, book, cold, kam, engineer, client):
    sheets = _workbook(_export(login(kam), "insights_pareto", PERIOD))
    assert [r[1] for r in sheets["Revenue"][2:]] == ["苏一", "苏二", "苏冷"]
    neglected = _workbook(_export(login(kam), "insights_neglected", {"days": 3650}))
    assert [r[0] for r in neglected["Neglected accounts"][2:]] == ["苏冷"]
    login(engineer)  # no order rights: no insights, no export
    for name in (*PAGES, "insights_clv"):
        assert client.get(reverse(f"web:{name}")).status_code == 404
        assert _export(client, name, PERIOD).status_code == 404
    client.logout()
    anonymous = _export(client, "insights_pareto", PERIOD)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/")


def test_formulas_in_names_are_neutralised(login, executive):
    for i, name in enumerate(['=HYPERLINK("http://evil.example","x")', "+86 138", "-2+3",
                              "@SUM(A1)"]):  # fmt: skip
        _sell(AccountFactory(name=name), 1000 * (i + 1), 100)
    rows = _workbook(_export(login(executive), "insights_pareto", PERIOD))["Revenue"][2:]
    assert sorted(r[1] for r in rows) == sorted(["'=HYPERLINK(\"http://evil.example\",\"x\")",
                                                 "'+86 138", "'-2+3", "'@SUM(A1)"])  # fmt: skip
    assert all(isinstance(r[2], int | float) for r in rows)  # numbers stay numbers


# --- CLV -----------------------------------------------------------------------------------


@pytest.fixture
def order_book(kam, other_kam):
    cache.clear()
    rng = random.Random(7)
    today = timezone.localdate()
    accounts = [
        AccountFactory(name=f"客户{i:02d}", owner=kam if i % 2 else other_kam) for i in range(40)
    ]
    orders = []
    for i, account in enumerate(accounts):
        first = today - dt.timedelta(days=rng.randint(200, 700))
        for k in range(rng.randint(1, 8)):
            day = min(first + dt.timedelta(days=k * rng.randint(20, 90)), today)
            orders.append(Order(number=f"C{i:02d}-{k}", account=account, order_date=day,
                                total_net=rng.randint(5_000, 50_000), total_cost=1000))  # fmt: skip
    Order.objects.bulk_create(orders)
    return accounts


def test_the_clv_page_with_enough_data(login, order_book, executive, kam):
    client = login(executive)
    page = client.get(reverse("web:insights_clv"))
    body = page.content.decode()
    figures = page.context["figures"]
    assert page.status_code == 200 and 'data-testid="clv-unavailable"' not in body
    assert 'data-testid="clv-at-bound"' in body  # the drop-out parameters sit at the bound
    assert {"a", "b"} <= set(figures["at_bound"])
    assert f'<code>alpha</code></dt><dd class="col-8">{figures["bgnbd"]["alpha"]}</dd>' in body
    assert len(figures["accounts"]) == 40
    for row in figures["accounts"]:
        assert f'href="{reverse("web:account_detail", args=[row["account"]])}"' in body
    chart = page.context["chart"]
    top = [r for r in figures["accounts"] if r["expected_revenue_12m"] is not None][:20]
    assert chart["labels"] == [r["name"] for r in top] and len(chart["links"]) == len(top)
    response = _export(client, "insights_clv")
    today = timezone.localdate().isoformat()
    assert f"keycare-clv-{today}.xlsx" in response["Content-Disposition"]
    rows = _workbook(response)["Customer lifetime value"]
    assert rows[0][0] == f"Calibrated on the orders up to {today}"
    assert rows[1] == ["Account", "P(alive)", "Expected orders, next 12 months",
                       "Expected revenue, next 12 months"]  # fmt: skip
    assert rows[2:] == [[r["name"], r["p_alive"], r["expected_orders_12m"],
                         r["expected_revenue_12m"]] for r in figures["accounts"]]  # fmt: skip
    mine = login(kam).get(reverse("web:insights_clv")).context["figures"]["accounts"]
    assert len(mine) == 20
    from keycare.accounts.models import Account

    Account.objects.filter(name__in=["客户00", "客户01"]).update(province="浙江省")
    client = login(executive)
    zhejiang = client.get(reverse("web:insights_clv"), {"province": "浙江省"})
    assert {r["name"] for r in zhejiang.context["figures"]["accounts"]} == {"客户00", "客户01"}
    assert client.get(reverse("web:insights_clv"), {"province": "x" * 500}).context["errors"]


def test_the_clv_page_with_too_little_data(login, executive):
    cache.clear()
    _sell(AccountFactory(name="只买一次"), 1000, 500, day=timezone.localdate())
    client = login(executive)
    page = client.get(reverse("web:insights_clv"))
    assert page.status_code == 200
    body = page.content.decode()
    assert 'data-testid="clv-unavailable"' in body
    assert "Not enough repeat purchases to fit the customer value models." in body
    refused = _export(client, "insights_clv")
    assert refused["Content-Type"].startswith("text/html")
    assert 'data-testid="clv-unavailable"' in refused.content.decode()


# --- queries -------------------------------------------------------------------------------


def _queries(client, name, params):
    client.get(reverse(f"web:{name}"), params)  # the period is computed on the first visit
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse(f"web:{name}"), params).status_code == 200
        assert _export(client, name, params).status_code == 200
    return len(captured)


@pytest.mark.parametrize("name", PAGES)
def test_the_pages_and_exports_take_a_fixed_number_of_queries(login, book, executive, name):
    client = login(executive)
    params = {**PERIOD, "province": "江苏省"}
    few = _queries(client, name, params)
    for i in range(6):
        _sell(AccountFactory(name=f"新客户{i}", province="江苏省"), 5_000 + i, 1_000)
    from keycare.insights.metrics import metrics_recompute

    metrics_recompute(start=dt.date(2026, 1, 1), end=dt.date(2026, 12, 31))
    assert _queries(client, name, params) == few


def test_the_pareto_page_of_the_stored_year_takes_a_fixed_number_of_queries(
    login, admin_user, django_capture_on_commit_callbacks
):
    """The benchmark's page: the Pareto of the trailing twelve months, read from the stored
    metrics, as an administrator, at 3 and at 30 accounts."""
    from keycare.insights.metrics import metrics_recompute, trailing_twelve_months

    client = login(admin_user)
    day = timezone.localdate() - dt.timedelta(days=30)
    counts = []
    for n, more in ((3, 3), (30, 27)):
        for i in range(more):
            _sell(AccountFactory(name=f"帕累托{n}-{i}"), 10_000 + 1_000 * i, 4_000, day)
        start, end = trailing_twelve_months()
        metrics_recompute(start=start, end=end)
        with django_capture_on_commit_callbacks(execute=True):
            client.get(reverse("web:insights_pareto"))
        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse("web:insights_pareto"))
        assert len(response.context["figures"]["revenue"]["rows"]) == n
        cache.clear()  # the figures computed again, not read from the cache
        with CaptureQueriesContext(connection) as cold:
            again = client.get(reverse("web:insights_pareto"))
        assert again.context["figures"] == response.context["figures"]
        counts.append((len(captured), len(cold)))
    # warm: the cache keys (metrics stamp, latest ids, settings) instead of the figures
    assert counts == [(13, 19), (13, 19)]
