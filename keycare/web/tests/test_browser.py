"""Real headless Chromium (Debian's) through Playwright against a live server."""

import re

import pytest
from playwright.sync_api import Page, expect

from keycare.demo.generators import DEMO_PASSWORD, demo_users_ensure


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_login_switch_to_chinese_and_see_the_dashboard(live_server, page: Page):
    from keycare.accounts.tests.factories import AccountFactory
    from keycare.users.models import User

    demo_users_ensure()
    AccountFactory(owner=User.objects.get(username="kam"), province="浙江省")
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/login/"))
    page.fill("#id_username", "kam")
    page.fill("#id_password", DEMO_PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("page-title")).to_have_text("Dashboard")

    page.get_by_test_id("language-switcher").get_by_role("button", name="简体中文").click()
    expect(page.get_by_test_id("page-title")).to_have_text("仪表盘")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_test_id("main-nav")).to_contain_text("客户")
    # static files (Tabler with Bootstrap's JS, htmx, ECharts) are served locally and work
    assert page.evaluate("typeof window.htmx") == "object"
    expect(page.get_by_test_id("province-chart").locator("canvas")).to_have_count(1)
    page.get_by_test_id("user-menu").click()
    expect(page.get_by_role("button", name="退出登录")).to_be_visible()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_account_search_updates_the_table_through_htmx(live_server, page: Page):
    from keycare.accounts.tests.factories import AccountFactory
    from keycare.users.models import User

    demo_users_ensure()
    kam = User.objects.get(username="kam")
    AccountFactory(owner=kam, name="华鑫汽车有限公司")
    AccountFactory(owner=kam, name="远东钢铁有限公司")
    page.set_viewport_size({"width": 390, "height": 844})  # phone-sized
    page.goto(f"{live_server.url}/login/?next=/accounts/")
    page.fill("#id_username", "kam")
    page.fill("#id_password", DEMO_PASSWORD)
    page.get_by_test_id("login-submit").click()
    table = page.get_by_test_id("account-table")
    expect(table).to_contain_text("远东钢铁有限公司")
    page.locator("#id_q").fill("华鑫")
    expect(table).not_to_contain_text("远东钢铁有限公司")
    expect(table).to_contain_text("华鑫汽车有限公司")
    expect(page).to_have_url(re.compile(r"q=%E5%8D%8E%E9%91%AB|q=华鑫"))


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_account_360_page_renders_the_relationship_map(live_server, page: Page):
    from keycare.accounts.tests.factories import AccountFactory, ContactFactory
    from keycare.users.models import User

    demo_users_ensure()
    kam = User.objects.get(username="kam")
    group = AccountFactory(owner=kam, name="华鑫汽车集团有限公司")
    AccountFactory(owner=kam, name="华鑫汽车（苏州）有限公司", parent=group)
    boss = ContactFactory(
        account=group, name="张总", buying_role="decision_maker", decision_style="leader"
    )
    coach = ContactFactory(account=group, name="李工", buying_role="coach", reports_to=boss)
    ContactFactory(account=group, name="王经理", reports_to=boss, introduced_by_contact=coach)

    page.goto(f"{live_server.url}/login/?next=/accounts/{group.pk}/")
    page.fill("#id_username", "kam")
    page.fill("#id_password", DEMO_PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("account-name")).to_have_text("华鑫汽车集团有限公司")
    expect(page.get_by_test_id("branches")).to_contain_text("华鑫汽车（苏州）有限公司")
    graph = page.get_by_test_id("relationship-map")
    expect(graph).to_have_attribute("data-rendered", "true")
    expect(graph.locator("canvas")).to_have_count(1)
    # the chart holds the three people and the two reports-to plus one introduced-by edges
    option = page.evaluate(
        "() => { const o = echarts.getInstanceByDom(document.querySelector("
        "'[data-testid=relationship-map]')).getOption().series[0];"
        " return [o.data.map(n => n.name).sort(), o.links.length]; }"
    )
    assert option == [["张总", "李工", "王经理"], 3]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_full_repair_case_in_the_browser(live_server, page: Page):
    """Portal request → assignment → visit with parts → resolution → rating."""
    import re as _re
    from decimal import Decimal

    from django.core import mail

    from keycare.accounts.choices import AccountTeamRole
    from keycare.accounts.tests.factories import (
        AccountFactory,
        AccountTeamMemberFactory,
        ContactFactory,
        ProductFactory,
    )
    from keycare.service.defaults import service_defaults_ensure
    from keycare.service.models import StockLevel, StockLocation, Ticket
    from keycare.users.models import User

    service_defaults_ensure()
    demo_users_ensure()
    engineer = User.objects.get(username="engineer")
    customer = User.objects.get(username="customer")
    account = AccountFactory(name="华鑫汽车有限公司", tier="gold")
    AccountTeamMemberFactory(account=account, user=engineer, role=AccountTeamRole.SERVICE_LEAD)
    ContactFactory(account=account, user=customer, name="赵磊", email="zhao@huaxin.example")
    part = ProductFactory(name="主轴轴承", standard_cost=Decimal("3900"))
    StockLevel.objects.create(location=StockLocation.objects.create(name="二号车", kind="van"), product=part,
                              quantity=Decimal("3"))  # fmt: skip

    def login(username):
        page.context.clear_cookies()
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", DEMO_PASSWORD)
        page.get_by_test_id("login-submit").click()
        expect(page.get_by_test_id("page-title")).to_be_visible()

    # the customer opens a request on the portal
    login("customer")
    page.goto(f"{live_server.url}/service/new/")
    page.fill("#id_subject", "主轴异响")
    page.select_option("#id_priority", "P2")
    report = {"name": "振动检测报告.pdf", "mimeType": "application/pdf",
              "buffer": b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n"}  # fmt: skip
    page.set_input_files("#id_file", files=[report])
    page.get_by_role("button", name="Open ticket").click()
    expect(page.get_by_test_id("ticket-status")).to_have_text("New")
    expect(page.get_by_test_id("attachment")).to_contain_text("振动检测报告.pdf")
    ticket = Ticket.objects.get()

    # the engineer takes it, starts, plans and completes a visit with a part, resolves it
    login("engineer")
    page.goto(f"{live_server.url}/service/{ticket.pk}/")
    with page.expect_download() as download:  # the engineer opens the customer's report
        page.get_by_test_id("attachment-link").click()
    assert download.value.suggested_filename == "振动检测报告.pdf"
    page.get_by_test_id("claim").click()
    expect(page.get_by_test_id("assignee")).to_contain_text(str(engineer))
    page.get_by_test_id("to-in_progress").click()
    expect(page.get_by_test_id("ticket-status")).to_have_text("In progress")
    page.fill("#id_planned_start", "2026-12-01T09:00")
    page.get_by_role("button", name="Plan visit").click()
    form = page.get_by_test_id("complete-visit")
    form.locator("textarea[name=work_done]").fill("更换主轴轴承")
    form.locator("input[name=labour_hours]").fill("2")
    form.locator("select[name=stock]").select_option(index=1)
    form.locator("input[name=signed_off_by]").fill("赵磊")
    form.get_by_role("button", name="Complete the visit").click()
    expect(page.get_by_test_id("cost-to-serve")).to_have_text("4260.00")  # 2 h × 180 + 3,900
    page.fill("#id_resolution", "更换轴承后试机正常")
    page.get_by_test_id("resolve").click()
    expect(page.get_by_test_id("ticket-status")).to_have_text("Resolved")

    # the customer rates it through the one-time link
    link = _re.search(r"/rate/[\w-]+/", mail.outbox[-1].body).group(0)
    page.context.clear_cookies()
    page.goto(f"{live_server.url}{link}")
    page.locator("label[for=score-5]").click()
    page.get_by_role("button", name="Send my rating").click()
    expect(page.get_by_test_id("rating-thanks")).to_be_visible()
    ticket.refresh_from_db()
    assert (ticket.status, ticket.rating.score, ticket.parts_cost) == (
        "resolved",
        5,
        Decimal("3900.00"),
    )


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_executive_reads_the_scorecard_and_confirms_a_key_account(live_server, page: Page):
    import datetime as dt
    from decimal import Decimal

    from django.utils import timezone

    from keycare.accounts.tests.factories import AccountFactory, OrderFactory, ProductFactory
    from keycare.insights.models import KeyAccount

    demo_users_ensure()
    day = timezone.localdate() - dt.timedelta(days=20)
    for i, name in enumerate(["远航机床有限公司", "恒通精密有限公司", "宏达重工有限公司"]):
        account = AccountFactory(name=name)
        product = ProductFactory(
            list_price=Decimal(40_000 * (i + 1)), standard_cost=Decimal(20_000)
        )
        OrderFactory(account=account, order_date=day, lines=[{"product": product, "quantity": 1}])
    page.goto(f"{live_server.url}/login/?next=/insights/scorecard/")
    page.fill("#id_username", "exec")
    page.fill("#id_password", DEMO_PASSWORD)
    page.get_by_test_id("login-submit").click()
    ranking = page.get_by_test_id("scorecard-ranking")
    expect(ranking.locator("tbody tr").first).to_contain_text("宏达重工有限公司")
    expect(page.locator("[data-source=chart-grades] canvas")).to_have_count(1)
    page.get_by_role("link", name="Key accounts", exact=True).click()
    proposals = page.get_by_test_id("proposals")
    first = proposals.locator("tbody tr").first
    expect(first).to_contain_text("宏达重工有限公司")
    first.get_by_placeholder("Reason").fill("利润贡献最高")
    first.get_by_role("button", name="Confirm").click()
    expect(page.get_by_test_id("key-accounts")).to_contain_text("宏达重工有限公司")
    expect(page.get_by_test_id("key-account-history")).to_contain_text("利润贡献最高")
    assert KeyAccount.objects.get().account.name == "宏达重工有限公司"
