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
