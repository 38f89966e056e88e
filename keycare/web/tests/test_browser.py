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
