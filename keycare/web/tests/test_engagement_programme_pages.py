"""The engagement programme pages: My week, the coverage report and one account's coverage,
the executive's sponsored accounts and the overdue report, the playbooks (administrators
edit, others read; stale edits refused with nothing changed), the engagement section of the
account 360 page with the coach path on the relationship map — who sees what per role,
bad input, and pinned query counts."""

import datetime as dt
import json
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from keycare.accounts.choices import AccountTeamRole
from keycare.accounts.tests.factories import (
    AccountFactory,
    AccountTeamMemberFactory,
    ContactFactory,
)
from keycare.engagement.coverage_ticks import coverage_refresh
from keycare.engagement.models import AccountCoverage, EngagementLog, Playbook, PlaybookItem
from keycare.engagement.tests.factories import PlaybookFactory
from keycare.engagement.tests.programme_helpers import at, days_ago, done, make_key, planned
from keycare.insights.models import KeyAccount

pytestmark = pytest.mark.django_db

PAGES = ["web:my_week", "web:coverage_list", "web:sponsor_accounts", "web:sponsor_overdue",
         "web:playbook_list"]  # fmt: skip


@pytest.fixture
def login(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user


@pytest.fixture
def acme(kam, executive):
    """A strategic key account of the kam's sponsored by the executive: the boss (met 5
    days ago), the CTO (never met; the coach introduced the engineer, who reports to him)
    and the coach."""
    account = AccountFactory(name="华鑫汽车", owner=kam, account_type="strategic")
    make_key(account)
    AccountTeamMemberFactory(account=account, user=executive,
                             role=AccountTeamRole.EXECUTIVE_SPONSOR)  # fmt: skip
    boss = ContactFactory(account=account, name="张总", buying_role="decision_maker",
                          decision_style="leader")  # fmt: skip
    cto = ContactFactory(account=account, name="王总工", buying_role="decision_maker",
                         decision_style="checker")  # fmt: skip
    coach = ContactFactory(account=account, name="李工", buying_role="coach", relationship=5,
                           decision_style="follower")  # fmt: skip
    eng = ContactFactory(account=account, name="孙工", reports_to=cto, introduced_by_contact=coach)
    done(account, owner=kam, contacts=[boss], when=days_ago(5))
    account.people = {"boss": boss, "cto": cto, "coach": coach, "eng": eng}
    coverage_refresh()  # the stored figures the reports read (the coverage tick)
    return account


@pytest.mark.parametrize("name", PAGES)
def test_anonymous_visitors_log_in_first(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and response["Location"].startswith(reverse("web:login"))


@pytest.mark.parametrize("name", PAGES)
def test_customer_contacts_are_refused(login, portal_user, acme, name):
    ContactFactory(account=acme, user=portal_user)
    assert login(portal_user).get(reverse(name)).status_code == 403
    client = login(portal_user)
    assert client.get(reverse("web:coverage_detail", args=[acme.pk])).status_code == 403
    assert (
        client.get(reverse("web:playbook_detail", args=[Playbook.objects.first().pk])).status_code
        == 403
    )


@pytest.mark.parametrize("role", ["admin_user", "executive", "kam", "service_manager", "engineer"])
def test_staff_open_every_page(request, login, role, acme):
    client = login(request.getfixturevalue(role))
    for name in PAGES:
        assert client.get(reverse(name)).status_code == 200, name


def test_the_navigation_leads_to_my_week(login, kam):
    response = login(kam).get(reverse("web:my_week"))
    engagement = next(i for i in response.context["nav_items"] if i.key == "engagement")
    assert engagement.url() == reverse("web:my_week") == "/engagement/"
    assert response.context["nav_active"] == "engagement"
    for name in ("web:coverage_list", "web:sponsor_accounts", "web:playbook_list"):
        assert login(kam).get(reverse(name)).context["nav_active"] == "engagement"


# --- My week -------------------------------------------------------------------------------


def test_my_week_shows_whom_to_meet_why_and_how(login, kam, acme):
    response = login(kam).get(reverse("web:my_week"))
    html = response.content.decode()
    # the cadences: the strategic playbook, never done: due today
    assert "Executive sponsor visits a decision maker" in html
    assert "Needs and pains discovery with the key persons (every 90 days): never done." in html
    # the boss was met 5 days ago: the meeting with a decision maker is due in 25 days
    assert "Meet a decision maker" not in html
    # the CTO with the coach to ask and how to deal with each
    assert "王总工" in html and "Ask first:" in html
    assert "Bring evidence and detail, and acknowledge their rigour." in html  # the CTO
    assert "Use the influence of others they respect." in html  # the coach
    uncovered = response.context["week"].uncovered
    assert [u.person.name for u in uncovered] == ["王总工"]
    query = parse_qs(urlsplit(uncovered[0].plan_url).query)
    assert urlsplit(uncovered[0].plan_url).path == reverse("web:activity_create")
    p = acme.people
    assert query == {"account": [str(acme.pk)], "kind": ["introduction"],
                     "contacts": [str(p["coach"].pk)], "target_contact": [str(p["cto"].pk)],
                     "subject": ["Introduction to 王总工"]}  # fmt: skip


def test_a_suggestion_links_to_the_prefilled_form(login, kam, acme):
    week = login(kam).get(reverse("web:my_week")).context["week"]
    visit = next(s for s in week.cadences if s.item.kind == "executive_visit")
    query = parse_qs(urlsplit(visit.plan_url).query)
    assert query == {"account": [str(acme.pk)], "kind": ["executive_visit"],
                     "contacts": sorted([str(acme.people["cto"].pk), str(acme.people["boss"].pk)],
                                        key=lambda pk: pk != str(acme.people["cto"].pk)),
                     "playbook_item": [str(visit.item.pk)],
                     "subject": ["Executive sponsor visits a decision maker"]}  # fmt: skip
    # the link opens the activity form with it all filled in
    form = login(kam).get(visit.plan_url).context["form"]
    assert form.initial["kind"] == "executive_visit"
    assert form.initial["playbook_item"] == visit.item.pk


def test_my_week_in_chinese(login, kam, acme):
    client = login(kam)
    client.cookies["django_language"] = "zh-hans"
    html = client.get(reverse("web:my_week"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "高层联系人拜访决策者" in html  # the playbook's Chinese title
    assert "拿出证据和细节，肯定对方的严谨。" in html


def test_another_kams_week_has_none_of_it(login, other_kam, acme):
    week = login(other_kam).get(reverse("web:my_week")).context["week"]
    assert week.accounts == [] and week.cadences == [] and week.uncovered == []


def test_my_week_page_takes_a_fixed_number_of_queries(login, kam, acme, django_assert_num_queries):
    client = login(kam)
    monday = dt.date.fromisoformat(str(timezone.localdate())) - dt.timedelta(
        days=timezone.localdate().weekday()
    )
    planned(acme, owner=kam, contacts=[acme.people["boss"]], when=at(monday, 9))
    # session, user, roles; my week 17 (the key accounts among mine; the colleagues' query
    # none here)
    with django_assert_num_queries(21):
        assert client.get(reverse("web:my_week")).status_code == 200
    for i in range(3):
        account = AccountFactory(owner=kam, account_type="strategic")
        boss = ContactFactory(account=account, buying_role="decision_maker")
        planned(account, owner=kam, contacts=[boss], when=at(monday, 10 + i))
        done(account, owner=kam, contacts=[boss], when=days_ago(3), next_step="报价",
             next_step_due=timezone.localdate() - dt.timedelta(days=1))  # fmt: skip
    with django_assert_num_queries(21):
        response = client.get(reverse("web:my_week"))
    assert len(response.context["week"].planned) == 4


# --- coverage ------------------------------------------------------------------------------


def test_the_coverage_report(login, kam, other_kam, acme):
    make_key(AccountFactory(name="别人的客户", owner=other_kam))
    coverage_refresh()
    response = login(kam).get(reverse("web:coverage_list"))
    rows = list(response.context["page"])
    assert [(r.account.name, r.coverage.score) for r in rows] == [("华鑫汽车", 60)]
    html = response.content.decode()
    assert 'data-testid="flag-uncovered_decision_makers"' in html and "别人的客户" not in html
    # the figures as of their last refresh, and the decision makers met of those known
    computed = AccountCoverage.objects.get(account=acme).computed_at
    as_of = timezone.localtime(computed).strftime("%Y-%m-%d %H:%M")
    assert f'data-testid="coverage-as-of">{as_of}</td>' in html
    assert "<td>1 / 2</td>" in html


def test_the_coverage_report_filters_and_says_what_is_wrong(login, kam, acme):
    client = login(kam)
    assert (
        list(client.get(reverse("web:coverage_list"), {"flag": "no_coach"}).context["page"]) == []
    )
    response = client.get(reverse("web:coverage_list"), {"below": "abc"})
    assert response.status_code == 400
    assert "below: Enter a number." in response.content.decode()
    fragment = client.get(reverse("web:coverage_list"), {"flag": "uncovered_decision_makers"},
                          HTTP_HX_REQUEST="true")  # fmt: skip
    assert fragment.templates[0].name == "web/engagement/coverage_table.html"


def test_one_accounts_coverage(login, kam, other_kam, acme):
    response = login(kam).get(reverse("web:coverage_detail", args=[acme.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    # 20 + 15 (one of two met) + 15 (coach) + 5 (one engaged) + 15 × 2/6 (two roles) = 60
    assert response.context["coverage"].score == 60
    assert 'data-testid="plan-introduction"' in html and "李工" in html
    assert [u["person"].name for u in response.context["uncovered"]] == ["王总工"]
    assert login(other_kam).get(reverse("web:coverage_detail", args=[acme.pk])).status_code == 404
    assert login(kam).get(reverse("web:coverage_detail", args=[10**9])).status_code == 404


def test_coverage_pages_take_a_fixed_number_of_queries(login, kam, acme, django_assert_num_queries):
    client = login(kam)
    # session, user, roles; the count, the page (the stored figures joined): nothing computed;
    # the owner select's key account managers
    with django_assert_num_queries(6):
        client.get(reverse("web:coverage_list"))
    for _ in range(30):
        account = make_key(AccountFactory(owner=kam)).account
        done(account, owner=kam, contacts=[ContactFactory(account=account, buying_role="user")])
    coverage_refresh()
    with django_assert_num_queries(6):
        assert len(client.get(reverse("web:coverage_list")).context["page"]) == 25
    with django_assert_num_queries(6):
        assert len(client.get(reverse("web:coverage_list"), {"page": "2"}).context["page"]) == 6
    # the detail: session, user, roles; the account (team, tags); may see it; coverage 3;
    # who met them (touches, activities, participants)
    with django_assert_num_queries(13):
        client.get(reverse("web:coverage_detail", args=[acme.pk]))
    done(acme, owner=kam, contacts=list(acme.people.values()), when=days_ago(100))
    with django_assert_num_queries(13):
        client.get(reverse("web:coverage_detail", args=[acme.pk]))


# --- the executive sponsor programme ------------------------------------------------------


def test_an_executive_sees_the_accounts_they_sponsor(login, executive, make_user, acme):
    from keycare.users.choices import Role

    response = login(executive).get(reverse("web:sponsor_accounts"))
    rows = response.context["rows"]
    assert [(r.account.name, r.executive.overdue_days, r.coverage_score) for r in rows] == [
        ("华鑫汽车", 0, 60),
    ]  # fmt: skip
    assert 'data-testid="plan-visit"' in response.content.decode()
    other = make_user(Role.EXECUTIVE, username="exec2")
    assert login(other).get(reverse("web:sponsor_accounts")).context["rows"] == []


def test_the_overdue_report_page(login, executive, kam, acme, django_assert_num_queries):
    make_key(AccountFactory(name="无人负责", owner=kam))
    coverage_refresh()
    client = login(executive)
    # session, user, roles; the count, the page, the sponsors: nothing computed
    # (+2: the owner and sponsor selects' choices)
    with django_assert_num_queries(8):
        client.get(reverse("web:sponsor_overdue"))
    for _ in range(30):
        make_key(AccountFactory(owner=kam))
    coverage_refresh()
    with django_assert_num_queries(8):
        assert len(client.get(reverse("web:sponsor_overdue")).context["page"]) == 25
    for key in KeyAccount.objects.exclude(account__in=[acme]).exclude(account__name="无人负责"):
        key.delete()
    response = login(executive).get(reverse("web:sponsor_overdue"))
    assert [(r.account.name, r.flags) for r in response.context["page"]] == [
        ("华鑫汽车", ["missed"]), ("无人负责", ["no_sponsor"]),
    ]  # fmt: skip
    assert 'data-testid="flag-no-sponsor"' in response.content.decode()
    bad = login(executive).get(reverse("web:sponsor_overdue"), {"sponsor": "x"})
    assert bad.status_code == 400 and "sponsor: Select a valid choice." in bad.content.decode()


def test_sponsor_pages_take_a_fixed_number_of_queries(login, executive, kam, acme,
                                                      django_assert_num_queries):  # fmt: skip
    client = login(executive)
    # session, user, roles; the accounts; cadences 6; the last executive
    # contact 1; coverage 3; service health 3
    with django_assert_num_queries(17):
        client.get(reverse("web:sponsor_accounts"))
    for _ in range(3):
        account = AccountFactory(owner=kam, account_type="intrinsic")
        AccountTeamMemberFactory(account=account, user=executive,
                                 role=AccountTeamRole.EXECUTIVE_SPONSOR)  # fmt: skip
    with django_assert_num_queries(17):
        assert len(client.get(reverse("web:sponsor_accounts")).context["rows"]) == 4


# --- playbooks -----------------------------------------------------------------------------


def test_everyone_on_the_staff_reads_the_playbooks(login, kam):
    response = login(kam).get(reverse("web:playbook_list"))
    assert len(response.context["playbooks"]) == 4 and not response.context["may_edit"]
    strategic = Playbook.objects.get(account_type="strategic", tier="")
    detail = login(kam).get(reverse("web:playbook_detail", args=[strategic.pk]))
    html = detail.content.decode()
    assert "Executive sponsor visits a decision maker" in html
    assert detail.context["measures"]["practices"]  # the strategic service strategy
    assert 'data-testid="playbook-edit"' not in html


@pytest.mark.parametrize("role", ["kam", "executive", "service_manager"])
def test_only_administrators_edit_playbooks(request, login, role):
    client = login(request.getfixturevalue(role))
    playbook = Playbook.objects.get(account_type="strategic", tier="")
    item = playbook.items.first()
    before = (Playbook.objects.count(), PlaybookItem.objects.count(), playbook.lock_version)
    assert client.get(reverse("web:playbook_create")).status_code == 403
    assert (
        client.post(reverse("web:playbook_create"), {"name": "x", "name_zh": "x"}).status_code
        == 403
    )
    assert client.post(reverse("web:playbook_edit", args=[playbook.pk]),
                       {"name": "x", "name_zh": "x", "lock_version": 1}).status_code == 403  # fmt: skip
    assert client.post(reverse("web:playbook_delete", args=[playbook.pk])).status_code == 403
    assert (
        client.post(reverse("web:playbook_item_create", args=[playbook.pk]), {}).status_code == 403
    )
    assert client.post(reverse("web:playbook_item_delete", args=[item.pk])).status_code == 403
    playbook.refresh_from_db()
    assert (Playbook.objects.count(), PlaybookItem.objects.count(), playbook.lock_version) == before
    assert not EngagementLog.objects.exists()


def test_an_administrator_adds_and_changes_a_playbook(login, admin_user):
    client = login(admin_user)
    response = client.post(reverse("web:playbook_create"), {
        "account_type": "extrinsic", "tier": "gold", "name": "Extrinsic gold", "name_zh": "外在金卡",
        "notes": "Dedicated engineer", "is_active": "on"})  # fmt: skip
    playbook = Playbook.objects.get(account_type="extrinsic", tier="gold")
    assert response.status_code == 302 and response["Location"] == reverse(
        "web:playbook_detail", args=[playbook.pk]
    )
    response = client.post(reverse("web:playbook_item_create", args=[playbook.pk]), {
        "kind": "meeting", "our_role": "service_lead", "their_role": "technical_evaluator",
        "every_days": "60", "title": "Service review", "title_zh": "服务回顾", "lock_version": "1"})  # fmt: skip
    assert response.status_code == 302
    item = playbook.items.get()
    assert (item.every_days, item.position) == (60, 0)
    response = client.post(reverse("web:playbook_item_edit", args=[item.pk]), {
        "kind": "meeting", "our_role": "service_lead", "their_role": "", "every_days": "45",
        "title": "Service review", "title_zh": "服务回顾", "lock_version": "2"})  # fmt: skip
    item.refresh_from_db()
    assert response.status_code == 302 and (item.every_days, item.their_role) == (45, "")
    response = client.post(reverse("web:playbook_edit", args=[playbook.pk]), {
        "account_type": "extrinsic", "tier": "gold", "name": "Extrinsic gold v2",
        "name_zh": "外在金卡", "lock_version": "3"})  # fmt: skip
    playbook.refresh_from_db()
    assert (playbook.name, playbook.is_active, playbook.lock_version) == (
        "Extrinsic gold v2",
        False,
        4,
    )
    response = client.post(
        reverse("web:playbook_item_delete", args=[item.pk]), {"lock_version": "4"}
    )
    assert response.status_code == 302 and not playbook.items.exists()
    response = client.post(
        reverse("web:playbook_delete", args=[playbook.pk]), {"lock_version": "5"}
    )
    assert response["Location"] == reverse("web:playbook_list")
    assert not Playbook.objects.filter(pk=playbook.pk).exists()


def test_a_stale_or_bad_edit_changes_nothing(login, admin_user):
    client = login(admin_user)
    playbook = PlaybookFactory(tier="iron", name="Iron")
    data = {"tier": "iron", "name": "Mine", "name_zh": "铁", "lock_version": "1"}
    Playbook.objects.filter(pk=playbook.pk).update(lock_version=2)  # someone else saved
    response = client.post(reverse("web:playbook_edit", args=[playbook.pk]), data)
    assert response.status_code == 409
    assert "Someone else changed this record" in response.content.decode()
    playbook.refresh_from_db()
    assert playbook.name == "Iron"
    # a second playbook for the same type and tier; an item every 0 days
    response = client.post(reverse("web:playbook_create"), {"tier": "iron", "name": "Again",
                                                            "name_zh": "再"})  # fmt: skip
    assert response.status_code == 400
    assert "There is already a playbook for this type and tier." in response.content.decode()
    response = client.post(reverse("web:playbook_item_create", args=[playbook.pk]), {
        "kind": "meeting", "our_role": "key_account_manager", "every_days": "0", "title": "x",
        "title_zh": "x", "lock_version": "2"})  # fmt: skip
    assert response.status_code == 400 and not playbook.items.exists()
    assert Playbook.objects.filter(tier="iron").count() == 1


def test_playbook_pages_take_a_fixed_number_of_queries(login, kam, django_assert_num_queries):
    client = login(kam)
    # session, user, roles; the playbooks with their items and editors; the strategies
    with django_assert_num_queries(6):
        client.get(reverse("web:playbook_list"))
    for tier in ("gold", "iron", "lead"):
        PlaybookFactory(tier=tier, items=[{"kind": "call", "every_days": 30, "title": "c",
                                            "title_zh": "c"}])  # fmt: skip
    with django_assert_num_queries(6):
        assert len(client.get(reverse("web:playbook_list")).context["playbooks"]) == 7


# --- the account 360 page ------------------------------------------------------------------


def test_the_account_page_has_its_engagement_section(login, kam, acme):
    response = login(kam).get(reverse("web:account_detail", args=[acme.pk]))
    html = response.content.decode()
    assert 'data-testid="engagement-section"' in html
    assert 'data-testid="engagement-flag-uncovered_decision_makers"' in html
    section = response.context["engagement"]
    assert section["coverage"].score == 60
    p = acme.people
    path = [f"c{p['coach'].pk}", f"c{p['eng'].pk}", f"c{p['cto'].pk}"]
    assert section["paths"] == [path]
    # the relationship map's data carries the path to highlight
    script = html.split('<script id="graph-data" type="application/json">')[1].split("</script>")[0]
    assert json.loads(script)["paths"] == [path]
    assert 'data-testid="map-coach-paths"' in html
    assert urlsplit(section["plan_url"]).query == f"account={acme.pk}"


def test_customer_contacts_see_no_engagement_on_the_account_page(login, portal_user, acme):
    ContactFactory(account=acme, user=portal_user)
    response = login(portal_user).get(reverse("web:account_detail", args=[acme.pk]))
    assert response.status_code == 200
    assert response.context["engagement"] is None
    assert response.context["graph"]["paths"] == []
    assert 'data-testid="engagement-section"' not in response.content.decode()


# --- the version read is required --------------------------------------------------------------


def test_playbook_changes_without_the_version_read_change_nothing(login, admin_user):
    client = login(admin_user)
    playbook = PlaybookFactory(tier="iron", items=[{
        "kind": "call", "our_role": "key_account_manager", "every_days": 30,
        "title": "Call", "title_zh": "电话",
    }])  # fmt: skip
    item = playbook.items.get()
    before = (playbook.name, playbook.lock_version, item.every_days)
    data = {"account_type": "", "tier": "iron", "name": "Changed", "name_zh": "改了",
            "is_active": "on"}  # fmt: skip
    missing = "The form does not say which version you edited"
    # the playbook form, no version: a clear error (400), nothing saved
    response = client.post(reverse("web:playbook_edit", args=[playbook.pk]), data)
    assert response.status_code == 400 and missing in response.content.decode()
    # the item form, no version
    item_data = {"kind": "call", "our_role": "key_account_manager", "every_days": 7,
                 "title": "Call", "title_zh": "电话"}  # fmt: skip
    response = client.post(reverse("web:playbook_item_edit", args=[item.pk]), item_data)
    assert response.status_code == 400 and missing in response.content.decode()
    response = client.post(reverse("web:playbook_item_create", args=[playbook.pk]), item_data)
    assert response.status_code == 400 and missing in response.content.decode()
    # removing an item or the playbook, no version: said, nothing removed
    response = client.post(reverse("web:playbook_item_delete", args=[item.pk]), follow=True)
    assert missing in response.content.decode()
    response = client.post(reverse("web:playbook_delete", args=[playbook.pk]), follow=True)
    assert missing in response.content.decode()
    playbook.refresh_from_db()
    item.refresh_from_db()
    assert (playbook.name, playbook.lock_version, item.every_days) == before
    assert playbook.items.count() == 1
    # a stale one is a conflict (409), nothing saved either
    stale = client.post(reverse("web:playbook_edit", args=[playbook.pk]),
                        {**data, "lock_version": 0})  # fmt: skip
    assert stale.status_code == 409
    stale = client.post(reverse("web:playbook_item_edit", args=[item.pk]),
                        {**item_data, "lock_version": 0})  # fmt: skip
    assert stale.status_code == 409
    client.post(reverse("web:playbook_delete", args=[playbook.pk]), {"lock_version": 0})
    playbook.refresh_from_db()
    assert (playbook.name, playbook.lock_version) == (before[0], before[1])
    # with the version read, it goes through
    ok = client.post(reverse("web:playbook_delete", args=[playbook.pk]),
                     {"lock_version": playbook.lock_version})  # fmt: skip
    assert ok.status_code == 302 and not Playbook.objects.filter(pk=playbook.pk).exists()


def test_the_report_filters_choose_people_by_name_not_by_number(login, kam, executive):
    client = login(executive)
    page = client.get(reverse("web:coverage_list"))
    html = page.content.decode()
    assert f'<option value="{kam.pk}">{kam}</option>' in html
    assert (
        f'<option value="{executive.pk}">{executive}</option>'
        in client.get(reverse("web:sponsor_overdue")).content.decode()
    )
    # a key account manager is no sponsor to choose: refused, not ignored
    bad = client.get(reverse("web:sponsor_overdue"), {"sponsor": str(kam.pk)})
    assert bad.status_code == 400 and "sponsor: Select a valid choice." in bad.content.decode()
