"""The profitability pages: the account P&L, the whale curve, the policies and thresholds,
the cost rates, the reports and the P&L section of the account 360 page — each for the
people who may see margins, with their own accounts' rows, exported to Excel, with a bad
filter said (400) and never a 500."""

import datetime as dt
import io
import re
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from keycare.accounts.tests.factories import AccountFactory, OrderFactory, ProductFactory
from keycare.profitability.choices import CostDriver
from keycare.profitability.concessions import concession_submit
from keycare.profitability.models import ConcessionPolicy, CostRate, ProfitabilitySettings
from keycare.profitability.policies import policy_create
from keycare.profitability.rates import cost_rate_create
from keycare.service.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db
PERIOD = {"period_from": "2026-01-01", "period_to": "2026-12-31"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAGES = ("profitability_pnl", "profitability_whale", "concession_policies", "cost_rates",
         "profitability_reports")  # fmt: skip
D = Decimal


def _sell(account, revenue, cost, day=dt.date(2026, 3, 1), **line):
    product = ProductFactory(list_price=D(revenue), standard_cost=D(cost))
    return OrderFactory(account=account, order_date=day,
                        lines=[{"product": product, "quantity": 1, **line}])  # fmt: skip


@pytest.fixture
def book(kam, other_kam, executive):
    """苏一 earns well (one ticket at the handling rate); 苏二 sells below cost; 粤一 earns
    after a goodwill concession; 粤二 (strategic: a policy without limits) loses it all to
    a goodwill concession."""
    policy_create(actor=None, data={"name": "无限制 No limits", "account_type": "strategic"})
    cost_rate_create(actor=None, driver=CostDriver.TICKET, valid_from=dt.date(2025, 1, 1),
                     rate=D("50"))  # fmt: skip
    made = {}
    for name, province, owner, revenue, cost, kind in [
        ("苏一", "江苏省", kam, 50_000, 20_000, ""),
        ("苏二", "江苏省", kam, 10_000, 12_000, ""),
        ("粤一", "广东省", other_kam, 40_000, 30_000, ""),
        ("粤二", "广东省", other_kam, 5_000, 3_000, "strategic"),
    ]:  # fmt: skip
        made[name] = AccountFactory(name=name, province=province, owner=owner,
                                    account_type=kind)  # fmt: skip
        _sell(made[name], revenue, cost)
    TicketFactory(account=made["苏一"])
    for name, amount in (("粤一", "3000"), ("粤二", "2500")):
        granted = concession_submit(actor=other_kam, account=made[name], kind="goodwill_parts",
                                    data={"amount": amount}, reason="设备故障补偿")  # fmt: skip
        assert granted.status == "granted"
    return made


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
        rows = [list(row) for row in sheet.iter_rows(values_only=True)]
        sheets[sheet.title] = [[v for v in row if v is not None] for row in rows]
    return sheets


def _export(client, name, params=None):
    return client.get(reverse(f"web:{name}"), {**(params or {}), "export": "xlsx"})


def _rows(page) -> dict[str, dict]:
    return {r["label"]: r for r in page.context["report"]["rows"]}


# --- permissions ---------------------------------------------------------------------------


def test_every_page_is_for_those_who_see_margins(
    login, client, book, admin_user, executive, kam, service_manager, engineer, portal_user
):
    for user in (admin_user, executive, kam, service_manager):
        c = login(user)
        for name in PAGES:
            assert c.get(reverse(f"web:{name}")).status_code == 200, (user, name)
            assert _export(c, name)["Content-Type"] == XLSX, (user, name)
    for user in (engineer, portal_user):
        c = login(user)
        for name in PAGES:
            assert c.get(reverse(f"web:{name}")).status_code == 403, (user, name)
            assert _export(c, name).status_code == 403, (user, name)
        assert c.post(reverse("web:cost_rates"), {"driver": "ticket"}).status_code == 403
    client.logout()
    for name in PAGES:
        anonymous = client.get(reverse(f"web:{name}"))
        assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/")


def test_the_navigation_offers_the_area_to_the_roles_that_see_orders(
    login, admin_user, executive, kam, service_manager, engineer, portal_user
):
    for user, shown in ((admin_user, True), (executive, True), (kam, True),
                        (service_manager, True), (engineer, False), (portal_user, False)):  # fmt: skip
        body = login(user).get(reverse("web:dashboard")).content.decode()
        assert (reverse("web:profitability_pnl") in body) is shown, user
    page = login(kam).get(reverse("web:concession_list"))
    assert page.context["nav_active"] == "profitability"
    assert login(kam).get(reverse("web:cost_rates")).context["nav_active"] == "profitability"


# --- the P&L -------------------------------------------------------------------------------


def test_the_pnl_shows_every_figure_and_why_an_account_loses_money(login, book, executive):
    page = login(executive).get(reverse("web:profitability_pnl"), PERIOD)
    assert page.status_code == 200
    rows = _rows(page)
    assert list(rows) == ["苏一", "粤一", "粤二", "苏二"]  # highest contribution first
    su1 = rows["苏一"]
    assert (su1["revenue"], su1["cost_of_goods"], su1["gross_profit"], su1["gross_margin"]) == (
        D("50000.00"), D("20000.00"), D("30000.00"), D("60.00"))  # fmt: skip
    assert su1["drivers"]["service_labour"] == D("50.00")  # one ticket at the handling rate
    assert (su1["cost_to_serve"], su1["contribution"], su1["contribution_margin"]) == (
        D("50.00"), D("29950.00"), D("59.90"))  # fmt: skip
    assert rows["粤一"]["drivers"]["concessions"] == D("3000.00")
    assert rows["粤一"]["contribution"] == D("7000.00")
    assert rows["苏二"]["reason_texts"] == ["Sold below cost"]
    assert rows["粤二"]["reason_texts"] == ["Concessions granted (100.00% of the cost to serve)"]
    total = page.context["report"]["total"]
    assert (total["revenue"], total["cost_to_serve"], total["contribution"]) == (
        D("105000.00"), D("5550.00"), D("34450.00"))  # fmt: skip
    body = page.content.decode()
    assert body.count('class="table-danger"') == 2  # the two loss-makers
    assert "Sold below cost" in body
    assert f'href="{reverse("web:account_detail", args=[book["苏一"].pk])}"' in body
    assert 'data-testid="pnl-total"' in body and "34,450" in body
    for label in ("Service labour and ticket handling", "Parts not billed", "Travel", "Field visits",
                  "Warranty work", "Engagement (events, gifts, site visits)",
                  "Concessions granted"):  # fmt: skip
        assert f'<th class="text-end">{label}</th>' in body
    lowest = login(executive).get(reverse("web:profitability_pnl"), {**PERIOD, "order": "asc"})
    assert list(_rows(lowest)) == ["苏二", "粤二", "粤一", "苏一"]


def test_a_key_account_manager_sees_only_his_accounts(login, book, kam):
    page = login(kam).get(reverse("web:profitability_pnl"), PERIOD)
    assert list(_rows(page)) == ["苏一", "苏二"]
    assert page.context["report"]["total"]["revenue"] == D("60000.00")
    assert page.context["choices"]["province"] == ["江苏省"]
    sheets = _workbook(_export(login(kam), "profitability_pnl", PERIOD))
    names = [row[0] for row in sheets["Account P&L"][2:]]
    assert names == ["苏一", "苏二", "Total"]
    whale = login(kam).get(reverse("web:profitability_whale"), PERIOD)
    assert [p["name"] for p in whale.context["curve"]["points"]] == ["苏一", "苏二"]


def test_the_pnl_groups_and_filters(login, book, executive, other_kam):
    client = login(executive)
    by_region = client.get(reverse("web:profitability_pnl"), {**PERIOD, "group_by": "province"})
    rows = _rows(by_region)
    assert set(rows) == {"江苏省", "广东省"}
    assert rows["广东省"]["accounts"] == 2 and rows["广东省"]["contribution"] == D("6500.00")
    assert rows["江苏省"]["url"] is None  # only accounts and groups link to the 360 page
    by_owner = client.get(reverse("web:profitability_pnl"), {**PERIOD, "group_by": "owner"})
    assert _rows(by_owner)[str(other_kam)]["revenue"] == D("45000.00")
    strategic = client.get(
        reverse("web:profitability_pnl"), {**PERIOD, "account_type": "strategic"}
    )
    assert list(_rows(strategic)) == ["粤二"]
    region = client.get(reverse("web:profitability_pnl"), {**PERIOD, "province": "广东省"})
    assert list(_rows(region)) == ["粤一", "粤二"]
    assert '<option value="广东省" selected>广东省</option>' in region.content.decode()


def test_a_bad_filter_is_said_with_400_and_the_default_figures_never_exported(
    login, book, executive
):
    client = login(executive)
    for params, message in (
        ({"group_by": "planet"}, "Choose how to group the P&amp;L from the list."),
        ({"period_from": "2026-13-01"}, "Enter a date as YYYY-MM-DD."),
        ({"province": "省" * 31}, "Choose a value from the list."),
    ):
        page = client.get(reverse("web:profitability_pnl"), params)
        assert page.status_code == 400, params
        body = page.content.decode()
        assert 'data-testid="filter-errors"' in body and message in body, params
        assert page.context["report"]["group_by"] == "account"  # the default figures
        refused = _export(client, "profitability_pnl", params)
        assert refused.status_code == 400 and refused["Content-Type"].startswith("text/html")
    order = client.get(reverse("web:profitability_pnl"), {**PERIOD, "order": "bogus"})
    assert order.status_code == 400 and order.context["errors"] == {
        "order": ["Choose a value from the list."]}  # fmt: skip
    assert "Choose a value from the list." in order.content.decode()
    assert list(_rows(order)) == ["苏一", "粤一", "粤二", "苏二"]  # the default order
    assert order.context["ascending"] is False
    assert _export(client, "profitability_pnl", {"order": "bogus"}).status_code == 400
    whale = client.get(reverse("web:profitability_whale"), {"period_to": "yesterday"})
    assert whale.status_code == 400 and "Enter a date as YYYY-MM-DD." in whale.content.decode()
    level = client.get(reverse("web:profitability_whale"), {"level": "bogus"})
    assert level.status_code == 400 and level.context["errors"] == {
        "level": ["Choose a value from the list."]}  # fmt: skip
    assert level.context["level"] == "account"  # the default figures
    assert _export(client, "profitability_whale", {"level": "bogus"}).status_code == 400
    reports = client.get(reverse("web:profitability_reports"), {"tab": "nothing"})
    assert (
        reports.status_code == 400 and "Choose a report from the list." in reports.content.decode()
    )
    by = client.get(reverse("web:profitability_reports"), {"by": "planet"})
    assert by.status_code == 400
    rates = client.get(reverse("web:cost_rates"), {"driver": "lunch"})
    assert (
        rates.status_code == 400 and "Choose a cost driver from the list." in rates.content.decode()
    )
    assert client.get(reverse("web:profitability_pnl"), {"export": "pdf"}).status_code == 404


def test_the_pnl_pages_100_rows_and_exports_them_all(login, executive, kam):
    for i in range(103):
        account = AccountFactory(name=f"客户{i:03d}", owner=kam)
        _sell(account, 1000 + i, 500)
    client = login(executive)
    first = client.get(reverse("web:profitability_pnl"), PERIOD)
    assert len(first.context["page"].object_list) == 100
    assert first.context["page"].object_list[0]["label"] == "客户102"
    link = re.search(r'<a class="page-link" href="([^"]+)"', first.content.decode()).group(1)
    assert link == "?period_from=2026-01-01&amp;period_to=2026-12-31&amp;page=2"
    second = client.get(reverse("web:profitability_pnl") + link.replace("&amp;", "&"))
    assert second.context["page"].number == 2
    assert [r["label"] for r in second.context["page"].object_list] == [
        "客户002",
        "客户001",
        "客户000",
    ]
    fragment = client.get(reverse("web:profitability_pnl"), {**PERIOD, "page": 2},
                          HTTP_HX_REQUEST="true")  # fmt: skip
    assert fragment.content.decode().startswith('<div class="card" id="pnl-table">')
    sheets = _workbook(_export(client, "profitability_pnl", {**PERIOD, "page": 2}))
    table = sheets["Account P&L"]
    assert len(table) == 2 + 103 + 1  # caption, headers, every row, the total
    assert table[0] == ["Period: 2026-01-01 – 2026-12-31", "Grouped by: Account", "Region: all",
                        "Industry: all", "Tier: all", "Account type: all"]  # fmt: skip
    assert table[1][:4] == ["Account", "Accounts", "Revenue", "Discounts"]
    assert table[-1][0] == "Total"


def test_the_pnl_list_takes_a_fixed_number_of_queries(
    login, executive, kam, django_assert_num_queries
):
    client = login(executive)
    _sell(AccountFactory(owner=kam), 1000, 500)
    client.get(reverse("web:profitability_pnl"), PERIOD)  # warm the session
    # session, user, roles; visible accounts; orders, rates, tickets, visits, concessions;
    # the engagement costs (activities, gifts, event shares); the region and industry selects
    with django_assert_num_queries(14):
        assert client.get(reverse("web:profitability_pnl"), PERIOD).status_code == 200
    for _ in range(4):
        _sell(AccountFactory(owner=kam), 2000, 500)
    with django_assert_num_queries(14):
        page = client.get(reverse("web:profitability_pnl"), PERIOD)
    assert len(page.context["page"].object_list) == 5


def test_the_empty_pnl_row_spans_every_column(login, executive):
    for group_by in ("account", "province"):
        page = login(executive).get(reverse("web:profitability_pnl"), {"group_by": group_by})
        body = page.content.decode()
        head = re.search(r"<thead>(.*?)</thead>", body, re.S).group(1)
        span = re.search(r'<td colspan="(\d+)" class="text-secondary">No figures', body)
        assert int(span.group(1)) == head.count("<th") == page.context["columns"], group_by


# --- the whale curve -----------------------------------------------------------------------


def test_the_whale_curve_marks_its_peak_and_the_loss_makers(login, book, executive):
    page = login(executive).get(reverse("web:profitability_whale"), PERIOD)
    assert page.status_code == 200
    curve = page.context["curve"]
    assert [p["name"] for p in curve["points"]] == ["苏一", "粤一", "粤二", "苏二"]
    assert [p["cumulative_pct"] for p in curve["points"]] == [D("86.94"), D("107.26"),
                                                              D("105.81"), D("100.00")]  # fmt: skip
    assert (curve["total"], curve["peak_pct"], curve["peak_rank"], curve["accounts"]) == (
        D("34450.00"), D("107.26"), 2, 4)  # fmt: skip
    assert (curve["loss_makers"], curve["destroyed"]) == (2, D("2500.00"))
    chart = page.context["chart"]
    assert chart["peak"] == [2, D("107.26")] and chart["percent"] is True
    # the line starts at the origin (linking nowhere); then one link per account, in order
    assert chart["points"][:2] == [[0, 0, ""], [1, D("86.94"), "苏一"]]
    assert chart["links"] == [None] + [
        reverse("web:account_detail", args=[book[name].pk])
        for name in ("苏一", "粤一", "粤二", "苏二")
    ]
    assert [p[2] for p in chart["points"]] == ["", "苏一", "粤一", "粤二", "苏二"]
    body = page.content.decode()
    assert 'data-chart="whale"' in body and 'id="chart-whale"' in body
    assert "reached at 2 of 4 accounts" in body
    assert "107.26%" in body and "34,450" in body and "destroy 2,500 of profit" in body
    losers = [r["label"] for r in curve["loss_making_accounts"]]
    assert losers == ["苏二", "粤二"]  # the largest loss first
    assert "Concessions granted (100.00% of the cost to serve)" in body
    sheets = _workbook(_export(login(executive), "profitability_whale", PERIOD))
    assert [row[1] for row in sheets["Whale curve"][2:]] == ["苏一", "粤一", "粤二", "苏二"]
    assert sheets["Loss-making accounts"][2][0] == "苏二"
    assert sheets["Loss-making accounts"][2][-1] == "Sold below cost"
    groups = login(executive).get(reverse("web:profitability_whale"), {**PERIOD, "level": "group"})
    assert groups.context["level"] == "group"


# --- policies and thresholds ---------------------------------------------------------------


def test_everyone_reads_the_policies_and_only_administrators_change_them(login, admin_user, kam):
    page = login(kam).get(reverse("web:concession_policies"))
    body = page.content.decode()
    assert page.context["may_edit"] is False
    assert "默认政策 Default policy" in body and 'data-testid="policy-edit"' not in body
    assert 'data-testid="thresholds-form"' not in body
    assert login(kam).get(reverse("web:concession_policy_create")).status_code == 403
    policy = ConcessionPolicy.objects.get(tier="gold")
    denied = login(kam).post(reverse("web:concession_policy_edit", args=[policy.pk]),
                             {"name": "x", "lock_version": policy.lock_version})  # fmt: skip
    assert denied.status_code == 403
    assert (
        login(kam).post(reverse("web:concession_policy_delete", args=[policy.pk])).status_code
        == 403
    )
    assert ConcessionPolicy.objects.get(pk=policy.pk).name == "黄金客户 Gold"
    admin = login(admin_user).get(reverse("web:concession_policies")).content.decode()
    assert 'data-testid="policy-edit"' in admin and 'data-testid="thresholds-form"' in admin


def test_an_empty_limit_reads_no_limit_and_the_export_holds_every_limit(login, kam):
    policy_create(actor=None, data={"name": "战略客户 Strategic", "account_type": "strategic",
                                    "max_discount_pct": D("30")})  # fmt: skip
    page = login(kam).get(reverse("web:concession_policies"))
    row = next(p for p in page.context["policies"] if p.account_type == "strategic")
    assert row.limits[0] == D("30") and row.limits[1:] == [None] * 9
    assert "no limit" in page.content.decode()
    sheets = _workbook(_export(login(kam), "concession_policies"))
    strategic = next(r for r in sheets["Concession policies"][2:] if r[0] == "战略客户 Strategic")
    assert strategic[:4] == ["战略客户 Strategic", "Any", "Strategic value", 30]
    assert strategic.count("no limit") == 9
    assert sheets["Approval thresholds"][2] == ["Service manager approval above", 5000]


def test_an_administrator_adds_changes_and_removes_a_policy(login, admin_user):
    client = login(admin_user)
    data = {"name": "铁牌客户 Iron", "tier": "iron", "account_type": "", "max_discount_pct": "8",
            "min_line_margin_pct": "18", "is_active": "on"}  # fmt: skip
    added = client.post(reverse("web:concession_policy_create"), data)
    assert added.status_code == 302 and added["Location"] == reverse("web:concession_policies")
    policy = ConcessionPolicy.objects.get(tier="iron")
    assert (policy.max_discount_pct, policy.min_line_margin_pct, policy.gift_limit_per_contact) == (
        D("8"), D("18"), None)  # fmt: skip
    edit = client.get(reverse("web:concession_policy_edit", args=[policy.pk]))
    assert edit.context["form"].initial["lock_version"] == 1
    changed = client.post(reverse("web:concession_policy_edit", args=[policy.pk]),
                          {**data, "max_discount_pct": "9", "lock_version": 1})  # fmt: skip
    assert changed.status_code == 302
    policy.refresh_from_db()
    assert (policy.max_discount_pct, policy.lock_version) == (D("9"), 2)
    stale = client.post(reverse("web:concession_policy_edit", args=[policy.pk]),
                        {**data, "max_discount_pct": "1", "lock_version": 1})  # fmt: skip
    assert stale.status_code == 409  # as the API answers it
    assert "Someone else changed this record while you were editing it." in stale.content.decode()
    twice = client.post(reverse("web:concession_policy_create"), data)
    assert twice.status_code == 400
    assert "A policy for this tier and account type already exists." in twice.content.decode()
    wrong = client.post(reverse("web:concession_policy_create"),
                        {**data, "tier": "gold", "max_discount_pct": "150"})  # fmt: skip
    assert wrong.status_code == 400 and wrong.context["form"].errors["max_discount_pct"]
    assert ConcessionPolicy.objects.filter(tier="iron").count() == 1
    policy.refresh_from_db()
    assert policy.max_discount_pct == D("9")
    removed = client.post(reverse("web:concession_policy_delete", args=[policy.pk]))
    assert removed.status_code == 302 and not ConcessionPolicy.objects.filter(tier="iron").exists()


def test_a_policy_change_needs_the_version_it_was_read_at(login, admin_user):
    policy = ConcessionPolicy.objects.get(tier="gold")
    client = login(admin_user)
    data = {"name": "黄金客户 Gold", "tier": "gold", "account_type": "", "max_discount_pct": "1",
            "is_active": "on"}  # fmt: skip
    blind = client.post(reverse("web:concession_policy_edit", args=[policy.pk]), data)
    assert blind.status_code == 400  # not saved over whatever was changed meanwhile
    assert blind.context["form"].errors["lock_version"] == [
        "The form does not say which version you edited: reload the page and make the "
        "change again."]  # fmt: skip
    assert 'data-testid="error-lock_version"' in blind.content.decode()
    policy.refresh_from_db()
    assert (policy.max_discount_pct, policy.lock_version) == (D("20"), 1)
    # a new policy has no version to carry
    assert "lock_version" not in client.get(reverse("web:concession_policy_create")).context[
        "form"].fields  # fmt: skip


def test_the_default_policy_stays(login, admin_user):
    default = ConcessionPolicy.objects.get(tier="", account_type="")
    client = login(admin_user)
    listed = client.get(reverse("web:concession_policies")).content.decode()
    assert listed.count('data-testid="policy-delete"') == 3  # not offered for the default
    removed = client.post(reverse("web:concession_policy_delete", args=[default.pk]), follow=True)
    assert removed.status_code == 200
    assert "The default policy (any tier, any type) stays active" in removed.content.decode()
    off = client.post(reverse("web:concession_policy_edit", args=[default.pk]), {
        "name": default.name, "tier": "", "account_type": "", "lock_version": default.lock_version,
    })  # fmt: skip
    assert off.status_code == 400 and off.context["form"].errors["is_active"]
    default.refresh_from_db()
    assert (default.is_active, default.lock_version) == (True, 1)


def test_the_thresholds_are_edited_with_their_version(login, admin_user, kam):
    settings = ProfitabilitySettings.current()
    data = {"service_manager_above": "6000", "executive_above": "30000",
            "service_manager_share": "10", "executive_share": "25",
            "lock_version": settings.lock_version}  # fmt: skip
    assert login(kam).post(reverse("web:concession_policies"), data).status_code == 403
    client = login(admin_user)
    saved = client.post(reverse("web:concession_policies"), data)
    assert saved.status_code == 302
    settings.refresh_from_db()
    assert (settings.service_manager_above, settings.lock_version) == (D("6000"), 2)
    stale = client.post(reverse("web:concession_policies"), {**data, "executive_above": "1"})
    assert stale.status_code == 409  # as the API answers it
    assert "Someone else changed this record" in stale.content.decode()
    inverted = client.post(reverse("web:concession_policies"),
                           {**data, "executive_above": "100", "lock_version": 2})  # fmt: skip
    assert inverted.status_code == 400
    assert inverted.context["thresholds_form"].errors["executive_above"] == [
        "The executive threshold cannot be below the service manager's."]  # fmt: skip
    settings.refresh_from_db()
    assert (settings.executive_above, settings.lock_version) == (D("30000"), 2)


# --- cost rates ----------------------------------------------------------------------------


def test_the_rates_page_warns_of_a_driver_without_a_rate(login, kam):
    cost_rate_create(actor=None, driver=CostDriver.ENGINEER_HOUR, valid_from=dt.date(2026, 1, 1),
                     pool_cost=D("240000"), capacity=D("8500"))  # fmt: skip
    page = login(kam).get(reverse("web:cost_rates"))
    assert page.status_code == 200
    body = page.content.decode()
    assert [str(label) for label in page.context["missing"]] == [
        "Field visit (dispatch and vehicle, per visit)", "Ticket handling (service desk, per ticket)"]  # fmt: skip
    assert 'data-testid="rates-missing"' in body
    assert '<div class="h2 mb-0" data-testid="rate-engineer_hour">28.24</div>' in body
    assert "240,000 ÷ 8,500 = 28.24" in body
    assert 'data-testid="rate-form"' not in body  # read only


def test_an_administrator_adds_a_rate_from_a_pool_and_withdraws_a_future_one(login, admin_user):
    client = login(admin_user)
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    added = client.post(reverse("web:cost_rates"), {
        "driver": "engineer_hour", "valid_from": tomorrow.isoformat(),
        "pool_cost": "240000", "capacity": "8500",
    }, follow=True)  # fmt: skip
    assert added.status_code == 200
    assert (f"Engineer hour from {tomorrow.isoformat()}: 240,000 ÷ 8,500 = 28.24."
            in added.content.decode())  # fmt: skip
    rate = CostRate.objects.get()
    assert rate.rate == D("28.24")
    wrong = client.post(reverse("web:cost_rates"), {"driver": "ticket", "valid_from": "2026-01-01",
                                                    "pool_cost": "1000"})  # fmt: skip
    assert wrong.status_code == 400
    assert wrong.context["form"].errors["capacity"] == [
        "Give both the pool's cost and its capacity, or neither."]  # fmt: skip
    assert CostRate.objects.count() == 1
    page = client.get(reverse("web:cost_rates")).content.decode()
    assert 'data-testid="rate-withdraw"' in page
    withdrawn = client.post(reverse("web:cost_rate_withdraw", args=[rate.pk]))
    assert withdrawn.status_code == 302 and not CostRate.objects.exists()


def test_a_rate_in_effect_is_not_withdrawn(login, admin_user, kam):
    rate = cost_rate_create(actor=None, driver=CostDriver.TICKET, valid_from=dt.date(2026, 1, 1),
                            rate=D("40"))  # fmt: skip
    assert login(kam).post(reverse("web:cost_rate_withdraw", args=[rate.pk])).status_code == 403
    refused = login(admin_user).post(reverse("web:cost_rate_withdraw", args=[rate.pk]), follow=True)
    assert (
        "This rate is in effect; add a new rate instead of changing it." in refused.content.decode()
    )
    assert CostRate.objects.filter(pk=rate.pk).exists()
    sheets = _workbook(_export(login(kam), "cost_rates"))
    current = sheets["Current rates"][2:]
    assert [row[:2] for row in current] == [
        ["Engineer hour"], ["Field visit (dispatch and vehicle, per visit)"],
        ["Ticket handling (service desk, per ticket)", 40],
    ]  # fmt: skip
    assert current[2][2].date() == dt.date(2026, 1, 1)  # Excel dates read back as datetimes
    history = sheets["Rate history"][2]
    assert (history[0], history[1].date(), history[2]) == (
        "Ticket handling (service desk, per ticket)", dt.date(2026, 1, 1), 40)  # fmt: skip


# --- reports -------------------------------------------------------------------------------


def test_the_reports_group_the_concessions_and_flag_the_accounts(login, book, executive, kam):
    client = login(executive)
    by_account = client.get(reverse("web:profitability_reports"), PERIOD)
    assert [(r["label"], r["amount"]) for r in by_account.context["figures"]["rows"]] == [
        ("粤一", D("3000.00")), ("粤二", D("2500.00"))]  # fmt: skip
    assert by_account.context["figures"]["total"] == {"count": 2, "amount": D("5500.00")}
    by_approver = client.get(reverse("web:profitability_reports"), {**PERIOD, "by": "approver"})
    assert [r["label"] for r in by_approver.context["figures"]["rows"]] == [
        "Within policy (granted at once)"]  # fmt: skip
    sheets = _workbook(_export(client, "profitability_reports", {**PERIOD, "by": "kind"}))
    assert sheets["Concessions granted"][1] == ["Kind", "Concessions", "Amount"]
    assert sheets["Concessions granted"][2:] == [["Goodwill parts", 2, 5500], ["Total", 2, 5500]]
    below = client.get(reverse("web:profitability_reports"), {**PERIOD, "tab": "below_floor"})
    rows = below.context["figures"]["rows"]
    assert [r["name"] for r in rows] == ["苏二"]  # 粤二's policy has no floor
    assert "below the floor of 20%" in below.content.decode()
    # a key account manager's reports hold his accounts only
    mine = login(kam).get(reverse("web:profitability_reports"), PERIOD)
    assert mine.context["figures"]["rows"] == []


def test_flagged_order_lines_are_listed_and_exported(login, executive, kam):
    account = AccountFactory(name="折扣客户", owner=kam)
    _sell(account, 10_000, 6_000, net_price=D("7000"))  # 30% off; the default allows 15%
    client = login(executive)
    page = client.get(reverse("web:profitability_reports"), {**PERIOD, "tab": "flagged"})
    rows = page.context["figures"]["rows"]
    assert [(r["account"].name, r["discount_pct"], r["margin_pct"]) for r in rows] == [
        ("折扣客户", D("30.00"), D("14.29"))]  # fmt: skip
    body = page.content.decode()
    assert rows[0]["order"].number in body and "30.00%" in body
    sheets = _workbook(_export(client, "profitability_reports", {**PERIOD, "tab": "flagged"}))
    line = sheets["Flagged order lines"][2]
    assert (
        line[0] == rows[0]["order"].number and line[2] == "折扣客户" and line[-4:-2] == [30, 14.29]
    )
    assert (
        line[-2]
        == "Discount 30.00% above the maximum of 15.00%. Gross margin 14.29% below the floor of 15.00%."
    )
    assert line[-1] == "默认政策 Default policy"
    over = client.get(reverse("web:profitability_reports"), {**PERIOD, "tab": "over_policy"})
    assert over.status_code == 200 and over.context["figures"]["rows"] == []


# --- the account 360 page ------------------------------------------------------------------


def test_the_360_page_shows_the_pnl_to_those_who_see_margins(login, book, kam, engineer):
    from keycare.accounts.tests.factories import AccountTeamMemberFactory

    account = book["苏二"]
    branch = AccountFactory(name="苏二分厂", parent=account, owner=kam)
    _sell(branch, 4_000, 1_000)
    page = login(kam).get(reverse("web:account_detail", args=[account.pk]))
    profit = page.context["profit"]
    assert profit["pnl"]["own"]["contribution"] == D("-2000.00")
    assert profit["pnl"]["has_branches"] is True
    assert profit["pnl"]["group"]["contribution"] == D("1000.00")
    assert profit["reason_texts"] == ["Sold below cost"]
    assert profit["may_request"] is True
    assert profit["flagged"] == 1  # its order line sold below cost, under the line floor
    body = page.content.decode()
    assert 'data-testid="account-pnl"' in body and "Sold below cost" in body
    assert f"{reverse('web:concession_new')}?account={account.pk}" in body
    assert 'data-testid="pnl-group-contribution"' in body
    assert "1 order line breaks the policy without a concession" in body
    AccountTeamMemberFactory(account=account, user=engineer)
    hidden = login(engineer).get(reverse("web:account_detail", args=[account.pk]))
    assert hidden.status_code == 200 and hidden.context["profit"] is None
    assert 'data-testid="account-pnl"' not in hidden.content.decode()


def test_the_360_flagged_lines_link_to_that_accounts_lines(login, kam, other_kam, executive):
    mine = AccountFactory(name="折扣客户", owner=kam)
    _sell(mine, 10_000, 6_000, day=timezone.localdate(), net_price=D("7000"))
    theirs = AccountFactory(name="别家折扣", owner=other_kam)
    _sell(theirs, 10_000, 6_000, day=timezone.localdate(), net_price=D("7000"))
    client = login(executive)
    page = client.get(reverse("web:account_detail", args=[mine.pk]))
    assert page.context["profit"]["flagged"] == 1
    link = re.search(r'<a href="([^"]+)" class="text-warning" data-testid="pnl-flagged">',
                     page.content.decode()).group(1).replace("&amp;", "&")  # fmt: skip
    assert link == f"{reverse('web:profitability_reports')}?tab=flagged&account={mine.pk}"
    report = client.get(link)
    assert report.status_code == 200 and report.context["account"] == mine
    assert [r["account"].name for r in report.context["figures"]["rows"]] == ["折扣客户"]
    body = report.content.decode()
    assert "Only the order lines of 折扣客户." in body
    assert f'<input type="hidden" name="account" value="{mine.pk}">' in body
    everyone = client.get(reverse("web:profitability_reports"), {"tab": "flagged"})
    assert {r["account"].name for r in everyone.context["figures"]["rows"]} == {
        "折扣客户",
        "别家折扣",
    }
    sheets = _workbook(_export(client, "profitability_reports",
                               {"tab": "flagged", "account": mine.pk}))  # fmt: skip
    assert "Account: 折扣客户" in sheets["Flagged order lines"][0]
    assert [row[2] for row in sheets["Flagged order lines"][2:]] == ["折扣客户"]
    for raw in ("abc", "1.5", "-1", "99999999999999999999"):
        wrong = client.get(reverse("web:profitability_reports"), {"tab": "flagged", "account": raw})
        assert wrong.status_code == 400, raw
        assert wrong.context["errors"] == {"account": ["Choose an account from the list."]}, raw
    # an account the user does not see
    assert login(kam).get(link.replace(str(mine.pk), str(theirs.pk))).status_code == 404


def test_the_360_page_lists_the_accounts_concessions(login, book, executive):
    page = login(executive).get(reverse("web:account_detail", args=[book["粤一"].pk]))
    concessions = page.context["profit"]["concessions"]
    assert [(c.kind, c.amount, c.status) for c in concessions] == [
        ("goodwill_parts", D("3000.00"), "granted")]  # fmt: skip
    assert concessions[0].number in page.content.decode()


# --- in the browser ------------------------------------------------------------------------

XSS_NAME = '<img src=x onerror="window.__xss=1">'


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_whale_tooltip_shows_a_name_as_text_and_a_point_opens_its_account(live_server, page):
    from playwright.sync_api import expect

    from keycare.demo.generators import DEMO_PASSWORD, demo_users_ensure

    demo_users_ensure()
    day = timezone.localdate() - dt.timedelta(days=30)
    evil = AccountFactory(name=XSS_NAME)
    _sell(evil, 50_000, 20_000, day=day)
    plain = AccountFactory(name="苏二")
    _sell(plain, 10_000, 12_000, day=day)
    page.goto(f"{live_server.url}/login/?next={reverse('web:profitability_whale')}")
    page.fill("#id_username", "exec")
    page.fill("#id_password", DEMO_PASSWORD)
    page.get_by_test_id("login-submit").click()
    chart = page.locator('[data-testid="whale-chart"][data-rendered="true"]')
    expect(chart).to_be_visible()
    box = chart.bounding_box()

    def point(rank):  # where the curve's point of that rank is drawn, on the page
        x, y = page.evaluate("""(rank) => {
            const el = document.querySelector('[data-testid="whale-chart"]');
            const d = JSON.parse(document.getElementById("chart-whale").textContent);
            const p = d.points[rank];
            return echarts.getInstanceByDom(el).convertToPixel({seriesIndex: 0}, [p[0], Number(p[1])]);
        }""", rank)  # fmt: skip
        return box["x"] + x, box["y"] + y

    page.mouse.move(*point(1))
    expect(chart).to_contain_text(f"#1 {XSS_NAME}")  # the name as text, not markup
    assert page.evaluate("window.__xss") is None
    page.mouse.move(*point(2))
    expect(chart).to_contain_text("#2 苏二")
    page.mouse.click(*point(2))  # the second account's page, not the first's
    expect(page).to_have_url(f"{live_server.url}{reverse('web:account_detail', args=[plain.pk])}")
    assert page.evaluate("window.__xss") is None


def test_a_refusal_is_a_page_of_keycare_in_the_reader_s_language(client, engineer):
    """A 403 keeps the navigation and speaks the reader's language (not Django's bare page)."""
    client.force_login(engineer)
    client.cookies["django_language"] = "zh-hans"
    page = client.get("/profitability/")
    html = page.content.decode()
    assert page.status_code == 403 and 'data-testid="forbidden"' in html
    assert 'lang="zh-hans"' in html and "KeyCare" in html
