"""Real headless Chromium (Debian's) through Playwright against a live server: a key account
manager opens "My week", sees the overdue cadence, the decision maker not met with the coach
to ask and how to deal with them, clicks "Plan an introduction" and lands on the activity
form, prefilled."""

import re

import pytest
from playwright.sync_api import Page, expect

from keycare.demo.generators import DEMO_PASSWORD, demo_users_ensure


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_my_week_leads_to_a_prefilled_introduction(live_server, page: Page):
    from keycare.accounts.tests.factories import AccountFactory, ContactFactory
    from keycare.engagement.tests.programme_helpers import days_ago, done, make_key
    from keycare.users.models import User

    demo_users_ensure()
    kam = User.objects.get(username="kam")
    account = AccountFactory(name="华鑫汽车有限公司", owner=kam, account_type="strategic")
    make_key(account)
    boss = ContactFactory(account=account, name="张总", buying_role="decision_maker",
                          decision_style="leader")  # fmt: skip
    cto = ContactFactory(account=account, name="王总工", buying_role="decision_maker",
                         decision_style="checker", title="总工程师")  # fmt: skip
    coach = ContactFactory(account=account, name="李工", buying_role="coach", relationship=5,
                           decision_style="follower")  # fmt: skip
    ContactFactory(account=account, name="孙工", reports_to=cto, introduced_by_contact=coach)
    # the decision maker met 40 days ago: the 30-day meeting cadence is 10 days overdue
    done(account, owner=kam, contacts=[boss], when=days_ago(40))

    page.goto(f"{live_server.url}/login/?next=/engagement/")
    page.fill("#id_username", "kam")
    page.fill("#id_password", DEMO_PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("page-title")).to_have_text("My week")

    cadences = page.get_by_test_id("my-week-cadences")
    meeting = cadences.get_by_test_id("cadence-row").filter(has_text="Meet a decision maker")
    expect(meeting.get_by_test_id("cadence-overdue")).to_have_text("10 days overdue")
    expect(meeting).to_contain_text("王总工")  # not met: whom to meet first

    uncovered = page.get_by_test_id("uncovered-row").filter(has_text="王总工")
    expect(uncovered.get_by_test_id("coach-to-ask")).to_have_text("李工")
    expect(uncovered.get_by_test_id("coach-path")).to_contain_text("李工 → 孙工 → 王总工")
    # how to deal with the decision maker (a checker) and with the coach (a follower)
    expect(uncovered).to_contain_text("Bring evidence and detail, and acknowledge their rigour.")
    expect(uncovered).to_contain_text("Use the influence of others they respect.")

    uncovered.get_by_test_id("plan-introduction").click()
    expect(page).to_have_url(re.compile(r"/engagement/activities/new/\?"))
    form = page.get_by_test_id("activity-form")
    expect(form).to_be_visible()
    expect(page.locator("#id_kind")).to_have_value("introduction")
    expect(page.locator("#id_target_contact")).to_have_value(str(cto.pk))
    expect(page.locator("#id_subject")).to_have_value("Introduction to 王总工")
    expect(form.locator(f"input[name=contacts][value='{coach.pk}']")).to_be_checked()
    expect(form.locator(f"input[name=contacts][value='{boss.pk}']")).not_to_be_checked()

    # the account's relationship map highlights the same coach path (two edges, three people)
    page.goto(f"{live_server.url}/accounts/{account.pk}/")
    graph = page.get_by_test_id("relationship-map")
    expect(graph).to_have_attribute("data-rendered", "true")
    highlighted = page.evaluate(
        "() => { const o = echarts.getInstanceByDom(document.querySelector("
        "'[data-testid=relationship-map]')).getOption().series[0];"
        " return [o.links.filter(l => l.lineStyle.width === 4).length,"
        " o.data.filter(n => n.itemStyle.borderWidth === 3).map(n => n.name).sort()]; }"
    )
    assert highlighted == [2, sorted(["李工", "孙工", "王总工"])]
    expect(page.get_by_test_id("engagement-section")).to_contain_text("王总工")
